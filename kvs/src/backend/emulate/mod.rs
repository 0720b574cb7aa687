//! What a store engine cannot do natively, done once for every backend: filling exact
//! pages, counting by reading keys, running batches, the versioned conditional write, transaction reasons, and
//! the errors that say how a write came out.
//!
//! A backend calls these from its own methods (DynamoDB fills its pages and runs its
//! batches here), and a [`VersionedBackend`](super::VersionedBackend) gets every write,
//! update op and transaction from them through the trait's provided methods.

pub mod batch;
pub mod count;
pub mod outcome;
pub mod page;
pub mod txn;
pub mod versioned;

pub use batch::{BatchRunner, Pending, Round};
pub use page::{Chunk, PageFiller, fill_page};
pub use txn::{decide_all, reasons_by_reading};
pub use versioned::retry_conflicts;
