//! A fake DynamoDB HTTP server for fault injection: it answers what the test says,
//! including what real emulators never do (throttling, unprocessed keys, a connection
//! that breaks after the request was sent).
//!
//! It speaks just enough HTTP/1.1 for the SDK: requests with a `Content-Length` (or
//! chunked) body, several requests per connection (the SDK reuses connections), and the
//! operation taken from `X-Amz-Target: DynamoDB_20120810.<Operation>`. Each request is
//! handed to the test's handler with its JSON body and its index among the calls of
//! that operation (from 0); the server counts calls per operation, keeps the bodies,
//! and records the most requests it was handling at once.
//!
//! To test how many requests a client keeps in flight, a server can hold requests at a
//! gate ([`FakeDynamo::start_gated`]) until a given number are in flight at once,
//! instead of only delaying them: with a delay alone, a thread preempted for longer
//! than the delay (a loaded CI machine) lets the first request finish before the last
//! one arrives, and the maximum seen is lower than what the client does.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How long a gated request waits for the gate's bound to be reached before it goes on
/// anyway (and opens the gate for all). Generous: on a correct client the bound is
/// reached in milliseconds, and only a client that never sends that many at once (a
/// bug, which the test's assertion on `max_in_flight` then reports) waits this long.
const GATE_TIMEOUT: Duration = Duration::from_secs(10);

/// What the server does with one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Answer with this HTTP status and JSON body.
    Json { status: u16, body: Value },
    /// Close the connection without answering: the request was received, so its
    /// outcome is unknown to the client.
    Close,
}

impl Reply {
    /// `200 OK` with `body`.
    pub fn ok(body: Value) -> Reply {
        Reply::Json { status: 200, body }
    }

    /// A DynamoDB error: `status` and a body with `__type` and `message`.
    pub fn error(status: u16, short_type: &str, message: &str) -> Reply {
        Reply::Json {
            status,
            body: json!({
                "__type": format!("com.amazonaws.dynamodb.v20120810#{short_type}"),
                "message": message,
            }),
        }
    }

    /// `ProvisionedThroughputExceededException` (HTTP 400): nothing was done.
    pub fn throttled() -> Reply {
        Reply::error(
            400,
            "ProvisionedThroughputExceededException",
            "The level of configured provisioned throughput for the table was exceeded.",
        )
    }
}

type Handler = dyn Fn(&str, Value, usize) -> Reply + Send + Sync + 'static;

#[derive(Default)]
struct Stats {
    /// Bodies of the requests received, by operation, in the order received.
    requests: Mutex<HashMap<String, Vec<Value>>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

/// Holds requests until `bound` are in flight at once; then it stays open.
struct Gate {
    bound: usize,
    /// True once open.
    open: watch::Sender<bool>,
}

struct State {
    handler: Box<Handler>,
    delay: Duration,
    gate: Option<Gate>,
    stats: Stats,
}

/// A running fake server; it stops accepting connections when dropped.
pub struct FakeDynamo {
    addr: SocketAddr,
    state: Arc<State>,
    accept: JoinHandle<()>,
}

impl Drop for FakeDynamo {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl FakeDynamo {
    /// Starts a server on a free 127.0.0.1 port, answering at once.
    pub async fn start<F>(handler: F) -> FakeDynamo
    where
        F: Fn(&str, Value, usize) -> Reply + Send + Sync + 'static,
    {
        Self::start_on(any_port().await, handler)
    }

    /// Starts a server on a free 127.0.0.1 port whose requests wait at a gate until
    /// `bound` of them are in flight at once, then `delay` more before each answer.
    ///
    /// The gate makes `max_in_flight` reach `bound` whatever the scheduling, for a client
    /// that sends that many at once; it then stays open (later requests only wait
    /// `delay`), and if the bound is not reached within [`GATE_TIMEOUT`] it opens anyway,
    /// so that a client that sends fewer is not stuck and the test's assertion reports
    /// it. `delay` is the grace period after the bound is reached: the requests that
    /// reached it are still in flight then, so a client sending more than `bound` at
    /// once is seen doing it (timing can only hide such a surplus, never invent one).
    pub async fn start_gated<F>(bound: usize, delay: Duration, handler: F) -> FakeDynamo
    where
        F: Fn(&str, Value, usize) -> Reply + Send + Sync + 'static,
    {
        let gate = Gate {
            bound,
            open: watch::Sender::new(false),
        };
        Self::serve(any_port().await, delay, Some(gate), handler)
    }

    /// Starts a server on `listener` (say, one listening on a port that was reserved
    /// while refusing connections), answering at once.
    pub fn start_on<F>(listener: TcpListener, handler: F) -> FakeDynamo
    where
        F: Fn(&str, Value, usize) -> Reply + Send + Sync + 'static,
    {
        Self::serve(listener, Duration::ZERO, None, handler)
    }

    fn serve<F>(
        listener: TcpListener,
        delay: Duration,
        gate: Option<Gate>,
        handler: F,
    ) -> FakeDynamo
    where
        F: Fn(&str, Value, usize) -> Reply + Send + Sync + 'static,
    {
        let addr = listener.local_addr().expect("the bound address");
        let state = Arc::new(State {
            handler: Box::new(handler),
            delay,
            gate,
            stats: Stats::default(),
        });
        let accept = tokio::spawn({
            let state = state.clone();
            async move {
                while let Ok((stream, _)) = listener.accept().await {
                    tokio::spawn(serve_connection(stream, state.clone()));
                }
            }
        });
        FakeDynamo {
            addr,
            state,
            accept,
        }
    }

    /// The `http://127.0.0.1:port` endpoint.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How many requests of `operation` (`"BatchGetItem"`, ...) were received.
    pub fn calls(&self, operation: &str) -> usize {
        self.requests(operation).len()
    }

    /// How many requests were received, all operations together.
    pub fn total_calls(&self) -> usize {
        let requests = self.state.stats.requests.lock().unwrap();
        requests.values().map(Vec::len).sum()
    }

    /// The JSON bodies of the requests of `operation`, in the order received.
    pub fn requests(&self, operation: &str) -> Vec<Value> {
        let requests = self.state.stats.requests.lock().unwrap();
        requests.get(operation).cloned().unwrap_or_default()
    }

    /// The most requests that were being handled at the same time.
    pub fn max_in_flight(&self) -> usize {
        self.state.stats.max_in_flight.load(Ordering::SeqCst)
    }
}

/// A listener on a port of 127.0.0.1 the kernel picks.
async fn any_port() -> TcpListener {
    TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port to listen on")
}

/// Waits at `gate` (a request being in flight, `in_flight` of them with it): opens it if
/// this request reaches the bound, else waits until it is open or [`GATE_TIMEOUT`] has
/// passed, and then opens it for all.
async fn pass(gate: &Gate, in_flight: usize) {
    if in_flight >= gate.bound {
        gate.open.send_replace(true);
        return;
    }
    let mut open = gate.open.subscribe();
    let waited = tokio::time::timeout(GATE_TIMEOUT, open.wait_for(|open| *open)).await;
    if waited.is_err() {
        eprintln!(
            "fake_dynamo: {} requests were never in flight at once (in {GATE_TIMEOUT:?}); \
             opening the gate",
            gate.bound
        );
        gate.open.send_replace(true);
    }
}

/// One parsed request: its operation and JSON body, and whether the client asked to
/// close the connection after it.
struct Request {
    operation: String,
    body: Value,
    close: bool,
}

/// Serves requests on one connection until the client closes it or a reply says to.
async fn serve_connection(mut stream: TcpStream, state: Arc<State>) {
    let mut buffer = Vec::new();
    loop {
        let request = match read_request(&mut stream, &mut buffer).await {
            Ok(Some(r)) => r,
            // The client closed the connection, or sent something unreadable.
            Ok(None) | Err(_) => return,
        };
        let stats = &state.stats;
        let index = {
            let mut requests = stats.requests.lock().unwrap();
            let list = requests.entry(request.operation.clone()).or_default();
            list.push(request.body.clone());
            list.len() - 1
        };
        let now = stats.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        stats.max_in_flight.fetch_max(now, Ordering::SeqCst);
        let reply = (state.handler)(&request.operation, request.body, index);
        if let Some(gate) = &state.gate {
            pass(gate, now).await;
        }
        if !state.delay.is_zero() {
            tokio::time::sleep(state.delay).await;
        }
        // No longer in flight before the client can see the answer: else the client
        // could send its next request before this one is counted out, and a client
        // that keeps its bound would seem to exceed it.
        stats.in_flight.fetch_sub(1, Ordering::SeqCst);
        let written = match reply {
            Reply::Close => None,
            Reply::Json { status, body } => Some(write_response(&mut stream, status, &body).await),
        };
        match written {
            Some(Ok(())) if !request.close => {}
            // Close: drop the stream without answering; or the answer could not be
            // written; or the client asked to close.
            _ => {
                let _ = stream.shutdown().await;
                return;
            }
        }
    }
}

async fn write_response(stream: &mut TcpStream, status: u16, body: &Value) -> std::io::Result<()> {
    let body = serde_json::to_vec(body).expect("a JSON body");
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\n\
         Content-Type: application/x-amz-json-1.0\r\n\
         Content-Length: {}\r\n\
         x-amzn-RequestId: fake-dynamo\r\n\
         \r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(&body).await?;
    stream.flush().await
}

/// Reads more bytes into `buffer`; false at the end of the stream.
async fn fill(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> std::io::Result<bool> {
    let mut chunk = [0u8; 16 * 1024];
    let n = stream.read(&mut chunk).await?;
    buffer.extend_from_slice(&chunk[..n]);
    Ok(n > 0)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn invalid(message: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, message.to_owned())
}

/// Reads one request from `stream`, `buffer` holding bytes already read (and keeping
/// those of the next request). `None` when the client closed the connection.
async fn read_request(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
) -> std::io::Result<Option<Request>> {
    let head_end = loop {
        if let Some(i) = find(buffer, b"\r\n\r\n") {
            break i;
        }
        if !fill(stream, buffer).await? {
            return Ok(None);
        }
    };
    let head = String::from_utf8(buffer[..head_end].to_vec()).map_err(|_| invalid("head"))?;
    buffer.drain(..head_end + 4);
    let mut headers: HashMap<String, String> = HashMap::new();
    for line in head.split("\r\n").skip(1) {
        if let Some((name, value)) = line.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
    }
    let body = if let Some(length) = headers.get("content-length") {
        let length: usize = length.parse().map_err(|_| invalid("content-length"))?;
        while buffer.len() < length {
            if !fill(stream, buffer).await? {
                return Err(invalid("truncated body"));
            }
        }
        buffer.drain(..length).collect::<Vec<u8>>()
    } else if headers
        .get("transfer-encoding")
        .is_some_and(|t| t.eq_ignore_ascii_case("chunked"))
    {
        read_chunked(stream, buffer).await?
    } else {
        Vec::new()
    };
    let operation = headers
        .get("x-amz-target")
        .and_then(|t| t.strip_prefix("DynamoDB_20120810."))
        .unwrap_or("Unknown")
        .to_owned();
    let body = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body).map_err(|_| invalid("a JSON body"))?
    };
    let close = headers
        .get("connection")
        .is_some_and(|c| c.eq_ignore_ascii_case("close"));
    Ok(Some(Request {
        operation,
        body,
        close,
    }))
}

async fn read_chunked(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> std::io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = loop {
            if let Some(i) = find(buffer, b"\r\n") {
                break i;
            }
            if !fill(stream, buffer).await? {
                return Err(invalid("truncated chunk"));
            }
        };
        let line = String::from_utf8(buffer[..line_end].to_vec()).map_err(|_| invalid("chunk"))?;
        let size = usize::from_str_radix(line.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| invalid("chunk size"))?;
        buffer.drain(..line_end + 2);
        if size == 0 {
            // Trailers, if any, end with an empty line.
            loop {
                if let Some(i) = find(buffer, b"\r\n") {
                    let empty = i == 0;
                    buffer.drain(..i + 2);
                    if empty {
                        return Ok(body);
                    }
                } else if !fill(stream, buffer).await? {
                    return Err(invalid("truncated trailers"));
                }
            }
        }
        while buffer.len() < size + 2 {
            if !fill(stream, buffer).await? {
                return Err(invalid("truncated chunk"));
            }
        }
        body.extend(buffer.drain(..size));
        buffer.drain(..2);
    }
}
