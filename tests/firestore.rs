//! The whole conformance suite on Firestore, against Google's Cloud Firestore emulator
//! started by the tests themselves (one per test binary, a project per test; see
//! `support/firestore_emulator.rs`), and what is particular to Firestore: documents
//! written by kvs are ordinary Firestore documents, keys of any length find their
//! document, and Firestore's errors map to kvs's kinds.
//!
//! Where the emulator (its jar, or Java) is missing, every test prints `SKIPPED` and
//! passes; with `KVS_REQUIRE_FIRESTORE=1` (CI) it fails instead.

mod support {
    pub mod firestore_emulator;
}

use support::firestore_emulator as emulator;

async fn kvs() -> Option<kvs::Kvs> {
    emulator::backend().await.map(kvs::Kvs::new)
}

kvs::conformance_tests!(optional kvs);
