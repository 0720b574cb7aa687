//! Fault injection for `azure_data_cosmos` 1.0.0 clients running on the SDK's
//! in-memory emulator (in-process, no network).
//!
//! # How it works
//!
//! `InMemoryEmulatorHttpClient::runtime_builder()` plugs the emulator in as
//! the driver's *transport* (`azure_data_cosmos_driver::test::TransportClient`,
//! reached through an `HttpClientFactory`), below the SDK's whole operation
//! pipeline (routing, retries, diagnostics). This module replaces that
//! factory with its own (`CosmosDriverRuntimeBuilder::with_mock_http_client_factory`),
//! whose transport consults a shared [`Faults`] handle on every request and
//! either answers it with a fault or forwards it to the emulator
//! (`InMemoryEmulatorHttpClient::execute_request`). The SDK therefore sees
//! exactly what a real transport would hand it: an HTTP response (429, 503)
//! or a `TransportError` carrying the "request sent?" flag its retry policy
//! looks at.
//!
//! `azure_core::http::HttpClient` is *not* the seam: the 1.0.0 emulator no
//! longer implements it and the SDK has no policy hook. The SDK's own
//! `fault_injection` feature (`azure_data_cosmos/fault_injection`,
//! `CosmosClientBuilder::with_fault_injection_rules`) also works on the
//! emulator, but its rules are fixed when the client is built (a throttle's
//! retry-after is baked into the rule, filters are operation type / container
//! only), so a dynamic `fail_next(n, ..)` handle is simpler this way.
//!
//! # Required dev-dependency features
//!
//! ```toml
//! azure_data_cosmos_driver = { version = "=1.0.0", features = ["__internal_in_memory_emulator", "__internal_mocking"] }
//! async-trait = "0.1"
//! ```
//! (`__internal_mocking` exposes `azure_data_cosmos_driver::test` and
//! `with_mock_http_client_factory`; both are unstable internal test APIs,
//! pinned by `=1.0.0`.)
//!
//! # SDK retries
//!
//! Left alone, the SDK retries on its own (measured with this module):
//! - 429: throttling retries, default 18 (19 requests), honouring
//!   `x-ms-retry-after-ms`. Off: `ThrottlingRetryOptionsBuilder::with_max_retry_count(0)`.
//! - 503 (also 408, 410, 500 on reads) and transport errors: failover
//!   retries, default 3, no delay, writes included. Off:
//!   `OperationOptionsBuilder::with_max_failover_retry_count(0)`.
//! - transport errors (connection failure, and also a timeout or lost
//!   response for every operation but stored procedures / unsafe patch):
//!   one more attempt on another HTTP/2 connection, *inside* each of the
//!   above (so 8 requests by default, 2 with failover retries off). A create
//!   whose response was lost then comes back as 409. This is a connection
//!   pool (runtime) setting, not an operation option. Off:
//!   `ConnectionPoolOptionsBuilder::with_max_http2_connections_per_endpoint(1)`
//!   (or `with_is_http2_allowed(false)`).
//!
//! [`faulty_client`] turns all three off, so one call is one request and a
//! fault reaches the caller unretried. Use [`faulty_client_with`] for other
//! settings (e.g. the ones the code under test uses in production).
//!
//! # Example
//!
//! ```ignore
//! let (client, faults) = faulty_client().await;
//! faults.fail_next(1, Fault::Throttle { retry_after_ms: 250 });
//! let err = container.read_item("pk", "id", None).await.unwrap_err();
//! assert_eq!(u16::from(err.status().status_code()), 429);
//! ```
#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use azure_core::credentials::Secret;
use azure_core::http::headers::{HeaderName, HeaderValue, Headers};
use azure_core::http::{Method, Request, Url};
use azure_data_cosmos::options::{ConnectionPoolOptionsBuilder, OperationOptions, Region};
use azure_data_cosmos::{
    AccountEndpoint, AccountReference, CosmosClient, CosmosClientBuilder, CosmosRuntimeBuilder,
    RoutingStrategy,
};
use azure_data_cosmos_driver::diagnostics::RequestSentStatus;
use azure_data_cosmos_driver::error::{CosmosError, status_codes};
use azure_data_cosmos_driver::in_memory_emulator::{
    InMemoryEmulatorHttpClient, VirtualAccountConfig, VirtualRegion,
};
use azure_data_cosmos_driver::test::{
    ConnectionPoolOptions, HttpClientConfig, HttpClientFactory, HttpRequest, HttpResponse,
    TransportClient, TransportError,
};

/// Endpoint of the single virtual region ("East US") of the emulator.
pub const EMULATOR_URL: &str = "https://eastus.emulator.local";

/// Sub-status the service sends with a request-rate 429.
pub const THROTTLE_SUB_STATUS: u32 = 3200;

/// What to do with a matching request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Answer `429 Too Many Requests`, sub-status 3200, header
    /// `x-ms-retry-after-ms: retry_after_ms`. Not applied in the emulator.
    /// The caller sees `CosmosError` status 429/3200, `is_from_wire() == true`,
    /// `e.response().and_then(|r| r.headers().retry_after_ms)` == the delay.
    Throttle { retry_after_ms: u64 },
    /// Answer `503 Service Unavailable` (no sub-status). Not applied.
    /// The caller sees 503, no sub-status, `is_from_wire() == true`.
    Unavailable,
    /// Connection failure before anything was sent (`RequestSentStatus::NotSent`).
    /// Not applied. The caller sees 503/20003 (`TransportGenerated503`),
    /// `is_from_wire() == false`, no response; the source error is 503/20010.
    Transport,
    /// Response timeout with the request possibly sent (`RequestSentStatus::Unknown`),
    /// but in fact not forwarded: nothing is applied. Caller: 503/20003,
    /// `is_from_wire() == false` (source 503/20011).
    Timeout,
    /// Forward the request to the emulator (it is applied there), drop the
    /// response and report a response timeout (`RequestSentStatus::Unknown`).
    /// The caller sees the same error as [`Fault::Timeout`]. Use it to test
    /// "the write happened but we don't know".
    AfterApply,
}

/// Which requests a fault applies to. All set criteria must match.
///
/// Item operations go to `…/dbs/{db}/colls/{coll}/docs[/{id}]`: read = GET
/// `…/docs/{id}`, create / upsert / query / batch = POST `…/docs` (upsert with
/// header `x-ms-documentdb-is-upsert`, query with `x-ms-documentdb-isquery`,
/// batch with `x-ms-cosmos-is-batch-request`), replace = PUT, delete = DELETE.
/// Metadata requests (account `/`, container `…/colls/{coll}`, partition key
/// ranges `…/pkranges`) also pass through the transport.
#[derive(Clone, Debug, Default)]
pub struct Match {
    method: Option<Method>,
    path_contains: Option<String>,
    header: Option<String>,
}

impl Match {
    /// Every request, metadata included.
    pub fn any() -> Self {
        Self::default()
    }
    /// Item, query and batch requests (path contains `/docs`).
    pub fn docs() -> Self {
        Self::any().path_contains("/docs")
    }
    /// Only requests with this HTTP method.
    pub fn method(mut self, method: Method) -> Self {
        self.method = Some(method);
        self
    }
    /// Only requests whose URL path contains `s` (e.g. `"/docs/k1"`, `"/colls/items/"`).
    pub fn path_contains(mut self, s: impl Into<String>) -> Self {
        self.path_contains = Some(s.into());
        self
    }
    /// Only requests carrying this header (any value), e.g. `"x-ms-cosmos-is-batch-request"`.
    pub fn header(mut self, name: impl Into<String>) -> Self {
        self.header = Some(name.into().to_ascii_lowercase());
        self
    }

    fn matches(&self, req: &HttpRequest) -> bool {
        self.matches_parts(&req.method, req.url.path(), |h| {
            req.headers
                .iter()
                .any(|(n, _)| n.as_str().eq_ignore_ascii_case(h))
        })
    }

    fn matches_parts(
        &self,
        method: &Method,
        path: &str,
        has_header: impl Fn(&str) -> bool,
    ) -> bool {
        self.method.as_ref().is_none_or(|m| m == method)
            && self
                .path_contains
                .as_ref()
                .is_none_or(|p| path.contains(p.as_str()))
            && self.header.as_deref().is_none_or(has_header)
    }
}

/// One request seen by the transport, in order.
#[derive(Clone, Debug)]
pub struct SeenRequest {
    pub method: Method,
    pub path: String,
    /// Names of its headers, lower case.
    pub headers: Vec<String>,
    /// The fault applied to it, if any.
    pub fault: Option<Fault>,
}

#[derive(Debug)]
struct Armed {
    matcher: Match,
    fault: Fault,
    remaining: u32,
}

#[derive(Debug, Default)]
struct State {
    armed: VecDeque<Armed>,
    log: Vec<SeenRequest>,
}

/// Cloneable control handle for the faults in front of one emulator.
///
/// Armed faults are checked in the order they were armed; the first one that
/// matches a request and has hits left is applied (and its count decremented).
#[derive(Clone, Debug)]
pub struct Faults {
    state: Arc<Mutex<State>>,
    seen: Arc<AtomicU64>,
    injected: Arc<AtomicU64>,
    emulator: Arc<InMemoryEmulatorHttpClient>,
}

impl Faults {
    fn new(emulator: Arc<InMemoryEmulatorHttpClient>) -> Self {
        Self {
            state: Arc::default(),
            seen: Arc::default(),
            injected: Arc::default(),
            emulator,
        }
    }

    /// Fail the next `n` item/query/batch requests ([`Match::docs`]) with `fault`.
    pub fn fail_next(&self, n: u32, fault: Fault) {
        self.fail_next_matching(n, fault, Match::docs());
    }

    /// Fail the next `n` requests matching `matcher` with `fault`.
    pub fn fail_next_matching(&self, n: u32, fault: Fault, matcher: Match) {
        if n == 0 {
            return;
        }
        self.state.lock().unwrap().armed.push_back(Armed {
            matcher,
            fault,
            remaining: n,
        });
    }

    /// Disarm every pending fault.
    pub fn clear(&self) {
        self.state.lock().unwrap().armed.clear();
    }

    /// Number of faults still armed (sum of remaining hits).
    pub fn pending(&self) -> u32 {
        self.state
            .lock()
            .unwrap()
            .armed
            .iter()
            .map(|a| a.remaining)
            .sum()
    }

    /// Requests that reached the transport (faulted or not), metadata included.
    pub fn seen(&self) -> u64 {
        self.seen.load(Ordering::SeqCst)
    }

    /// Requests that had a fault applied.
    pub fn injected(&self) -> u64 {
        self.injected.load(Ordering::SeqCst)
    }

    /// Requests seen so far that match `matcher` (e.g. to count SDK retries).
    /// A header criterion matches requests that carried the header.
    pub fn seen_matching(&self, matcher: &Match) -> usize {
        self.state
            .lock()
            .unwrap()
            .log
            .iter()
            .filter(|r| {
                matcher.matches_parts(&r.method, &r.path, |h| r.headers.iter().any(|n| n == h))
            })
            .count()
    }

    /// Every request seen so far, in order.
    pub fn log(&self) -> Vec<SeenRequest> {
        self.state.lock().unwrap().log.clone()
    }

    /// The emulator behind the faults (e.g. `.store()` to provision or inspect
    /// without going through the faulty transport).
    pub fn emulator(&self) -> &Arc<InMemoryEmulatorHttpClient> {
        &self.emulator
    }

    /// Picks the fault for `req` (if any) and records the request.
    fn take(&self, req: &HttpRequest) -> Option<Fault> {
        self.seen.fetch_add(1, Ordering::SeqCst);
        let mut st = self.state.lock().unwrap();
        let mut fault = None;
        if let Some(i) = st.armed.iter().position(|a| a.matcher.matches(req)) {
            let a = &mut st.armed[i];
            a.remaining -= 1;
            fault = Some(a.fault);
            if a.remaining == 0 {
                st.armed.remove(i);
            }
        }
        st.log.push(SeenRequest {
            method: req.method,
            path: req.url.path().to_string(),
            headers: req
                .headers
                .iter()
                .map(|(n, _)| n.as_str().to_ascii_lowercase())
                .collect(),
            fault,
        });
        if fault.is_some() {
            self.injected.fetch_add(1, Ordering::SeqCst);
        }
        fault
    }
}

/// Builds a client on a fresh in-memory emulator (one "East US" region at
/// [`EMULATOR_URL`], no databases) with a [`Faults`] handle in front of it and
/// every SDK retry off: [`no_sdk_retries`] as the client's default operation
/// options and [`single_connection_pool`] as its connection pool.
pub async fn faulty_client() -> (CosmosClient, Faults) {
    faulty_client_with(no_sdk_retries(), Some(single_connection_pool())).await
}

/// Operation options with the SDK's throttling (429) and failover (503, 408,
/// 410, transport error) retries off: kvs's own, which it also gives every call.
pub fn no_sdk_retries() -> OperationOptions {
    kvs::cosmos::sdk_retries_off()
}

/// A connection pool with one HTTP/2 connection per endpoint, which stops the
/// driver's extra "retry on another connection" attempt after a transport error.
pub fn single_connection_pool() -> ConnectionPoolOptions {
    ConnectionPoolOptionsBuilder::new()
        .with_max_http2_connections_per_endpoint(1)
        .build()
        .expect("connection pool options")
}

/// Like [`faulty_client`] with the given client-wide default operation options
/// and connection pool (`None`: the SDK's default pool, HTTP/2 with several
/// connections per endpoint, which retries a transport error once on another
/// connection).
pub async fn faulty_client_with(
    default_options: OperationOptions,
    connection_pool: Option<ConnectionPoolOptions>,
) -> (CosmosClient, Faults) {
    let emulator = Arc::new(InMemoryEmulatorHttpClient::new(
        VirtualAccountConfig::new(vec![VirtualRegion::new(
            "East US",
            Url::parse(EMULATOR_URL).expect("emulator url"),
        )])
        .expect("emulator account config"),
    ));
    let faults = Faults::new(Arc::clone(&emulator));
    let factory = Arc::new(FaultyFactory {
        faults: faults.clone(),
    });
    let mut runtime = CosmosRuntimeBuilder::from(
        emulator
            .runtime_builder()
            .with_mock_http_client_factory(factory),
    );
    if let Some(pool) = connection_pool {
        runtime = runtime.with_connection_pool(pool);
    }
    let runtime = runtime.build().await.expect("cosmos runtime on emulator");
    let account = AccountReference::with_authentication_key(
        EMULATOR_URL.parse::<AccountEndpoint>().expect("endpoint"),
        // Any base64 works: the emulator does not check signatures.
        Secret::new("dGVzdGtleQ=="),
    );
    let client = CosmosClientBuilder::new()
        .with_runtime(runtime)
        .with_default_operation_options(default_options)
        .build(account, RoutingStrategy::ProximityTo(Region::EAST_US))
        .await
        .expect("cosmos client on emulator");
    (client, faults)
}

// ---- transport plumbing ---------------------------------------------------------------

#[derive(Debug)]
struct FaultyFactory {
    faults: Faults,
}

impl HttpClientFactory for FaultyFactory {
    fn build(
        &self,
        _pool: &ConnectionPoolOptions,
        _config: HttpClientConfig,
    ) -> azure_data_cosmos_driver::error::Result<Arc<dyn TransportClient>> {
        Ok(Arc::new(FaultyTransport {
            faults: self.faults.clone(),
        }))
    }
}

#[derive(Debug)]
struct FaultyTransport {
    faults: Faults,
}

#[async_trait::async_trait]
impl TransportClient for FaultyTransport {
    async fn send(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        match self.faults.take(request) {
            None => forward(&self.faults.emulator, request).await,
            Some(Fault::Throttle { retry_after_ms }) => Ok(synthetic(
                429,
                Some(THROTTLE_SUB_STATUS),
                Some(retry_after_ms),
                "TooManyRequests",
                "Request rate is large (injected fault)",
            )),
            Some(Fault::Unavailable) => Ok(synthetic(
                503,
                None,
                None,
                "ServiceUnavailable",
                "Service is currently unavailable (injected fault)",
            )),
            Some(Fault::Transport) => Err(transport_error(
                status_codes::TRANSPORT_CONNECTION_FAILED,
                "injected fault: connection refused",
                RequestSentStatus::NotSent,
            )),
            Some(Fault::Timeout) => Err(transport_error(
                status_codes::TRANSPORT_IO_FAILED,
                "injected fault: response timeout (request not applied)",
                RequestSentStatus::Unknown,
            )),
            Some(Fault::AfterApply) => {
                // Applied in the emulator whatever its answer; the answer is lost.
                let _ = forward(&self.faults.emulator, request).await;
                Err(transport_error(
                    status_codes::TRANSPORT_IO_FAILED,
                    "injected fault: response lost after the request was applied",
                    RequestSentStatus::Unknown,
                ))
            }
        }
    }
}

fn transport_error(
    status: azure_data_cosmos_driver::error::CosmosStatus,
    message: &str,
    sent: RequestSentStatus,
) -> TransportError {
    let e = CosmosError::builder()
        .with_status(status)
        .with_message(message.to_string())
        .build();
    TransportError::new(e, sent)
}

fn synthetic(
    status: u16,
    sub_status: Option<u32>,
    retry_after_ms: Option<u64>,
    code: &str,
    message: &str,
) -> HttpResponse {
    let mut headers = Headers::new();
    let mut set = |name: &'static str, value: String| {
        headers.insert(HeaderName::from_static(name), HeaderValue::from(value));
    };
    set("content-type", "application/json".into());
    set(
        "x-ms-activity-id",
        "00000000-0000-0000-0000-00000000fa17".into(),
    );
    set("x-ms-request-charge", "0".into());
    if let Some(s) = sub_status {
        set("x-ms-substatus", s.to_string());
    }
    if let Some(ms) = retry_after_ms {
        set("x-ms-retry-after-ms", ms.to_string());
    }
    HttpResponse {
        status,
        headers,
        body: serde_json::json!({ "code": code, "message": message })
            .to_string()
            .into_bytes(),
    }
}

/// Sends `request` to the emulator, as the emulator's own transport adapter does.
async fn forward(
    emulator: &InMemoryEmulatorHttpClient,
    request: &HttpRequest,
) -> Result<HttpResponse, TransportError> {
    let mut core = Request::new(request.url.clone(), request.method);
    for (name, value) in request.headers.iter() {
        core.headers_mut().insert(name.clone(), value.clone());
    }
    if let Some(body) = &request.body {
        core.set_body(body.to_vec());
    }
    let response = emulator
        .execute_request(&core)
        .await
        .map_err(|e| TransportError::new(e, RequestSentStatus::Unknown))?;
    let raw = response.try_into_raw_response().await.map_err(|e| {
        transport_error(
            status_codes::TRANSPORT_BODY_READ_FAILED,
            &e.to_string(),
            RequestSentStatus::Sent,
        )
    })?;
    Ok(HttpResponse {
        status: u16::from(raw.status()),
        headers: raw.headers().clone(),
        body: raw.body().as_ref().to_vec(),
    })
}
