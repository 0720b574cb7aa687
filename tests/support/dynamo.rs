//! DynamoDB servers for tests: dynoxide in-process, or moto through an environment
//! variable.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use kvs::Kvs;
use kvs::dynamodb::DynamoDbBackend;

/// A client for the DynamoDB endpoint at `endpoint` (plain HTTP, test credentials).
pub fn client(endpoint: &str) -> Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "kvs-tests"))
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    Client::from_conf(config)
}

/// Starts dynoxide (in memory) on a free 127.0.0.1 port, on the current tokio runtime:
/// it stops with the runtime. Returns its endpoint.
pub async fn start_dynoxide() -> String {
    let db = dynoxide::Database::memory().expect("an in-memory dynoxide database");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let addr = listener.local_addr().expect("the bound address");
    tokio::spawn(async move {
        let _ = dynoxide::server::serve_with_shutdown(listener, db, std::future::pending()).await;
    });
    format!("http://{addr}")
}

/// A handle on a fresh dynoxide server.
pub async fn dynoxide_kvs() -> Kvs {
    let endpoint = start_dynoxide().await;
    Kvs::new(DynamoDbBackend::new(&client(&endpoint)))
}
