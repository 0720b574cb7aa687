use kvs::Nested;
use serde::{Deserialize, Serialize};

#[derive(Nested, Serialize, Deserialize)]
struct Address {
    city: String,
    #[kvs(version)]
    version: u64,
}

fn main() {}
