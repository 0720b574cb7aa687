//! Byte encodings: the compact value encoding items are stored and tokens carried in,
//! the order-preserving key encoding the embedded engine sorts by (and Cosmos DB orders
//! by, hex-encoded), and the key ranges of queries over it.

mod de;
mod key;
mod range;
pub(crate) mod value;

pub(crate) use de::deserialize_stored;
pub(crate) use key::with_table_key;
pub use key::{encode_key_value, encode_prefix, index_key, prefix_successor, table_key};
pub(crate) use range::KeyRange;
pub(crate) use value::decode_stored_item;
pub use value::{decode_item, decode_value, encode_item, encode_value};
