//! The whole conformance suite on Cosmos DB again, against @vercel/cosmosdb-server: a
//! second, independent server (Node, from npm) reached over HTTPS by the real SDK, so
//! that the backend is not only right for the SDK's in-memory emulator
//! (tests/cosmos.rs). It runs behind a small adapter (scripts/cosmosdb-server/adapter.js)
//! that fixes the protocol differences the SDK cannot get past.
//!
//! The server runs outside the test process. `.ci/run` installs and starts it; locally:
//!
//! ```sh
//! scripts/cosmosdb-server.sh install
//! eval "$(scripts/cosmosdb-server.sh start)"   # KVS_COSMOS_ENDPOINT, KVS_COSMOS_KEY, ...
//! cargo test --test cosmos_server
//! scripts/cosmosdb-server.sh stop
//! ```
//!
//! Without `KVS_COSMOS_ENDPOINT` every case prints `SKIPPED` and passes, except in CI
//! (`CI` set) or under `.ci/run` (`KVS_REQUIRE_COSMOS_SERVER=1`), where a missing server
//! fails every case. Every case works in a database of its own.

mod support {
    pub mod env;
}

use std::sync::atomic::{AtomicU64, Ordering};

use kvs::conformance::Divergence;
use support::env::flag;

async fn kvs() -> Option<kvs::Kvs> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let (Some(endpoint), Some(key)) = (var("KVS_COSMOS_ENDPOINT"), var("KVS_COSMOS_KEY")) else {
        if flag("CI") || flag("KVS_REQUIRE_COSMOS_SERVER") {
            panic!(
                "KVS_COSMOS_ENDPOINT is not set, but @vercel/cosmosdb-server must run here (CI \
                 or KVS_REQUIRE_COSMOS_SERVER is set): .ci/run starts it with \
                 scripts/cosmosdb-server.sh; by hand, run `scripts/cosmosdb-server.sh install \
                 && eval \"$(scripts/cosmosdb-server.sh start)\"`"
            );
        }
        return None;
    };
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let database = format!(
        "kvs-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let backend = kvs::cosmos::CosmosBackend::with_key(endpoint.trim(), key.trim(), database)
        .await
        .expect("a client of the server");
    Some(kvs::Kvs::new(backend))
}

/// Where @vercel/cosmosdb-server 1.0.1 (behind the adapter) is not Cosmos DB: each case
/// below passes on the SDK's in-memory emulator; it is reported as skipped with the
/// reason, after running to check that it still fails; every other case runs.
const SERVER_DIVERGENCES: &[Divergence] = &[];

kvs::conformance_tests!(optional kvs, known = SERVER_DIVERGENCES, random = kvs::conformance::Random::cases(8));
