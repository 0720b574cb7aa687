//! The seed's "Testing" story: user CRUD against the in-memory store.

use kvs::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(KeyValueStore, Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
#[kvs(store = "users", partition_key = user_id)]
pub struct User {
    user_id: String,
    email: String,
    name: String,
    login_count: i64,
}

impl User {
    fn new(user_id: &str, email: &str, name: &str) -> Self {
        User {
            user_id: user_id.into(),
            email: email.into(),
            name: name.into(),
            login_count: 0,
        }
    }
}

#[tokio::test]
async fn user_crud_operations() -> kvs::Result<()> {
    let users = Kvs::memory().store::<User>();
    users.ensure().await?;
    let f = User::fields();

    // Create
    let user = User::new("u-1", "test@example.com", "Test User");
    users.insert(&user).await?;
    // Read
    assert_eq!(users.get("u-1").await?, Some(user));
    // Update
    let updated = users
        .update("u-1")
        .set(f.name(), "Updated Name")
        .add(f.login_count(), 1)
        .await?;
    assert_eq!(updated.name, "Updated Name");
    assert_eq!(updated.login_count, 1);
    // Delete
    users.delete("u-1").await?;
    // Verify deletion
    assert_eq!(users.get("u-1").await?, None);
    Ok(())
}
