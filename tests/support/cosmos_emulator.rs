//! The Cosmos DB SDK's own in-memory emulator, in-process: each call makes a fresh
//! emulated account (nothing is shared between tests), reached through the real SDK
//! client (`azure_data_cosmos`), with the SDK's throttling retries off as kvs asks.

use std::sync::Arc;

use azure_core::credentials::Secret;
use azure_core::http::Url;
use azure_data_cosmos::options::Region;
use azure_data_cosmos::{
    AccountEndpoint, AccountReference, CosmosClient, CosmosClientBuilder, CosmosRuntimeBuilder,
    RoutingStrategy,
};
use azure_data_cosmos_driver::in_memory_emulator::{
    InMemoryEmulatorHttpClient, VirtualAccountConfig, VirtualRegion,
};
use kvs::cosmos::CosmosBackend;

/// The emulated account's endpoint: never resolved, the emulator answers in-process.
pub const ENDPOINT: &str = "https://eastus.emulator.local";

/// A fresh emulator.
pub fn emulator() -> Arc<InMemoryEmulatorHttpClient> {
    let region = VirtualRegion::new("East US", Url::parse(ENDPOINT).expect("a URL"));
    let config = VirtualAccountConfig::new(vec![region]).expect("an emulated account");
    Arc::new(InMemoryEmulatorHttpClient::new(config))
}

/// A client of `emulator`.
pub async fn client_of(emulator: &Arc<InMemoryEmulatorHttpClient>) -> CosmosClient {
    let runtime = CosmosRuntimeBuilder::from(emulator.runtime_builder())
        .build()
        .await
        .expect("a runtime on the emulator");
    // The emulator checks no signature: any base64 key will do.
    let account = AccountReference::with_authentication_key(
        ENDPOINT.parse::<AccountEndpoint>().expect("an endpoint"),
        Secret::new("dGVzdGtleQ=="),
    );
    CosmosClientBuilder::new()
        .with_runtime(runtime)
        .with_default_operation_options(kvs::cosmos::sdk_retries_off())
        .build(account, RoutingStrategy::ProximityTo(Region::EAST_US))
        .await
        .expect("a client on the emulator")
}

/// A client of a fresh emulator.
pub async fn client() -> CosmosClient {
    client_of(&emulator()).await
}

/// A backend on a fresh emulator, database `kvs`.
pub async fn backend() -> CosmosBackend {
    CosmosBackend::new(client().await, "kvs")
}
