use kvs::Projection;
use serde::Deserialize;

// A projection names its model.
#[derive(Projection, Deserialize)]
struct OrderTotal {
    order_id: String,
    total: f64,
}

fn main() {}
