//! Code generation, from a checked model.

mod fields;
mod key;
mod model;

pub use fields::{nested_enum, nested_struct};
pub use model::model;
