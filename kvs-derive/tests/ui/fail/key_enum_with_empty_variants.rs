use kvs::{KeyValueStore, Nested};
use serde::{Deserialize, Serialize};

// Variants with no fields that are not unit variants: serde writes `A {}` as `{"A": {}}`
// and `A()` as `{"A": []}`, not as the variant's name, so neither enum can be a key.
#[derive(Nested, Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
enum Braces {
    A {},
    B,
}

#[derive(Nested, Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
enum Parens {
    A(),
    B,
}

#[derive(KeyValueStore, Serialize, Deserialize)]
#[kvs(store = "things", partition_key = braces, sort_key = parens)]
struct Thing {
    braces: Braces,
    parens: Parens,
}

fn main() {}
