//! A fake gRPC server for fault injection: it answers what the test says, including what
//! the Firestore emulator never does (admin calls, a failed commit whose outcome is
//! unknown, refused batch writes, a stream reset after the request arrived).
//!
//! It speaks cleartext HTTP/2 with prior knowledge (h2c), as a tonic client connecting to
//! an `http://127.0.0.1:port` URL does. Each connection is served in its own task and each
//! request stream in its own, so a client multiplexing calls over one connection is
//! served concurrently. A request's body, however many DATA frames it comes in, is
//! collected until the client ends its side of the stream; it must hold exactly one
//! uncompressed gRPC message, which is handed to the test's handler with the method path
//! and its index among the calls of that path (from 0). The server counts calls per path
//! and keeps the request messages. Only unary and server-streaming calls can be faked:
//! a client-streaming call's body is not read until it ends.
//!
//! Anything the server cannot make sense of (a body that is not one well-formed gRPC
//! message, a connection that is not HTTP/2) makes it drop that stream or connection,
//! without calling the handler.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::{BufMut, Bytes, BytesMut};
use firestore::gcloud_sdk::prost;
use firestore::gcloud_sdk::tonic::Code;
use h2::server::SendResponse;
use h2::{Reason, RecvStream};
use http::{HeaderMap, HeaderValue, Request, Response};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// What the server does with one call.
#[derive(Debug, Clone)]
pub enum Reply {
    /// One response message (already protobuf-encoded), then grpc-status 0.
    Message(Vec<u8>),
    /// Several response messages (a server stream), then grpc-status 0.
    Stream(Vec<Vec<u8>>),
    /// A failure: a trailers-only response with this code and message (no body).
    Status(Code, String),
    /// Reset the stream without answering (the request was received; the client cannot
    /// know its outcome).
    Reset,
}

impl Reply {
    /// One response message: `m`, protobuf-encoded.
    pub fn message(m: &impl prost::Message) -> Reply {
        Reply::Message(m.encode_to_vec())
    }

    /// A failure with `code` and `msg`.
    pub fn status(code: Code, msg: &str) -> Reply {
        Reply::Status(code, msg.to_owned())
    }
}

/// The test's handler: method path, request message, index among the calls of that path.
type Handler = dyn Fn(&str, &[u8], usize) -> Reply + Send + Sync + 'static;

/// What the connection and stream tasks share.
struct State {
    handler: Box<Handler>,
    /// The request messages received, by method path, in the order received.
    requests: Mutex<HashMap<String, Vec<Vec<u8>>>>,
}

impl State {
    /// The recorded requests. A handler that panicked while another stream held the lock
    /// does not hide them.
    fn requests(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<Vec<u8>>>> {
        self.requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A running fake server. Dropping it stops the accept loop, which also drops the
/// connections it accepted.
pub struct FakeGrpc {
    addr: SocketAddr,
    state: Arc<State>,
    accept: JoinHandle<()>,
}

impl Drop for FakeGrpc {
    /// Aborts the accept loop task, and with it the tasks serving its connections.
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl FakeGrpc {
    /// Starts on 127.0.0.1 with a free port. `handler(path, request, n)` gets the method
    /// path (e.g. "/google.firestore.v1.Firestore/Commit"), the request message bytes (the
    /// 5-byte gRPC frame prefix removed; the whole body collected even if split over
    /// several DATA frames), and n = how many earlier calls of that same path the server
    /// has seen (0 for the first).
    ///
    /// The handler runs on the stream's task, so it should answer at once (it may not
    /// block on what another call does).
    pub async fn start(
        handler: impl Fn(&str, &[u8], usize) -> Reply + Send + Sync + 'static,
    ) -> FakeGrpc {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port on 127.0.0.1");
        let addr = listener.local_addr().expect("the bound address");
        let state = Arc::new(State {
            handler: Box::new(handler),
            requests: Mutex::new(HashMap::new()),
        });
        let accept = tokio::spawn(accept_loop(listener, state.clone()));
        FakeGrpc {
            addr,
            state,
            accept,
        }
    }

    /// The address the server listens on.
    pub fn address(&self) -> SocketAddr {
        self.addr
    }

    /// The `http://127.0.0.1:port` URL of the server, for a tonic client.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How many calls of `path` were received.
    pub fn calls(&self, path: &str) -> usize {
        self.state.requests().get(path).map_or(0, Vec::len)
    }

    /// The request messages of `path`, in the order received.
    pub fn requests(&self, path: &str) -> Vec<Vec<u8>> {
        self.state.requests().get(path).cloned().unwrap_or_default()
    }
}

/// Accepts connections until aborted, each served in a task of `connections`, which are
/// aborted with this one.
async fn accept_loop(listener: TcpListener, state: Arc<State>) {
    let mut connections = JoinSet::new();
    loop {
        // Forget the connections that are over.
        while connections.try_join_next().is_some() {}
        match listener.accept().await {
            Ok((socket, _)) => {
                connections.spawn(serve_connection(socket, state.clone()));
            }
            // A connection that failed before it was accepted (say, reset by the client):
            // the listener itself is still good.
            Err(_) => tokio::task::yield_now().await,
        }
    }
}

/// Serves one HTTP/2 connection: accepts its streams until the client closes it or it
/// fails, each stream served in its own task. Accepting also drives the connection's I/O,
/// so the stream tasks' responses are written while this waits for the next stream.
async fn serve_connection(socket: TcpStream, state: Arc<State>) {
    let _ = socket.set_nodelay(true);
    let Ok(mut connection) = h2::server::handshake(socket).await else {
        return;
    };
    while let Some(Ok((request, respond))) = connection.accept().await {
        tokio::spawn(serve_stream(request, respond, state.clone()));
    }
}

/// Serves one call: reads the whole request, asks the handler, and answers as it says.
async fn serve_stream(
    request: Request<RecvStream>,
    mut respond: SendResponse<Bytes>,
    state: Arc<State>,
) {
    let path = request.uri().path().to_owned();
    let Some(body) = read_body(request.into_body()).await else {
        // The client reset the stream or the connection broke: nobody to answer.
        return;
    };
    let Some(message) = unframe(&body) else {
        respond.send_reset(Reason::PROTOCOL_ERROR);
        return;
    };
    let n = {
        let mut requests = state.requests();
        let list = requests.entry(path.clone()).or_default();
        list.push(message.to_vec());
        list.len() - 1
    };
    match (state.handler)(&path, message, n) {
        Reply::Message(message) => send_messages(respond, &[message]),
        Reply::Stream(messages) => send_messages(respond, &messages),
        Reply::Status(code, message) => send_status(respond, code, &message),
        Reply::Reset => respond.send_reset(Reason::CANCEL),
    }
}

/// The whole body of a request, releasing the flow-control capacity of each DATA frame as
/// it arrives so that a large body does not stall. `None` if the stream failed.
async fn read_body(mut body: RecvStream) -> Option<Vec<u8>> {
    let mut collected = Vec::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.ok()?;
        let _ = body.flow_control().release_capacity(chunk.len());
        collected.extend_from_slice(&chunk);
    }
    Some(collected)
}

/// The message of a body that holds exactly one uncompressed gRPC message: a zero flag
/// byte, a 4-byte big-endian length, and that many bytes.
fn unframe(body: &[u8]) -> Option<&[u8]> {
    let (&flag, rest) = body.split_first()?;
    let (length, message) = rest.split_first_chunk::<4>()?;
    let length = usize::try_from(u32::from_be_bytes(*length)).ok()?;
    (flag == 0 && message.len() == length).then_some(message)
}

/// `message` with its gRPC frame prefix: a zero (uncompressed) flag byte and the 4-byte
/// big-endian length. `None` for a message too long to frame.
fn frame(message: &[u8]) -> Option<Bytes> {
    let length = u32::try_from(message.len()).ok()?;
    let mut framed = BytesMut::with_capacity(5 + message.len());
    framed.put_u8(0);
    framed.put_u32(length);
    framed.put_slice(message);
    Some(framed.freeze())
}

/// The headers every response starts with: `:status 200` and the gRPC content type.
fn grpc_response() -> Response<()> {
    let mut response = Response::new(());
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/grpc"),
    );
    response
}

/// A successful answer: the headers, each message in its own DATA frame, then the trailers
/// with `grpc-status: 0`. Errors (the client went away) just end the stream.
fn send_messages(mut respond: SendResponse<Bytes>, messages: &[Vec<u8>]) {
    let Ok(mut stream) = respond.send_response(grpc_response(), false) else {
        return;
    };
    for message in messages {
        let Some(framed) = frame(message) else {
            stream.send_reset(Reason::INTERNAL_ERROR);
            return;
        };
        if stream.send_data(framed, false).is_err() {
            return;
        }
    }
    let mut trailers = HeaderMap::new();
    trailers.insert("grpc-status", HeaderValue::from_static("0"));
    let _ = stream.send_trailers(trailers);
}

/// A failure: a trailers-only response, a single HEADERS frame ending the stream, with
/// `grpc-status` and the percent-encoded `grpc-message`.
fn send_status(mut respond: SendResponse<Bytes>, code: Code, message: &str) {
    let mut response = grpc_response();
    let headers = response.headers_mut();
    headers.insert("grpc-status", HeaderValue::from(code as i32));
    if let Ok(value) = HeaderValue::from_str(&percent_encode(message)) {
        headers.insert("grpc-message", value);
    }
    let _ = respond.send_response(response, true);
}

/// `message` as `grpc-message` carries it: every byte outside `0x20..=0x7E`, and `%`,
/// written as `%XX` (upper-case hexadecimal) of its UTF-8 encoding.
fn percent_encode(message: &str) -> String {
    let mut encoded = String::with_capacity(message.len());
    for &byte in message.as_bytes() {
        if (0x20..=0x7E).contains(&byte) && byte != b'%' {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}
