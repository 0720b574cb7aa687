use kvs::KeyValueStore;
use serde::{Deserialize, Serialize};

// No store name, a sort key that is not a field, two indexes of one name, an index on a
// missing field and one on a bool: all five are reported by one build.
#[derive(KeyValueStore, Serialize, Deserialize)]
#[kvs(partition_key = id, sort_key = created)]
#[kvs(index(name = "byName", partition_key = name))]
#[kvs(index(name = "byName", partition_key = nick))]
#[kvs(index(name = "byActive", partition_key = active))]
struct User {
    id: String,
    name: String,
    active: bool,
}

fn main() {}
