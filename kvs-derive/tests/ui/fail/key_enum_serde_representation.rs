use kvs::{KeyValueStore, Nested};
use serde::{Deserialize, Serialize};

// serde writes an untagged unit variant as null, and an internally tagged one as a map:
// neither is the variant's name, so neither enum can be a key.
#[derive(Nested, Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
#[serde(untagged)]
enum Kind {
    A,
    B,
}

#[derive(Nested, Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
#[serde(tag = "type")]
enum Shape {
    Round,
    Square,
}

#[derive(KeyValueStore, Serialize, Deserialize)]
#[kvs(store = "things", partition_key = kind, sort_key = shape)]
struct Thing {
    kind: Kind,
    shape: Shape,
}

fn main() {}
