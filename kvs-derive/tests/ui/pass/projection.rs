//! Projections that compile: of a model in another module, with a raw identifier, a
//! nested struct, an option, renamed fields, and used by every projected read.

mod model {
    use kvs::{KeyValueStore, Nested};
    use serde::{Deserialize, Serialize};

    #[derive(Nested, Serialize, Deserialize, Clone, Debug, PartialEq)]
    pub struct Address {
        pub city: String,
    }

    #[derive(KeyValueStore, Serialize, Deserialize, Clone, Debug)]
    #[serde(rename_all = "camelCase")]
    #[kvs(store = "people", partition_key = person_id)]
    #[kvs(index(name = "byCity", partition_key = city_name))]
    pub struct Person {
        pub person_id: String,
        pub city_name: String,
        pub r#type: String,
        pub address: Address,
        pub nickname: Option<String>,
        #[serde(rename = "the bio")]
        pub bio: String,
    }
}

use kvs::Projection;
use model::{Address, Person};
use serde::Deserialize;

#[derive(Projection, Deserialize, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[kvs(model = model::Person)]
struct Card {
    person_id: String,
    r#type: String,
    address: Address,
    nickname: Option<String>,
}

#[derive(Projection, Deserialize, Debug, PartialEq)]
#[kvs(model = Person)]
struct Bio {
    #[serde(rename = "the bio")]
    bio: String,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> kvs::Result<()> {
    let kvs = kvs::Kvs::memory();
    let people = kvs.store::<Person>();
    people.ensure().await?;
    people
        .upsert(&Person {
            person_id: "p-1".into(),
            city_name: "Oslo".into(),
            r#type: "admin".into(),
            address: Address { city: "Oslo".into() },
            nickname: None,
            bio: "long".into(),
        })
        .await?;
    let card = people.get_projected::<Card>("p-1").await?.expect("the person");
    assert_eq!(card.r#type, "admin");
    assert_eq!(card.nickname, None);
    let bios = people.get_many_projected::<Bio, _>(["p-1", "p-2"]).await?;
    assert_eq!(bios, vec![Some(Bio { bio: "long".into() }), None]);
    let page = people.query(Person::by_city("Oslo")).project::<Card>().await?;
    assert_eq!(page.items, vec![card]);
    let page = people.scan().project::<Bio>().await?;
    assert_eq!(page.items.len(), 1);
    Ok(())
}
