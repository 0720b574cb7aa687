use kvs::{KeyValueStore, Projection};
use serde::{Deserialize, Serialize};

#[derive(KeyValueStore, Serialize, Deserialize)]
#[kvs(store = "docs", partition_key = id)]
struct Doc {
    id: String,
    title: Option<String>,
    body: Option<String>,
}

// An alias would read another attribute where the backend hands serde the whole item
// (memory, the local file), and nothing where it asks only for the declared names.
#[derive(Projection, Deserialize)]
#[kvs(model = Doc)]
struct DocTitle {
    id: String,
    #[serde(alias = "body")]
    title: Option<String>,
}

fn main() {}
