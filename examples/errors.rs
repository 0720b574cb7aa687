//! Handling errors by kind, as the seed's `safeUpdate` does: every kvs error has a
//! `kind()` to match on, and the application maps each kind to its own outcome.
//!
//! - NotFound (an update of a missing item; nothing is created) -> log, `None`
//! - ConditionFailed (the update's condition was false; nothing changed) -> log, `None`
//! - Validation (an empty key, a NaN, ...; nothing was written) -> INVALID_DATA
//! - anything else (StoreNotFound, Unavailable, ...) -> passed on
//!
//! plus AlreadyExists on insert and InvalidPageToken on a query.
//!
//! Run it with `cargo run --example errors`.

use kvs::prelude::*;
use kvs::typed::{IntoKey, TypedUpdate};
use kvs::{Page, PageToken};
use serde::{Deserialize, Serialize};

#[derive(KeyValueStore, Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
#[kvs(store = "users", partition_key = user_id)]
pub struct User {
    user_id: String,
    name: String,
    score: f64,
    login_count: i64,
}

/// A store this program never creates (`ensure`s).
#[derive(KeyValueStore, Serialize, Deserialize, Debug, Clone, PartialEq)]
#[kvs(store = "audit", partition_key = id)]
pub struct Audit {
    id: String,
    count: i64,
}

/// The application's own errors.
#[derive(Debug)]
enum AppError {
    /// The seed's INVALID_DATA.
    InvalidData(String),
    /// A user with this id exists already.
    UserExists,
    /// A page token that did not come from us (or from this query).
    BadPageToken,
    /// Anything the application does not handle itself.
    Store(kvs::Error),
}

/// The seed's `safeUpdate`: runs the update built by `updates` on the item `key`, and
/// maps the error kinds the application expects.
async fn safe_update<M: Model, K: IntoKey<M> + std::fmt::Debug>(
    store: &Store<M>,
    key: K,
    updates: impl FnOnce(TypedUpdate<M>) -> TypedUpdate<M>,
) -> Result<Option<M>, AppError> {
    let shown = format!("{key:?}");
    match updates(store.update(key)).await {
        Ok(item) => Ok(Some(item)),
        Err(e) => match e.kind() {
            ErrorKind::NotFound => {
                println!("  WARN item {shown} not found");
                Ok(None)
            }
            ErrorKind::ConditionFailed => {
                println!("  WARN conditional check failed");
                Ok(None)
            }
            ErrorKind::Validation => Err(AppError::InvalidData(e.message().to_owned())),
            _ => Err(AppError::Store(e)),
        },
    }
}

async fn create_user(users: &Store<User>, user: &User) -> Result<(), AppError> {
    users.insert(user).await.map_err(|e| match e.kind() {
        ErrorKind::AlreadyExists => AppError::UserExists,
        ErrorKind::Validation => AppError::InvalidData(e.message().to_owned()),
        _ => AppError::Store(e),
    })
}

/// A page of users of one partition, continuing from a token a client sent back.
async fn page_from_client(users: &Store<User>, token: &str) -> Result<Page<User>, AppError> {
    let token = PageToken::from(token.to_owned());
    users
        .query(User::partition("u-1"))
        .page_token(token)
        .await
        .map_err(|e| match e.kind() {
            ErrorKind::InvalidPageToken => AppError::BadPageToken,
            _ => AppError::Store(e),
        })
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AppError::InvalidData(why) => write!(f, "INVALID_DATA ({why})"),
            AppError::UserExists => f.write_str("USER_EXISTS"),
            AppError::BadPageToken => f.write_str("BAD_PAGE_TOKEN"),
            AppError::Store(e) => write!(f, "passed on: {e}"),
        }
    }
}

/// Prints an outcome: what the application got back.
fn show<T: std::fmt::Debug>(what: &str, outcome: &Result<T, AppError>) {
    match outcome {
        Ok(value) => println!("{what:<36} -> {value:?}"),
        Err(e) => println!("{what:<36} -> {e}"),
    }
}

#[tokio::main]
async fn main() -> kvs::Result<()> {
    // The embedded store in kvs-data/errors.redb, or the backend KVS_BACKEND names.
    let kvs = kvs_examples::open("errors").await?;
    let users = kvs.store::<User>();
    users.ensure().await?;
    kvs_examples::empty(&users).await?;
    let ada = User {
        user_id: "u-1".into(),
        name: "Ada".into(),
        score: 1.5,
        login_count: 0,
    };
    users.insert(&ada).await?;
    let f = User::fields();

    // Success.
    let r = safe_update(&users, "u-1", |u| u.add(f.login_count(), 1)).await;
    show("update u-1", &r);
    assert!(matches!(r, Ok(Some(User { login_count: 1, .. }))));

    // NotFound: u-9 does not exist, and the update does not create it.
    let r = safe_update(&users, "u-9", |u| u.add(f.login_count(), 1)).await;
    show("update missing u-9", &r);
    assert!(matches!(r, Ok(None)));
    assert_eq!(users.get("u-9").await?, None);

    // ConditionFailed: the condition is false, so nothing changes.
    let r = safe_update(&users, "u-1", |u| {
        u.set(f.name(), "Eve").when(f.login_count().eq(0))
    })
    .await;
    show("update u-1 if loginCount = 0", &r);
    assert!(matches!(r, Ok(None)));
    assert_eq!(
        users.get("u-1").await?.map(|u| u.name),
        Some("Ada".to_string())
    );

    // Validation: values the contract refuses, before anything is written.
    let r = safe_update(&users, "u-1", |u| u.set(f.score(), f64::NAN)).await;
    show("set score = NaN", &r);
    assert!(matches!(r, Err(AppError::InvalidData(_))));
    let r = safe_update(&users, "", |u| u.add(f.login_count(), 1)).await;
    show("update the empty key \"\"", &r);
    assert!(matches!(r, Err(AppError::InvalidData(_))));
    let r = create_user(
        &users,
        &User {
            user_id: String::new(),
            ..ada.clone()
        },
    )
    .await;
    show("insert a user with the empty key \"\"", &r);
    assert!(matches!(r, Err(AppError::InvalidData(_))));

    // AlreadyExists: insert never overwrites.
    let r = create_user(
        &users,
        &User {
            name: "Impostor".into(),
            ..ada.clone()
        },
    )
    .await;
    show("insert u-1 again", &r);
    assert!(matches!(r, Err(AppError::UserExists)));
    assert_eq!(
        users.get("u-1").await?.map(|u| u.name),
        Some("Ada".to_string())
    );

    // StoreNotFound: the audit store was never ensured. safeUpdate passes it on. (A
    // Firestore collection exists without being created, which the backend declares:
    // there the update finds no item.)
    let audit = kvs.store::<Audit>();
    let r = safe_update(&audit, "a-1", |u| u.add(Audit::fields().count(), 1)).await;
    show("update in a store never ensured", &r);
    if kvs.capabilities().implicit_stores {
        assert!(matches!(r, Ok(None)));
    } else {
        assert!(matches!(&r, Err(AppError::Store(e)) if e.kind() == &ErrorKind::StoreNotFound));
    }

    // InvalidPageToken: a token that kvs did not make for this query.
    let r = page_from_client(&users, "not-a-token").await;
    show("query with a made-up page token", &r);
    assert!(matches!(r, Err(AppError::BadPageToken)));

    // Through it all, u-1 changed once: the one successful update.
    let u1 = users.get("u-1").await?;
    println!("u-1 at the end: {u1:?}");
    assert_eq!(
        u1,
        Some(User {
            login_count: 1,
            ..ada
        })
    );
    Ok(())
}
