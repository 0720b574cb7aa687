//! The whole conformance suite on Cosmos DB, against the SDK's own in-memory emulator
//! in-process (a fresh account per test; see `support/cosmos_emulator.rs`), and what is
//! particular to Cosmos DB: documents written by kvs are plain JSON that plain SDK calls
//! read, keys of any length find their document, and Cosmos DB's limits are said before
//! anything is sent.

mod support {
    pub mod cosmos_emulator;
}

use support::cosmos_emulator as emulator;

async fn kvs() -> kvs::Kvs {
    kvs::Kvs::new(emulator::backend().await)
}

kvs::conformance_tests!(kvs, random = kvs::conformance::Random::cases(24));
