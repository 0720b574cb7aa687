//! Fault injection for the DynamoDB backend, against a fake server that throttles,
//! leaves keys unprocessed and breaks connections, as real emulators never do. Each test
//! checks one point of the contract (SEMANTICS.md, Operations and Errors): the result or
//! the error kind, the keys an error names, and how many requests the server saw.

mod support {
    #[allow(dead_code)]
    pub mod dynamo;
    pub mod fake_dynamo;
}

use std::collections::{BTreeSet, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use kvs::dynamodb::DynamoDbBackend;
use kvs::retry::Backoff;
use kvs::{ErrorKind, Item, Key, KeyAttr, Kvs, StoreSchema, TransactWrite, Value, item};
use serde_json::{Value as Json, json};
use support::dynamo;
use support::fake_dynamo::{FakeDynamo, Reply};

/// The store, and its table (no prefix).
const TABLE: &str = "items";

/// Three attempts in all, with millisecond delays, to keep the tests fast.
const FAST: Backoff = Backoff {
    attempts: 3,
    base: Duration::from_millis(1),
    max: Duration::from_millis(5),
};

/// A handle on `endpoint` with `backoff`, the store registered (no CreateTable sent).
fn kvs_at(endpoint: &str, backoff: Backoff) -> Kvs {
    let kvs = Kvs::new(DynamoDbBackend::new(&dynamo::client(endpoint)).with_backoff(backoff));
    kvs.register_store(StoreSchema::new(TABLE, KeyAttr::string("id")))
        .unwrap();
    kvs
}

fn kvs_on(server: &FakeDynamo) -> Kvs {
    kvs_at(&server.endpoint(), FAST)
}

// --- The wire format -----------------------------------------------------------------

/// The DynamoDB key map of `id`.
fn key_json(id: &str) -> Json {
    json!({ "id": { "S": id } })
}

/// The item the fake server holds for `id`.
fn item_json(id: &str) -> Json {
    json!({ "id": { "S": id }, "v": { "S": format!("value of {id}") } })
}

/// The item kvs should read back for `id`.
fn item_of(id: &str) -> Item {
    item! { "id" => id, "v" => format!("value of {id}") }
}

/// The ids of a `BatchGetItem` request, in the order sent.
fn get_ids(body: &Json) -> Vec<String> {
    body["RequestItems"][TABLE]["Keys"]
        .as_array()
        .expect("a BatchGetItem request for the table")
        .iter()
        .map(|k| k["id"]["S"].as_str().expect("a string key").to_owned())
        .collect()
}

/// A `BatchGetItem` answer: the items of `found`, and `unprocessed` as UnprocessedKeys.
fn get_answer<'a>(
    found: impl IntoIterator<Item = &'a str>,
    unprocessed: impl IntoIterator<Item = &'a str>,
) -> Reply {
    let found: Vec<Json> = found.into_iter().map(item_json).collect();
    let unprocessed: Vec<Json> = unprocessed.into_iter().map(key_json).collect();
    let unprocessed_keys = if unprocessed.is_empty() {
        json!({})
    } else {
        json!({ TABLE: { "Keys": unprocessed, "ConsistentRead": true } })
    };
    Reply::ok(json!({ "Responses": { TABLE: found }, "UnprocessedKeys": unprocessed_keys }))
}

/// The write requests of a `BatchWriteItem` request, each with the id it writes.
fn write_requests(body: &Json) -> Vec<(String, Json)> {
    body["RequestItems"][TABLE]
        .as_array()
        .expect("a BatchWriteItem request for the table")
        .iter()
        .map(|w| {
            let attrs = if w.get("PutRequest").is_some() {
                &w["PutRequest"]["Item"]
            } else {
                &w["DeleteRequest"]["Key"]
            };
            let id = attrs["id"]["S"].as_str().expect("a string key").to_owned();
            (id, w.clone())
        })
        .collect()
}

fn write_ids(body: &Json) -> Vec<String> {
    write_requests(body).into_iter().map(|(id, _)| id).collect()
}

/// A `BatchWriteItem` answer that leaves the requests of `body` whose id `left` says
/// unprocessed.
fn write_answer(body: &Json, left: impl Fn(&str) -> bool) -> Reply {
    let unprocessed: Vec<Json> = write_requests(body)
        .into_iter()
        .filter(|(id, _)| left(id))
        .map(|(_, w)| w)
        .collect();
    if unprocessed.is_empty() {
        Reply::ok(json!({ "UnprocessedItems": {} }))
    } else {
        Reply::ok(json!({ "UnprocessedItems": { TABLE: unprocessed } }))
    }
}

/// The ids (string partition values) of `keys`, as a set.
fn id_set(keys: &[Key]) -> BTreeSet<String> {
    keys.iter()
        .map(|k| {
            k.partition()
                .as_str()
                .expect("a string partition key")
                .to_owned()
        })
        .collect()
}

fn set_of<S: AsRef<str>>(ids: impl IntoIterator<Item = S>) -> BTreeSet<String> {
    ids.into_iter().map(|s| s.as_ref().to_owned()).collect()
}

fn ids(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

// --- get_many ------------------------------------------------------------------------

/// Keys DynamoDB returns as UnprocessedKeys on the first call are asked again (only
/// they), and the answer is complete, in the order asked, with `None` only where the
/// item is truly missing.
#[tokio::test]
async fn get_many_retries_unprocessed_keys_and_answers_in_order() {
    let server = FakeDynamo::start(|op, body, call| {
        assert_eq!(op, "BatchGetItem");
        let asked = get_ids(&body);
        let present = asked.iter().filter(|id| *id != "missing");
        if call == 0 {
            // Odd keys found (answered in reverse order), even keys left unprocessed.
            let found: Vec<&str> = present
                .clone()
                .filter(|id| id.ends_with(['1', '3', '5', '7', '9']))
                .rev()
                .map(String::as_str)
                .collect();
            let left: Vec<&str> = present
                .filter(|id| !id.ends_with(['1', '3', '5', '7', '9']))
                .map(String::as_str)
                .collect();
            get_answer(found, left)
        } else {
            get_answer(present.map(String::as_str), [])
        }
    })
    .await;
    let kvs = kvs_on(&server);
    let mut keys = ids("k", 10);
    keys.insert(4, "missing".to_owned());

    let got = kvs.get_many(TABLE, &keys).await.unwrap();

    let expected: Vec<Option<Item>> = keys
        .iter()
        .map(|id| (id != "missing").then(|| item_of(id)))
        .collect();
    assert_eq!(got, expected, "complete, in the order asked");
    assert_eq!(server.calls("BatchGetItem"), 2);
    let requests = server.requests("BatchGetItem");
    assert_eq!(set_of(get_ids(&requests[0])), set_of(&keys));
    assert_eq!(
        set_of(get_ids(&requests[1])),
        set_of(["k0", "k2", "k4", "k6", "k8"]),
        "the second call asks for the unprocessed keys only"
    );
    assert_eq!(requests[0]["RequestItems"][TABLE]["ConsistentRead"], true);
}

/// Keys still unprocessed after the retries give `Throttled` naming them, never
/// "missing"; the retries ask for those keys only.
#[tokio::test]
async fn get_many_keys_left_unprocessed_are_throttled_not_missing() {
    let stuck = ["k3", "k7"];
    let server = FakeDynamo::start(move |_, body, _| {
        let asked = get_ids(&body);
        let (left, found): (Vec<&str>, Vec<&str>) = asked
            .iter()
            .map(String::as_str)
            .partition(|id| stuck.contains(id));
        get_answer(found, left)
    })
    .await;
    let kvs = kvs_on(&server);

    let err = kvs.get_many(TABLE, ids("k", 10)).await.unwrap_err();

    assert_eq!(err.kind(), &ErrorKind::Throttled, "{err}");
    assert_eq!(id_set(err.keys()), set_of(stuck), "{err}");
    assert_eq!(server.calls("BatchGetItem"), FAST.attempts as usize);
    for retry in &server.requests("BatchGetItem")[1..] {
        assert_eq!(set_of(get_ids(retry)), set_of(stuck));
    }
}

/// With several chunks, the keys left unprocessed in every chunk are named, none
/// dropped: `Throttled` names exactly the keys not read.
#[tokio::test]
async fn get_many_unprocessed_in_several_chunks_names_every_key_not_read() {
    let stuck = ["k5", "k140"]; // one in each chunk of 100
    let server = FakeDynamo::start(move |_, body, _| {
        let asked = get_ids(&body);
        let (left, found): (Vec<&str>, Vec<&str>) = asked
            .iter()
            .map(String::as_str)
            .partition(|id| stuck.contains(id));
        get_answer(found, left)
    })
    .await;
    let kvs = kvs_on(&server);

    let err = kvs.get_many(TABLE, ids("k", 150)).await.unwrap_err();

    assert_eq!(err.kind(), &ErrorKind::Throttled, "{err}");
    assert_eq!(
        id_set(err.keys()),
        set_of(stuck),
        "every key left unprocessed is reported, in whichever chunk: {err}"
    );
}

/// A throttled BatchGetItem (ProvisionedThroughputExceededException) is retried: twice
/// throttled, then answered, gives the complete answer.
#[tokio::test]
async fn get_many_throttled_twice_then_answered_succeeds() {
    let server = FakeDynamo::start(|_, body, call| {
        if call < 2 {
            Reply::throttled()
        } else {
            get_answer(get_ids(&body).iter().map(String::as_str), [])
        }
    })
    .await;
    let kvs = kvs_on(&server);
    let keys = ids("k", 5);

    let got = kvs.get_many(TABLE, &keys).await.unwrap();

    assert_eq!(
        got,
        keys.iter().map(|id| Some(item_of(id))).collect::<Vec<_>>()
    );
    assert_eq!(server.calls("BatchGetItem"), 3);
}

/// Always throttled: `Throttled` after the configured attempts, naming the keys not
/// read (ErrorKind::Throttled: "The keys that were not processed are in Error::keys").
#[tokio::test]
async fn get_many_always_throttled_is_throttled_after_the_attempts() {
    let server = FakeDynamo::start(|_, _, _| Reply::throttled()).await;
    let kvs = kvs_on(&server);
    let keys = ids("k", 5);

    let err = kvs.get_many(TABLE, &keys).await.unwrap_err();

    assert_eq!(err.kind(), &ErrorKind::Throttled, "{err}");
    assert_eq!(server.calls("BatchGetItem"), FAST.attempts as usize);
    assert_eq!(
        id_set(err.keys()),
        set_of(&keys),
        "the keys not read are named: {err:?}"
    );
}

/// 1,000 keys go as at most 10 BatchGetItem calls of at most 100 keys, each key asked
/// once, and the calls run concurrently.
#[tokio::test]
async fn get_many_of_1000_keys_is_10_concurrent_chunks() {
    // Requests are held until two are in flight at once: the overlap, if the client
    // makes it, is seen however slowly the test runs.
    let server = FakeDynamo::start_gated(2, Duration::from_millis(50), |_, body, _| {
        get_answer(get_ids(&body).iter().map(String::as_str), [])
    })
    .await;
    let kvs = kvs_on(&server);
    let keys = ids("k", 1000);

    let got = kvs.get_many(TABLE, &keys).await.unwrap();

    assert_eq!(
        got,
        keys.iter().map(|id| Some(item_of(id))).collect::<Vec<_>>(),
        "complete and in order"
    );
    let requests = server.requests("BatchGetItem");
    assert!(requests.len() <= 10, "{} calls", requests.len());
    let mut asked = Vec::new();
    for r in &requests {
        let ids = get_ids(r);
        assert!(ids.len() <= 100, "a call of {} keys", ids.len());
        asked.extend(ids);
    }
    assert_eq!(asked.len(), 1000, "each key asked once");
    assert_eq!(set_of(&asked), set_of(&keys));
    assert!(
        server.max_in_flight() > 1,
        "the chunks overlap (at most {} at once)",
        server.max_in_flight()
    );
}

/// A large call keeps at most the configured number of requests in flight (16 by
/// default), and still answers every key in order.
#[tokio::test]
async fn batch_calls_keep_their_concurrency_bound() {
    // Requests are held until 16 are in flight, so that the bound is reached however
    // slowly the test runs; those 16 are held 20 ms more, for a 17th to be seen if the
    // client sends one.
    let server = FakeDynamo::start_gated(16, Duration::from_millis(20), |op, body, _| match op {
        "BatchGetItem" => get_answer(get_ids(&body).iter().map(String::as_str), []),
        _ => write_answer(&body, |_| false),
    })
    .await;
    let keys = ids("k", 4000);

    let got = kvs_on(&server).get_many(TABLE, &keys).await.unwrap();
    assert_eq!(got.len(), 4000);
    assert!(got.iter().zip(&keys).all(|(g, k)| *g == Some(item_of(k))));
    assert_eq!(server.calls("BatchGetItem"), 40);
    assert_eq!(server.max_in_flight(), 16, "the default bound, reached");

    let server = FakeDynamo::start_gated(3, Duration::from_millis(20), |_, body, _| {
        write_answer(&body, |_| false)
    })
    .await;
    let kvs = Kvs::new(
        DynamoDbBackend::new(&dynamo::client(&server.endpoint()))
            .with_backoff(FAST)
            .with_concurrency(3),
    );
    kvs.register_store(StoreSchema::new(TABLE, KeyAttr::string("id")))
        .unwrap();
    kvs.upsert_many(TABLE, keys.iter().take(500).map(|id| item_of(id)))
        .await
        .unwrap();
    assert_eq!(server.calls("BatchWriteItem"), 20);
    assert_eq!(server.max_in_flight(), 3);
}

// --- upsert_many / delete_many -------------------------------------------------------

/// Items DynamoDB returns as UnprocessedItems are sent again (only they) and the call
/// succeeds.
#[tokio::test]
async fn upsert_many_retries_unprocessed_items() {
    let server = FakeDynamo::start(|op, body, call| {
        assert_eq!(op, "BatchWriteItem");
        write_answer(&body, |id| call == 0 && id != "a")
    })
    .await;
    let kvs = kvs_on(&server);

    kvs.upsert_many(TABLE, ["a", "b", "c"].map(item_of))
        .await
        .unwrap();

    let requests = server.requests("BatchWriteItem");
    assert_eq!(requests.len(), 2);
    assert_eq!(set_of(write_ids(&requests[0])), set_of(["a", "b", "c"]));
    assert_eq!(set_of(write_ids(&requests[1])), set_of(["b", "c"]));
    let put = &requests[1]["RequestItems"][TABLE][0]["PutRequest"]["Item"];
    assert_eq!(
        put["v"]["S"],
        format!("value of {}", put["id"]["S"].as_str().unwrap())
    );
}

/// Items still unprocessed after the retries fail the call with `Throttled` naming
/// exactly the keys not written.
#[tokio::test]
async fn upsert_many_left_unprocessed_is_throttled_naming_exactly_those_keys() {
    let server = FakeDynamo::start(|_, body, _| write_answer(&body, |id| id == "b")).await;
    let kvs = kvs_on(&server);

    let err = kvs
        .upsert_many(TABLE, ["a", "b", "c"].map(item_of))
        .await
        .unwrap_err();

    assert_eq!(err.kind(), &ErrorKind::Throttled, "{err}");
    assert_eq!(id_set(err.keys()), set_of(["b"]), "{err}");
    assert_eq!(server.calls("BatchWriteItem"), FAST.attempts as usize);
    for retry in &server.requests("BatchWriteItem")[1..] {
        assert_eq!(write_ids(retry), ["b"]);
    }
}

/// Same for delete_many: unprocessed deletes are retried, and those left are named.
#[tokio::test]
async fn delete_many_retries_unprocessed_and_names_the_keys_left() {
    // Retried, then done.
    let server = FakeDynamo::start(|_, body, call| write_answer(&body, |_| call == 0)).await;
    let kvs = kvs_on(&server);
    kvs.delete_many(TABLE, ["a", "b"]).await.unwrap();
    let requests = server.requests("BatchWriteItem");
    assert_eq!(requests.len(), 2);
    assert_eq!(set_of(write_ids(&requests[1])), set_of(["a", "b"]));
    assert!(requests[1]["RequestItems"][TABLE][0]["DeleteRequest"].is_object());

    // Never done for "a".
    let server = FakeDynamo::start(|_, body, _| write_answer(&body, |id| id == "a")).await;
    let kvs = kvs_on(&server);
    let err = kvs.delete_many(TABLE, ["a", "b"]).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Throttled, "{err}");
    assert_eq!(id_set(err.keys()), set_of(["a"]), "{err}");
    assert_eq!(server.calls("BatchWriteItem"), FAST.attempts as usize);
}

/// Across chunks of 25, the keys left unprocessed in every chunk are named, and only
/// they.
#[tokio::test]
async fn upsert_many_in_chunks_names_exactly_the_keys_left_in_every_chunk() {
    let stuck = ["k3", "k30", "k55"]; // one in each chunk: 0..25, 25..50, 50..60
    let server = FakeDynamo::start(move |_, body, _| {
        assert!(write_ids(&body).len() <= 25, "a chunk of at most 25 writes");
        write_answer(&body, |id| stuck.contains(&id))
    })
    .await;
    let kvs = kvs_on(&server);
    let items: Vec<Item> = ids("k", 60).iter().map(|id| item_of(id)).collect();

    let err = kvs.upsert_many(TABLE, items).await.unwrap_err();

    assert_eq!(err.kind(), &ErrorKind::Throttled, "{err}");
    assert_eq!(id_set(err.keys()), set_of(stuck), "{err}");
    assert_eq!(
        server.calls("BatchWriteItem"),
        3 * FAST.attempts as usize,
        "three chunks, each tried {} times",
        FAST.attempts
    );
}

/// A chunk partly written, then throttled until the attempts run out: the error names
/// the keys not written, not those DynamoDB already wrote.
#[tokio::test]
async fn upsert_many_partly_written_then_throttled_names_only_the_keys_not_written() {
    let server = FakeDynamo::start(|_, body, call| {
        if call == 0 {
            // "a" and "c" are written; "b" is left.
            write_answer(&body, |id| id == "b")
        } else {
            Reply::throttled()
        }
    })
    .await;
    let kvs = kvs_on(&server);

    let err = kvs
        .upsert_many(TABLE, ["a", "b", "c"].map(item_of))
        .await
        .unwrap_err();

    assert_eq!(err.kind(), &ErrorKind::Throttled, "{err}");
    assert_eq!(
        server.calls("BatchWriteItem"),
        1 + FAST.attempts as usize,
        "one call, then the retry of \"b\" tried {} times",
        FAST.attempts
    );
    assert_eq!(
        id_set(err.keys()),
        set_of(["b"]),
        "\"a\" and \"c\" were written and must not be reported as not written: {err}"
    );
}

/// A throttled BatchWriteItem is retried: twice throttled then done succeeds; always
/// throttled is `Throttled` after the attempts, naming every key.
#[tokio::test]
async fn upsert_many_throttled_is_retried_then_gives_up_naming_the_keys() {
    let server = FakeDynamo::start(|_, body, call| {
        if call < 2 {
            Reply::throttled()
        } else {
            write_answer(&body, |_| false)
        }
    })
    .await;
    let kvs = kvs_on(&server);
    kvs.upsert_many(TABLE, ["a", "b"].map(item_of))
        .await
        .unwrap();
    assert_eq!(server.calls("BatchWriteItem"), 3);

    let server = FakeDynamo::start(|_, _, _| Reply::throttled()).await;
    let kvs = kvs_on(&server);
    let err = kvs
        .upsert_many(TABLE, ["a", "b"].map(item_of))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Throttled, "{err}");
    assert_eq!(id_set(err.keys()), set_of(["a", "b"]), "{err}");
    assert_eq!(server.calls("BatchWriteItem"), FAST.attempts as usize);
}

/// upsert_many's chunks run concurrently too ("chunked and retried like get_many").
#[tokio::test]
async fn upsert_many_chunks_run_concurrently() {
    // Held until two are in flight at once (see get_many_of_1000_keys_is_10_concurrent_chunks).
    let server = FakeDynamo::start_gated(2, Duration::from_millis(50), |_, body, _| {
        write_answer(&body, |_| false)
    })
    .await;
    let kvs = kvs_on(&server);
    let items: Vec<Item> = ids("k", 100).iter().map(|id| item_of(id)).collect();

    kvs.upsert_many(TABLE, items).await.unwrap();

    let requests = server.requests("BatchWriteItem");
    assert_eq!(requests.len(), 4, "100 writes in chunks of 25");
    let written: Vec<String> = requests.iter().flat_map(write_ids).collect();
    assert_eq!(written.len(), 100);
    assert_eq!(set_of(&written), set_of(ids("k", 100)));
    assert!(server.max_in_flight() > 1, "{}", server.max_in_flight());
}

// --- Single operations: throttling and refused connections ---------------------------

/// GetItem throttled twice, then answered: the read succeeds.
#[tokio::test]
async fn get_throttled_twice_then_answered_succeeds() {
    let server = FakeDynamo::start(|op, body, call| {
        assert_eq!(op, "GetItem");
        assert_eq!(body["Key"], key_json("a"));
        if call < 2 {
            Reply::throttled()
        } else {
            Reply::ok(json!({ "Item": item_json("a") }))
        }
    })
    .await;
    let kvs = kvs_on(&server);

    assert_eq!(kvs.get(TABLE, "a").await.unwrap(), Some(item_of("a")));
    assert_eq!(server.calls("GetItem"), 3);
}

/// PutItem always throttled: `Throttled` after the configured attempts.
#[tokio::test]
async fn upsert_always_throttled_is_throttled_after_the_attempts() {
    let server = FakeDynamo::start(|_, _, _| Reply::throttled()).await;
    let kvs = kvs_on(&server);

    let err = kvs.upsert(TABLE, item_of("a")).await.unwrap_err();

    assert_eq!(err.kind(), &ErrorKind::Throttled, "{err}");
    assert_eq!(server.calls("PutItem"), FAST.attempts as usize);
    assert_eq!(server.total_calls(), FAST.attempts as usize);
}

/// Throttling changed nothing, so even a non-idempotent update (ADD) is sent again:
/// throttled twice then answered succeeds; always throttled is `Throttled`.
#[tokio::test]
async fn update_with_add_is_retried_after_throttling() {
    let server = FakeDynamo::start(|op, _, call| {
        assert_eq!(op, "UpdateItem");
        if call < 2 {
            Reply::throttled()
        } else {
            Reply::ok(json!({ "Attributes": { "id": { "S": "c" }, "n": { "N": "1" } } }))
        }
    })
    .await;
    let kvs = kvs_on(&server);
    let new = kvs.update(TABLE, "c").add("n", 1).await.unwrap();
    assert_eq!(new, item! { "id" => "c", "n" => 1 });
    assert_eq!(server.calls("UpdateItem"), 3);

    let server = FakeDynamo::start(|_, _, _| Reply::throttled()).await;
    let kvs = kvs_on(&server);
    let err = kvs.update(TABLE, "c").add("n", 1).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Throttled, "{err}");
    assert_eq!(server.calls("UpdateItem"), FAST.attempts as usize);
}

/// A refused connection changed nothing, so even a non-idempotent update (ADD) is sent
/// again: the server comes up on the port after the first attempts were refused, and
/// sees the update exactly once.
#[tokio::test]
async fn refused_connection_is_retried_even_for_add() {
    // A socket bound but not listening: connections to its port are refused, and the
    // port stays reserved until the server listens on it (a port merely found free, its
    // socket dropped, could be taken by another test in the meantime).
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = socket.local_addr().unwrap();
    let patient = Backoff {
        attempts: 1000,
        base: Duration::from_millis(2),
        max: Duration::from_millis(2),
    };
    let kvs = kvs_at(&format!("http://{addr}"), patient);
    let server = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let listener = socket.listen(1024).unwrap();
        FakeDynamo::start_on(listener, |_, _, _| {
            Reply::ok(json!({ "Attributes": { "id": { "S": "c" }, "n": { "N": "1" } } }))
        })
    });

    let new = kvs.update(TABLE, "c").add("n", 1).await;
    let server = server.await.unwrap();

    assert_eq!(new.unwrap(), item! { "id" => "c", "n" => 1 });
    assert_eq!(server.calls("UpdateItem"), 1);
}

// --- Ambiguous failures: the connection breaks after the request was sent ------------

/// Adds one op to an update.
type AddOp = fn(kvs::Update) -> kvs::Update;

/// An update with ADD, APPEND or PREPEND is not sent again after the connection broke
/// after sending: `Unavailable` (outcome unknown), and the server saw exactly one
/// request.
#[tokio::test]
async fn non_idempotent_update_is_not_resent_after_an_ambiguous_failure() {
    let cases: [(&str, AddOp); 3] = [
        ("ADD", |u| u.add("n", 1)),
        ("APPEND", |u| u.append("l", Value::list([1]))),
        ("PREPEND", |u| u.prepend("l", Value::list([1]))),
    ];
    for (name, op) in cases {
        let server = FakeDynamo::start(|op, _, _| {
            assert_eq!(op, "UpdateItem");
            Reply::Close
        })
        .await;
        let kvs = kvs_on(&server);

        let err = op(kvs.update(TABLE, "c")).await.unwrap_err();

        assert_eq!(err.kind(), &ErrorKind::Unavailable, "{name}: {err}");
        assert_eq!(
            server.total_calls(),
            1,
            "{name}: sent exactly once after an ambiguous failure"
        );
    }
}

/// An idempotent update (SET only) under the same fault is sent again: broken twice
/// then answered succeeds (three requests); always broken is `Unavailable` after the
/// configured attempts.
#[tokio::test]
async fn idempotent_update_is_resent_after_an_ambiguous_failure() {
    let server = FakeDynamo::start(|_, _, call| {
        if call < 2 {
            Reply::Close
        } else {
            Reply::ok(json!({ "Attributes": { "id": { "S": "c" }, "s": { "S": "x" } } }))
        }
    })
    .await;
    let kvs = kvs_on(&server);
    let new = kvs.update(TABLE, "c").set("s", "x").await.unwrap();
    assert_eq!(new, item! { "id" => "c", "s" => "x" });
    assert_eq!(server.calls("UpdateItem"), 3);

    let server = FakeDynamo::start(|_, _, _| Reply::Close).await;
    let kvs = kvs_on(&server);
    let err = kvs.update(TABLE, "c").set("s", "x").await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Unavailable, "{err}");
    assert_eq!(server.calls("UpdateItem"), FAST.attempts as usize);
}

// --- Transactions -------------------------------------------------------------------

/// A `TransactionCanceledException` with one reason code per write.
fn canceled(codes: &[&str]) -> Reply {
    Reply::Json {
        status: 400,
        body: json!({
            "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
            "message": "Transaction cancelled",
            "CancellationReasons": codes
                .iter()
                .map(|c| json!({ "Code": c }))
                .collect::<Vec<_>>(),
        }),
    }
}

async fn two_puts(kvs: &Kvs) -> kvs::Result<()> {
    kvs.transact([
        TransactWrite::put(TABLE, item_of("a")),
        TransactWrite::put(TABLE, item_of("b")),
    ])
    .await
}

/// A transaction that met a conflict is tried again with a new client request token
/// (DynamoDB refuses a token reused with other parameters, and a retry builds its writes
/// afresh); a resend after an ambiguous failure keeps the token, so that DynamoDB applies
/// the transaction at most once.
#[tokio::test]
async fn transaction_tokens_new_per_conflict_retry_same_per_resend() {
    let server = FakeDynamo::start(|op, _, call| {
        assert_eq!(op, "TransactWriteItems");
        match call {
            0 => canceled(&["None", "TransactionConflict"]),
            1 => Reply::Close,
            _ => Reply::ok(json!({})),
        }
    })
    .await;
    let kvs = kvs_on(&server);

    two_puts(&kvs).await.unwrap();

    let tokens: Vec<String> = server
        .requests("TransactWriteItems")
        .iter()
        .map(|b| {
            b["ClientRequestToken"]
                .as_str()
                .expect("a token")
                .to_owned()
        })
        .collect();
    assert_eq!(tokens.len(), 3, "{tokens:?}");
    assert_ne!(tokens[0], tokens[1], "a conflict retry takes a new token");
    assert_eq!(tokens[1], tokens[2], "a resend keeps its token");
}

/// Reasons by position, from the old item DynamoDB returns with each failed write: an
/// insert of an item that exists is `AlreadyExists` there, `None` elsewhere.
#[tokio::test]
async fn transaction_reasons_come_by_position() {
    let server = FakeDynamo::start(|_, _, _| Reply::Json {
        status: 400,
        body: json!({
            "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
            "message": "Transaction cancelled",
            "CancellationReasons": [
                { "Code": "None" },
                { "Code": "ConditionalCheckFailed", "Item": item_json("b") },
            ],
        }),
    })
    .await;
    let kvs = kvs_on(&server);

    let err = kvs
        .transact([
            TransactWrite::put(TABLE, item_of("a")),
            TransactWrite::insert(TABLE, item_of("b")),
        ])
        .await
        .unwrap_err();

    assert_eq!(err.kind(), &ErrorKind::TransactionCanceled, "{err}");
    assert_eq!(
        err.reasons(),
        Some(&[None, Some(ErrorKind::AlreadyExists)][..]),
        "{err}"
    );
    assert_eq!(server.calls("TransactWriteItems"), 1);
}

/// A server that gives fewer reasons than writes does not make a short reason list:
/// the reasons are judged by reading the items (here both writes look possible, so the
/// cancellation cannot be explained: `Backend`).
#[tokio::test]
async fn transaction_with_too_few_reasons_is_not_misreported() {
    let server = FakeDynamo::start(|op, _, _| match op {
        "TransactWriteItems" => canceled(&["ConditionalCheckFailed"]),
        "GetItem" => Reply::ok(json!({})),
        other => panic!("unexpected {other}"),
    })
    .await;
    let kvs = kvs_on(&server);

    let err = two_puts(&kvs).await.unwrap_err();

    assert_eq!(err.kind(), &ErrorKind::Backend, "{err}");
    assert_eq!(server.calls("GetItem"), 2);
}

/// The fake server's own bookkeeping: calls per operation and the in-flight maximum,
/// so that the counts above mean what they say.
#[tokio::test]
async fn fake_server_counts_calls_and_overlap() {
    let seen = std::sync::Arc::new(Mutex::new(HashSet::new()));
    // Held until both are in flight, so that the overlap is seen however slowly the
    // test runs.
    let server = FakeDynamo::start_gated(2, Duration::from_millis(20), {
        let seen = seen.clone();
        move |op, _, call| {
            seen.lock().unwrap().insert((op.to_owned(), call));
            Reply::ok(json!({}))
        }
    })
    .await;
    let kvs = kvs_on(&server);
    let (a, b) = tokio::join!(kvs.get(TABLE, "a"), kvs.get(TABLE, "b"));
    assert_eq!((a.unwrap(), b.unwrap()), (None, None));
    assert_eq!(server.calls("GetItem"), 2);
    assert_eq!(server.total_calls(), 2);
    assert_eq!(server.max_in_flight(), 2);
    let seen = seen.lock().unwrap();
    assert!(seen.contains(&("GetItem".to_owned(), 0)) && seen.contains(&("GetItem".to_owned(), 1)));
}

// --- Credentials and contention ------------------------------------------------------

/// Credentials the service refuses (unknown, expired, a bad signature) are
/// `Unauthenticated`, and sending again cannot help: one request.
#[tokio::test]
async fn refused_credentials_are_unauthenticated_and_not_resent() {
    for code in [
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "ExpiredTokenException",
    ] {
        let server = FakeDynamo::start(move |_, _, _| Reply::error(400, code, "refused")).await;
        let kvs = kvs_on(&server);

        let err = kvs.get(TABLE, "a").await.unwrap_err();

        assert_eq!(err.kind(), &ErrorKind::Unauthenticated, "{code}: {err}");
        assert_eq!(server.total_calls(), 1, "{code}");
    }
}

/// Valid credentials that may not do the action: `PermissionDenied`, one request.
#[tokio::test]
async fn access_denied_is_permission_denied() {
    let server =
        FakeDynamo::start(|_, _, _| Reply::error(400, "AccessDeniedException", "not authorized"))
            .await;
    let kvs = kvs_on(&server);

    let err = kvs.upsert(TABLE, item_of("a")).await.unwrap_err();

    assert_eq!(err.kind(), &ErrorKind::PermissionDenied, "{err}");
    assert_eq!(server.total_calls(), 1);
}

/// A client with no credentials at all: `Unauthenticated` (not `Unavailable`), and
/// nothing reaches the server.
#[tokio::test]
async fn a_client_without_credentials_is_unauthenticated() {
    use aws_sdk_dynamodb::config::{BehaviorVersion, Region};
    let server = FakeDynamo::start(|_, _, _| Reply::ok(json!({}))).await;
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(server.endpoint())
        .region(Region::new("us-east-1"))
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    let client = aws_sdk_dynamodb::Client::from_conf(config);
    let kvs = Kvs::new(DynamoDbBackend::new(&client).with_backoff(FAST));
    kvs.register_store(StoreSchema::new(TABLE, KeyAttr::string("id")))
        .unwrap();

    let err = kvs.get(TABLE, "a").await.unwrap_err();

    assert_eq!(err.kind(), &ErrorKind::Unauthenticated, "{err}");
    assert_eq!(server.total_calls(), 0);
}

/// A transaction that meets a conflict with other writers every time: `Conflict` (not
/// `Throttled`), after trying again with backoff.
#[tokio::test]
async fn a_transaction_that_always_conflicts_is_conflict() {
    let server = FakeDynamo::start(|_, _, _| canceled(&["None", "TransactionConflict"])).await;
    let kvs = kvs_on(&server);

    let err = two_puts(&kvs).await.unwrap_err();

    assert_eq!(err.kind(), &ErrorKind::Conflict, "{err}");
    assert!(err.is_retryable(false), "nothing changed: {err}");
    assert!(server.calls("TransactWriteItems") > 1, "tried again");
}

/// An update DynamoDB cannot do natively (DELETE of list elements) reads the item and
/// writes under the condition that it did not change; when it changes every time, the
/// update gives up with `Conflict`, not `Throttled`.
#[tokio::test]
async fn an_emulated_update_that_keeps_losing_is_conflict() {
    let server = FakeDynamo::start(|op, _, call| match op {
        "GetItem" => Reply::ok(json!({
            "Item": { "id": { "S": "c" }, "l": { "L": [{ "N": call.to_string() }] } }
        })),
        "UpdateItem" => Reply::Json {
            status: 400,
            body: json!({
                "__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
                "message": "The conditional request failed",
                // Another writer got there first: the list is not what was read.
                "Item": { "id": { "S": "c" }, "l": { "L": [{ "N": "-1" }] } },
            }),
        },
        other => panic!("unexpected {other}"),
    })
    .await;
    let kvs = kvs_on(&server);

    let err = kvs
        .update(TABLE, "c")
        .delete("l", Value::list([7]))
        .await
        .unwrap_err();

    assert_eq!(err.kind(), &ErrorKind::Conflict, "{err}");
    assert!(server.calls("GetItem") > 1, "read again after losing");
}

fn tokens_of(server: &FakeDynamo) -> Vec<String> {
    server
        .requests("TransactWriteItems")
        .iter()
        .map(|b| {
            b["ClientRequestToken"]
                .as_str()
                .expect("a token")
                .to_owned()
        })
        .collect()
}

/// A transaction holding an ADD whose first request broke after it was sent (the
/// outcome unknown: DynamoDB may have applied it), then throttled on the resends under
/// that token, is never sent under a new token (which DynamoDB would apply again): it
/// is answered under its own token, or its outcome is unknown (`Unavailable`).
#[tokio::test]
async fn ambiguous_then_throttled_transaction_is_not_sent_under_a_new_token() {
    let server = FakeDynamo::start(|op, _, call| {
        assert_eq!(op, "TransactWriteItems");
        match call {
            0 => Reply::Close,
            1 | 2 => Reply::throttled(),
            _ => Reply::ok(json!({})),
        }
    })
    .await;
    let kvs = kvs_on(&server);
    let result = kvs
        .transact([TransactWrite::update(
            TABLE,
            "c",
            kvs::Updates::new().add("n", 1),
        )])
        .await;
    let tokens = tokens_of(&server);
    assert!(
        tokens.iter().all(|t| *t == tokens[0]),
        "an ADD transaction whose first request may have been applied was sent under \
         another token: {tokens:?} (result {result:?})"
    );
    // Answered under its own token, or the outcome is unknown.
    if let Err(e) = result {
        assert_eq!(e.kind(), &ErrorKind::Unavailable, "{e}");
    }
}

/// The same with TransactionInProgressException on the resends (what DynamoDB answers
/// while the first request under the token is still being applied).
#[tokio::test]
async fn ambiguous_then_in_progress_transaction_is_not_sent_under_a_new_token() {
    let server = FakeDynamo::start(|op, _, call| {
        if op == "GetItem" {
            return Reply::ok(json!({ "Item": { "id": { "S": "c" }, "n": { "N": "1" } } }));
        }
        assert_eq!(op, "TransactWriteItems");
        match call {
            0 => Reply::Close,
            1 | 2 => Reply::error(
                400,
                "TransactionInProgressException",
                "the transaction with this token is in progress",
            ),
            _ => Reply::ok(json!({})),
        }
    })
    .await;
    let kvs = kvs_on(&server);
    let result = kvs
        .transact([TransactWrite::update(
            TABLE,
            "c",
            kvs::Updates::new().add("n", 1),
        )])
        .await;
    let tokens = tokens_of(&server);
    assert!(
        tokens.iter().all(|t| *t == tokens[0]),
        "an ADD transaction whose first request may have been applied was sent under \
         another token: {tokens:?} (result {result:?})"
    );
    // Answered under its own token, or the outcome is unknown.
    if let Err(e) = result {
        assert_eq!(e.kind(), &ErrorKind::Unavailable, "{e}");
    }
}

/// A conditional SET (optimistic concurrency: version 1 -> 2 if version is 1) whose
/// request broke after it was sent (and was applied) is not sent again: resent, its
/// condition would fail on the item it wrote itself, and the caller would be told
/// `ConditionFailed` ("nothing changed") for a write that was made. A conditional write
/// is not idempotent (a put and a delete say so too); the outcome is unknown:
/// `Unavailable`.
#[tokio::test]
async fn conditional_update_is_not_resent_after_an_ambiguous_failure() {
    let server = FakeDynamo::start(|op, _, call| {
        assert_eq!(op, "UpdateItem");
        match call {
            // Applied, then the connection broke.
            0 => Reply::Close,
            _ => Reply::Json {
                status: 400,
                body: json!({
                    "__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
                    "message": "The conditional request failed",
                    "Item": { "id": { "S": "c" }, "version": { "N": "2" } },
                }),
            },
        }
    })
    .await;
    let kvs = kvs_on(&server);
    let result = kvs
        .update(TABLE, "c")
        .set("version", 2)
        .when(kvs::attr("version").eq(1))
        .await;
    let err = result.unwrap_err();
    assert_eq!(
        err.kind(),
        &ErrorKind::Unavailable,
        "a write that may have been made is reported as {err}"
    );
}

/// A transaction's update with an emulated op (DELETE of set elements) reads the item
/// first; read as missing, its ops were computed on no item, so it is sent under a
/// guard no item meets (to exist and not to exist): were the item created between the
/// read and the transaction, the transaction still fails (a lost race, read again),
/// rather than writing the placeholder the request needs over an attribute. (The fake
/// server accepts whatever it is sent: the guard on the wire is what is checked.)
#[tokio::test]
async fn transaction_update_read_as_missing_is_guarded_to_fail() {
    let server = FakeDynamo::start(|op, _, _| match op {
        "GetItem" => Reply::ok(json!({})),
        "TransactWriteItems" => Reply::ok(json!({})),
        other => panic!("unexpected {other}"),
    })
    .await;
    let kvs = kvs_on(&server);
    let _ = kvs
        .transact([TransactWrite::update(
            TABLE,
            "c",
            kvs::Updates::new().delete(
                "tags",
                Value::StringSet(std::collections::BTreeSet::from(["x".to_owned()])),
            ),
        )])
        .await;
    let body = &server.requests("TransactWriteItems")[0];
    let update = &body["TransactItems"][0]["Update"];
    let condition = update["ConditionExpression"].as_str().unwrap_or("");
    let names = &update["ExpressionAttributeNames"];
    let pk = names
        .as_object()
        .and_then(|m| m.iter().find(|(_, v)| *v == "id"))
        .map(|(k, _)| k.clone())
        .expect("the key attribute is named");
    assert!(
        condition.contains(&format!("attribute_exists({pk})"))
            && condition.contains(&format!("NOT (attribute_exists({pk}))")),
        "an update read as missing was sent under {condition:?}, which an item created \
         meanwhile could meet"
    );
}

/// An unconditional delete whose first request broke after it was sent (it may have
/// deleted the item) is not sent again: a resend would find no item and answer that
/// there was none; the outcome is unknown (`Unavailable`).
#[tokio::test]
async fn delete_is_not_resent_after_an_ambiguous_failure() {
    let server = FakeDynamo::start(|op, _, call| {
        assert_eq!(op, "DeleteItem");
        match call {
            0 => Reply::Close,
            _ => Reply::ok(json!({})),
        }
    })
    .await;
    let kvs = kvs_on(&server);
    let result = kvs.delete(TABLE, "c").await;
    let err = result.expect_err("a delete whose outcome is unknown answered");
    assert_eq!(err.kind(), &ErrorKind::Unavailable, "{err}");
    assert_eq!(server.calls("DeleteItem"), 1, "not sent again");
}
