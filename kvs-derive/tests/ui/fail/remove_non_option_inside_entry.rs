use std::collections::HashMap;

use kvs::{KeyValueStore, Nested};
use serde::{Deserialize, Serialize};

#[derive(Nested, Serialize, Deserialize)]
struct Address {
    city: String,
    zip: Option<String>,
}

#[derive(KeyValueStore, Serialize, Deserialize)]
#[kvs(store = "users", partition_key = id)]
struct User {
    id: String,
    addresses: HashMap<String, Address>,
}

fn main() {
    let kvs = kvs::Kvs::memory();
    let f = User::fields();
    // A whole entry may be removed, and its optional zip; not the city it must have.
    let _ = kvs.store::<User>().update("u-1").remove(f.addresses().entry("home"));
    let _ = kvs.store::<User>().update("u-1").remove(f.addresses().entry("home").zip());
    let _ = kvs.store::<User>().update("u-1").remove(f.addresses().entry("home").city());
}
