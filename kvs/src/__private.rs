//! What generated code uses. Not public API: no stability promise.

pub use crate::typed::key_value;
pub use serde;
pub use std;
