//! The whole conformance suite on Firestore, against Google's Cloud Firestore emulator
//! started by the tests themselves (one per test binary, a project per test; see
//! `support/firestore_emulator.rs`), and what is particular to Firestore: documents
//! written by kvs are ordinary Firestore documents, keys of any length find their
//! document, and Firestore's errors map to kvs's kinds.
//!
//! Where the emulator (its jar, or Java) is missing, every test prints `SKIPPED` and
//! passes; with `KVS_REQUIRE_FIRESTORE=1` (CI) it fails instead.

mod support {
    pub mod env;
    pub mod firestore_emulator;
}

use support::firestore_emulator as emulator;

async fn kvs() -> Option<kvs::Kvs> {
    emulator::backend().await.map(kvs::Kvs::new)
}

kvs::conformance_tests!(optional kvs);

use firestore::gcloud_sdk::google::firestore::v1::{
    CommitRequest, Document, GetDocumentRequest, Value as FsValue, Write, value::ValueType, write,
};
use kvs::firestore::FirestoreBackend;
use kvs::{
    ErrorKind, IndexSchema, Item, Key, KeyAttr, Kvs, SortCondition, StoreSchema, TransactWrite,
    Value, attr, item,
};

/// A backend and a handle on it for a fresh project, or `None` (the emulator is
/// missing; said loudly by the support module).
async fn setup() -> Option<(firestore::FirestoreDb, FirestoreBackend, Kvs)> {
    let db = emulator::db().await?;
    let backend = FirestoreBackend::new(&db);
    Some((db.clone(), backend.clone(), Kvs::new(backend)))
}

/// A document read with a plain gRPC `GetDocument`, as any Firestore program reads it.
async fn raw_document(db: &firestore::FirestoreDb, path: &str) -> Option<Document> {
    let name = format!("{}/{path}", db.get_documents_path());
    match db
        .client()
        .get()
        .get_document(GetDocumentRequest {
            name,
            ..Default::default()
        })
        .await
    {
        Ok(doc) => Some(doc.into_inner()),
        Err(s) if s.code() == firestore::gcloud_sdk::tonic::Code::NotFound => None,
        Err(s) => panic!("GetDocument: {s}"),
    }
}

fn kind(v: &FsValue) -> &ValueType {
    v.value_type.as_ref().expect("a value")
}

fn array(v: &FsValue) -> Vec<ValueType> {
    match kind(v) {
        ValueType::ArrayValue(a) => a
            .values
            .iter()
            .map(|v| v.value_type.clone().unwrap())
            .collect(),
        other => panic!("not an array: {other:?}"),
    }
}

/// Items written by kvs are ordinary Firestore documents: each attribute a field of its
/// native type (key attributes too), read back with plain Firestore calls, both the
/// gRPC client and the `firestore` crate's serde API; sets are sorted native arrays
/// (with a record of which fields are sets), and a list in a list is wrapped in a map.
#[tokio::test]
async fn items_written_by_kvs_are_native_firestore_documents() {
    let Some((db, backend, kvs)) = setup().await else {
        return;
    };
    kvs.ensure_store(
        StoreSchema::new("native", KeyAttr::string("id")).sort_key(KeyAttr::number("at")),
    )
    .await
    .unwrap();
    let written = item! {
        "id" => "a", "at" => 7,
        "int" => i64::MIN, "float" => 0.1, "whole" => 2.0, "text" => "héllo",
        "bin" => Value::bytes([0, 255]), "flag" => true, "nothing" => Value::Null,
        "list" => Value::list([Value::from(1), Value::from("x")]),
        "map" => item! { "k" => "v", "deep" => item! { "n" => 1 } },
        "tags" => Value::string_set(["b", "a"]),
        "grid" => Value::list([Value::list([1, 2])]),
    };
    kvs.upsert("native", written.clone()).await.unwrap();
    let path = backend.document_path("native", &Key::with_sort("a", 7));
    assert_eq!(path, "native/sa~n7");
    let doc = raw_document(&db, &path).await.expect("the document");
    let f = &doc.fields;
    assert_eq!(kind(&f["id"]), &ValueType::StringValue("a".into()));
    assert_eq!(kind(&f["at"]), &ValueType::IntegerValue(7));
    assert_eq!(kind(&f["int"]), &ValueType::IntegerValue(i64::MIN));
    assert_eq!(kind(&f["float"]), &ValueType::DoubleValue(0.1));
    assert_eq!(kind(&f["whole"]), &ValueType::DoubleValue(2.0));
    assert_eq!(kind(&f["text"]), &ValueType::StringValue("héllo".into()));
    assert_eq!(kind(&f["bin"]), &ValueType::BytesValue(vec![0, 255]));
    assert_eq!(kind(&f["flag"]), &ValueType::BooleanValue(true));
    assert_eq!(kind(&f["nothing"]), &ValueType::NullValue(0));
    assert_eq!(
        array(&f["list"]),
        [
            ValueType::IntegerValue(1),
            ValueType::StringValue("x".into())
        ]
    );
    let ValueType::MapValue(map) = kind(&f["map"]) else {
        panic!("map: {:?}", f["map"]);
    };
    assert_eq!(kind(&map.fields["k"]), &ValueType::StringValue("v".into()));
    assert_eq!(
        array(&f["tags"]),
        [
            ValueType::StringValue("a".into()),
            ValueType::StringValue("b".into())
        ]
    );
    assert_eq!(
        array(&f[kvs::firestore::value::SETS]),
        [ValueType::StringValue("SS:.tags".into())]
    );
    let [ValueType::MapValue(wrapped)] = &array(&f["grid"])[..] else {
        panic!("grid: {:?}", f["grid"]);
    };
    assert_eq!(
        array(&wrapped.fields[kvs::firestore::value::LIST]),
        [ValueType::IntegerValue(1), ValueType::IntegerValue(2)]
    );
    assert_eq!(
        kvs.get("native", Key::with_sort("a", 7)).await.unwrap(),
        Some(written)
    );

    // The firestore crate's own serde API reads the document into a plain struct.
    #[derive(serde::Deserialize, Debug)]
    struct Plain {
        id: String,
        at: i64,
        float: f64,
        text: String,
        flag: bool,
        tags: Vec<String>,
        map: std::collections::HashMap<String, serde_json::Value>,
    }
    let plain: Plain = db
        .fluent()
        .select()
        .by_id_in("native")
        .obj()
        .one("sa~n7")
        .await
        .unwrap()
        .expect("the document, by id");
    assert_eq!((plain.id.as_str(), plain.at, plain.float), ("a", 7, 0.1));
    assert_eq!((plain.text.as_str(), plain.flag), ("héllo", true));
    assert_eq!(plain.tags, ["a", "b"]);
    assert_eq!(plain.map["k"], serde_json::json!("v"));
}

/// Documents written by other programs, with types kvs has no value for, are read
/// whole: a timestamp as its RFC 3339 string, a geo point as a map, a reference as its
/// name; plain fields as they are.
#[tokio::test]
async fn documents_written_by_other_programs_are_read() {
    let Some((db, backend, kvs)) = setup().await else {
        return;
    };
    kvs.ensure_store(StoreSchema::new("foreign", KeyAttr::string("id")))
        .await
        .unwrap();
    let name = format!(
        "{}/{}",
        db.get_documents_path(),
        backend.document_path("foreign", &Key::new("f"))
    );
    let v = |t| FsValue {
        value_type: Some(t),
    };
    let fields = [
        ("id", v(ValueType::StringValue("f".into()))),
        ("n", v(ValueType::IntegerValue(3))),
        (
            "when",
            v(ValueType::TimestampValue(
                firestore::gcloud_sdk::prost_types::Timestamp {
                    seconds: 1_700_000_000,
                    nanos: 0,
                },
            )),
        ),
        (
            "where",
            v(ValueType::GeoPointValue(
                firestore::gcloud_sdk::google::r#type::LatLng {
                    latitude: 48.5,
                    longitude: 2.25,
                },
            )),
        ),
        ("ref", v(ValueType::ReferenceValue(name.clone()))),
        ("tags", v(ValueType::ArrayValue(Default::default()))),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    db.client()
        .get()
        .commit(CommitRequest {
            database: db.get_database_path().clone(),
            writes: vec![Write {
                operation: Some(write::Operation::Update(Document {
                    name: name.clone(),
                    fields,
                    ..Default::default()
                })),
                ..Default::default()
            }],
            ..Default::default()
        })
        .await
        .unwrap();
    let got = kvs
        .get("foreign", "f")
        .await
        .unwrap()
        .expect("the document");
    assert_eq!(
        got,
        item! {
            "id" => "f", "n" => 3, "when" => "2023-11-14T22:13:20Z",
            "where" => item! { "latitude" => 48.5, "longitude" => 2.25 },
            "ref" => name.as_str(), "tags" => Value::List(vec![]),
        }
    );
    // And kvs updates it like any item, keeping what it does not touch.
    let new = kvs.update("foreign", "f").add("n", 1).await.unwrap();
    assert_eq!(new["n"], Value::from(4));
    assert_eq!(new["when"], Value::from("2023-11-14T22:13:20Z"));
}

/// Keys far beyond Firestore's 1,500-byte document ids get a hashed id, and the item is
/// still found by get, query, scan, update, delete and batches; ids never exceed the
/// limit. Over 1,499 bytes Firestore refuses a value in a query and orders by its first
/// 1,500 bytes: such a partition value makes a query `Unsupported`, never a wrong
/// answer, and everything else works on it; such a sort value is not written
/// (`Validation`).
#[tokio::test]
async fn long_keys_find_their_document() {
    let Some((db, backend, kvs)) = setup().await else {
        return;
    };
    kvs.ensure_store(
        StoreSchema::new("long", KeyAttr::string("pk")).sort_key(KeyAttr::string("sk")),
    )
    .await
    .unwrap();
    // The longest partition value Firestore queries, and sort values that make the id
    // long: the ids are hashed.
    let pk = "p".repeat(1499);
    let keys: Vec<Key> = (0..3)
        .map(|i| Key::with_sort(pk.as_str(), format!("{}{i}", "s".repeat(600))))
        .collect();
    for (i, k) in keys.iter().enumerate() {
        let (p, s) = k.clone().into_parts();
        kvs.upsert(
            "long",
            item! { "pk" => p, "sk" => s.unwrap(), "n" => i as i64 },
        )
        .await
        .unwrap();
    }
    // Another partition that shares the long one's first 1,498 bytes.
    let near = format!("{}q", "p".repeat(1498));
    kvs.upsert(
        "long",
        item! { "pk" => near.as_str(), "sk" => "x", "n" => 9 },
    )
    .await
    .unwrap();
    for (i, k) in keys.iter().enumerate() {
        let path = backend.document_path("long", k);
        let id = path.rsplit('/').next().unwrap();
        assert!(id.len() <= 1500 && id.starts_with('h'), "{id}");
        assert!(raw_document(&db, &path).await.is_some());
        let got = kvs.get("long", k.clone()).await.unwrap().unwrap();
        assert_eq!(got["n"], Value::from(i as i64));
    }
    let page = kvs.query("long", pk.as_str()).limit(2).await.unwrap();
    assert_eq!(page.items.len(), 2);
    let next = kvs
        .query("long", pk.as_str())
        .page_token(page.next_page_token.clone().expect("a token"))
        .await
        .unwrap();
    let mut ns: Vec<Value> = page
        .items
        .iter()
        .chain(&next.items)
        .map(|i| i["n"].clone())
        .collect();
    assert_eq!(ns, [Value::from(0), Value::from(1), Value::from(2)]);
    let desc = kvs
        .query("long", pk.as_str())
        .sort(SortCondition::begins_with("s".repeat(600)))
        .descending()
        .await
        .unwrap();
    ns = desc.items.iter().map(|i| i["n"].clone()).collect();
    assert_eq!(ns, [Value::from(2), Value::from(1), Value::from(0)]);
    assert_eq!(kvs.scan("long").await.unwrap().items.len(), 4);
    let got = kvs.get_many("long", keys.clone()).await.unwrap();
    assert!(got.iter().all(Option::is_some));
    kvs.update("long", keys[0].clone())
        .add("n", 10)
        .await
        .unwrap();
    kvs.delete_many("long", keys[1..].to_vec()).await.unwrap();
    let left = kvs.query("long", pk.as_str()).await.unwrap();
    assert_eq!(left.items.len(), 1);
    assert_eq!(left.items[0]["n"], Value::from(10));

    // A longer partition value (the store has no index): stored, read and scanned, but
    // a query that would need Firestore to compare it is `Unsupported`, saying why.
    let huge = "h".repeat(3000);
    let k = Key::with_sort(huge.as_str(), "a");
    kvs.upsert("long", item! { "pk" => huge.as_str(), "sk" => "a" })
        .await
        .unwrap();
    assert!(kvs.get("long", k.clone()).await.unwrap().is_some());
    let err = kvs.query("long", huge.as_str()).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Unsupported, "{err}");
    assert!(err.message().contains("1499 bytes"), "{err}");
    // A longer sort value, which queries would order by, is not written: the backend
    // declares the longest (`max_ordered_key_bytes`), so every item can be queried.
    let err = kvs
        .upsert("long", item! { "pk" => "short", "sk" => "z".repeat(2000) })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Validation, "{err}");
    assert!(err.message().contains("\"sk\" is 2000 bytes"), "{err}");
    assert_eq!(kvs.query("long", "short").await.unwrap().items.len(), 0);
    assert_eq!(kvs.scan("long").await.unwrap().items.len(), 3);
}

/// A transaction's condition check writes nothing: the document keeps its update time
/// (it is checked by a guarded update of no field); a failed one leaves everything as
/// it was, with the reason by position.
#[tokio::test]
async fn a_condition_check_changes_nothing() {
    let Some((db, backend, kvs)) = setup().await else {
        return;
    };
    kvs.ensure_store(StoreSchema::new("checks", KeyAttr::string("id")))
        .await
        .unwrap();
    kvs.upsert("checks", item! { "id" => "c", "state" => "open" })
        .await
        .unwrap();
    let path = backend.document_path("checks", &Key::new("c"));
    let before = raw_document(&db, &path).await.unwrap().update_time;
    kvs.transact([
        TransactWrite::check("checks", "c", attr("state").eq("open")),
        TransactWrite::put("checks", item! { "id" => "d" }),
        TransactWrite::check("checks", "missing", attr("id").not_exists()),
    ])
    .await
    .unwrap();
    let after = raw_document(&db, &path).await.unwrap().update_time;
    assert_eq!(before, after, "a condition check changed the update time");
    assert!(
        raw_document(&db, &backend.document_path("checks", &Key::new("missing")))
            .await
            .is_none()
    );
    let err = kvs
        .transact([
            TransactWrite::check("checks", "c", attr("state").eq("closed")),
            TransactWrite::put("checks", item! { "id" => "e" }),
        ])
        .await
        .unwrap_err();
    assert_eq!(
        err.reasons().unwrap(),
        [Some(ErrorKind::ConditionFailed), None]
    );
    assert_eq!(kvs.get("checks", "e").await.unwrap(), None);
}

/// A TCP proxy to the emulator that can be cut: connections through it work until
/// [`Proxy::cut`], after which every connection is refused.
///
/// Its port stays held after the cut, by a second socket bound to it and not listening
/// (`SO_REUSEPORT` lets the two share it): were the port freed, a port-0 listener of a
/// test running alongside could get it, and the requests meant to be refused would reach
/// that test's server.
struct Proxy {
    port: u16,
    tasks: tokio::task::JoinSet<()>,
    /// The port's holder once cut.
    held: Option<tokio::net::TcpSocket>,
}

/// A TCP socket on `port` of the loopback that shares it with others bound the same way.
fn shared_socket(port: u16) -> tokio::net::TcpSocket {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_reuseport(true).unwrap();
    socket.bind(([127, 0, 0, 1], port).into()).unwrap();
    socket
}

impl Proxy {
    async fn start(upstream: &'static str) -> Proxy {
        let listener = shared_socket(0).listen(64).unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut tasks = tokio::task::JoinSet::new();
        tasks.spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            while let Ok((mut inbound, _)) = listener.accept().await {
                conns.spawn(async move {
                    if let Ok(mut out) = tokio::net::TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                    }
                });
            }
        });
        Proxy {
            port,
            tasks,
            held: None,
        }
    }

    /// Drops the listener and every connection through it; the port stays held, so
    /// that connecting to it is refused.
    async fn cut(&mut self) {
        self.held = Some(shared_socket(self.port));
        self.tasks.abort_all();
        while self.tasks.join_next().await.is_some() {}
    }
}

/// Firestore's errors reach the caller as kvs kinds with the gRPC status as the source:
/// a refused connection is `Unavailable` (tried again with backoff first), and a value
/// Firestore cannot hold is `Validation` naming the attribute before anything is sent.
#[tokio::test]
async fn errors_map_to_kvs_kinds() {
    let Some((_, _, kvs)) = setup().await else {
        return;
    };
    let mut proxy = Proxy::start(emulator::host().unwrap()).await;
    let options = firestore::FirestoreDbOptions::new(emulator::fresh_project())
        .with_firebase_api_url(format!("http://127.0.0.1:{}", proxy.port));
    let db = firestore::FirestoreDb::with_options(options).await.unwrap();
    let quick = kvs::retry::Backoff {
        attempts: 2,
        base: std::time::Duration::from_millis(1),
        max: std::time::Duration::from_millis(2),
    };
    let down = Kvs::new(FirestoreBackend::new(&db).with_backoff(quick));
    let schema = StoreSchema::new("errs", KeyAttr::string("id"));
    down.ensure_store(schema.clone()).await.unwrap();
    down.upsert("errs", item! { "id" => "x" }).await.unwrap();
    assert!(down.get("errs", "x").await.unwrap().is_some());
    proxy.cut().await;
    let err = down.get("errs", "x").await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Unavailable, "{err}");
    let status = std::error::Error::source(&err)
        .and_then(|s| s.downcast_ref::<firestore::gcloud_sdk::tonic::Status>());
    assert!(status.is_some(), "the gRPC status is the source: {err:?}");
    for err in [
        down.update("errs", "x").add("n", 1).await.unwrap_err(),
        down.query("errs", "x").await.unwrap_err(),
        down.get_many("errs", ["x", "y"]).await.unwrap_err(),
    ] {
        assert_eq!(err.kind(), &ErrorKind::Unavailable, "{err}");
    }

    kvs.ensure_store(schema).await.unwrap();
    // A list nested past Firestore's depth (each list in a list is wrapped in a map):
    // `Validation` naming the attribute, and nothing written.
    let mut deep = Value::from(1);
    for _ in 0..12 {
        deep = Value::list([deep]);
    }
    let err = kvs
        .upsert("errs", item! { "id" => "d", "grid" => deep })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Validation, "{err}");
    assert!(err.to_string().contains("grid"), "{err}");
    assert_eq!(kvs.get("errs", "d").await.unwrap(), None);
    assert!(!kvs.capabilities().exact_decimals);
}

/// The index file declares, per store and per secondary index, the composite indexes
/// Firestore's documentation requires for an equality on one field ordered by others
/// (both directions; a secondary index's ties by the table key), in the JSON form
/// `firebase deploy` reads.
#[test]
fn the_index_file_declares_each_query_shape() {
    let orders = StoreSchema::new("orders", KeyAttr::string("id"))
        .index(IndexSchema::new("byUser", KeyAttr::string("user")).sort_key(KeyAttr::number("at")))
        .index(IndexSchema::new("byCoupon", KeyAttr::string("coupon")));
    let events =
        StoreSchema::new("events", KeyAttr::string("stream")).sort_key(KeyAttr::number("seq"));
    let file: serde_json::Value =
        serde_json::from_str(&kvs::firestore::index_file("prod-", &[orders, events])).unwrap();
    let shapes: Vec<(String, Vec<(String, String)>)> = file["indexes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            assert_eq!(i["queryScope"], "COLLECTION");
            let fields = i["fields"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| {
                    (
                        f["fieldPath"].as_str().unwrap().to_owned(),
                        f["order"].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
            (i["collectionGroup"].as_str().unwrap().to_owned(), fields)
        })
        .collect();
    let s = |c: &str, f: &[(&str, &str)]| {
        (
            c.to_owned(),
            f.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect::<Vec<_>>(),
        )
    };
    assert_eq!(
        shapes,
        [
            // The table (key `id` alone) needs none: a query finds one item at most.
            // An index's ties are ordered by the table key (`id`), in the same direction.
            s(
                "prod-orders",
                &[
                    ("user", "ASCENDING"),
                    ("at", "ASCENDING"),
                    ("id", "ASCENDING")
                ]
            ),
            s(
                "prod-orders",
                &[
                    ("user", "ASCENDING"),
                    ("at", "DESCENDING"),
                    ("id", "DESCENDING")
                ]
            ),
            s(
                "prod-orders",
                &[("coupon", "ASCENDING"), ("id", "ASCENDING")]
            ),
            s(
                "prod-orders",
                &[("coupon", "ASCENDING"), ("id", "DESCENDING")]
            ),
            s(
                "prod-events",
                &[("stream", "ASCENDING"), ("seq", "ASCENDING")]
            ),
            s(
                "prod-events",
                &[("stream", "ASCENDING"), ("seq", "DESCENDING")]
            ),
        ]
    );
    assert_eq!(file["fieldOverrides"], serde_json::json!([]));
}

/// Queries on Firestore keep the contract where Firestore's own operators would not:
/// `!=` keeps items missing the attribute or holding null (Firestore drops them), and
/// a page holds exactly `limit` matches.
#[tokio::test]
async fn filters_keep_the_contract_where_firestore_would_not() {
    let Some((_, _, kvs)) = setup().await else {
        return;
    };
    kvs.ensure_store(StoreSchema::new("neq", KeyAttr::string("pk")).sort_key(KeyAttr::number("n")))
        .await
        .unwrap();
    let items: Vec<Item> = (0..10)
        .map(|n| match n % 3 {
            0 => item! { "pk" => "p", "n" => n, "c" => "red" },
            1 => item! { "pk" => "p", "n" => n, "c" => Value::Null },
            _ => item! { "pk" => "p", "n" => n },
        })
        .collect();
    kvs.upsert_many("neq", items).await.unwrap();
    let page = kvs
        .query("neq", "p")
        .filter(attr("c").ne("red"))
        .limit(3)
        .await
        .unwrap();
    let ns: Vec<Value> = page.items.iter().map(|i| i["n"].clone()).collect();
    assert_eq!(ns, [Value::from(1), Value::from(2), Value::from(4)]);
    assert!(page.next_page_token.is_some());
}

/// Documents written by kvs read with Google's own Python client
/// (`google-cloud-firestore`): every attribute is the plain Python value of its type.
/// Runs where `KVS_FIRESTORE_PYTHON` names a python with the client
/// (`scripts/firestore-python.sh install`); otherwise it says it was skipped, and with
/// `KVS_REQUIRE_FIRESTORE_PYTHON=1` (CI) it fails.
#[tokio::test]
async fn python_client_reads_kvs_documents() {
    let python = std::env::var("KVS_FIRESTORE_PYTHON")
        .ok()
        .filter(|p| !p.trim().is_empty());
    let Some(python) = python else {
        assert!(
            std::env::var("KVS_REQUIRE_FIRESTORE_PYTHON").is_err(),
            "KVS_REQUIRE_FIRESTORE_PYTHON is set, but KVS_FIRESTORE_PYTHON is not: run \
             scripts/firestore-python.sh install and set it to the venv's python"
        );
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED python_client_reads_kvs_documents: set KVS_FIRESTORE_PYTHON \
             (scripts/firestore-python.sh install; scripts/firestore-python.sh python)"
        );
        return;
    };
    let Some((db, backend, kvs)) = setup().await else {
        return;
    };
    kvs.ensure_store(StoreSchema::new("py", KeyAttr::string("id")))
        .await
        .unwrap();
    kvs.upsert(
        "py",
        item! {
            "id" => "a/b", "int" => -7, "float" => 1.5, "text" => "héllo",
            "bin" => Value::bytes([0, 255]), "flag" => false, "nothing" => Value::Null,
            "list" => Value::list([Value::from(1), Value::from("x")]),
            "map" => item! { "k" => 2 },
            "tags" => Value::string_set(["b", "a"]),
        },
    )
    .await
    .unwrap();
    let path = backend.document_path("py", &Key::new("a/b"));
    let (collection, id) = path.split_once('/').unwrap();
    let project = db.get_database_path().split('/').nth(1).unwrap().to_owned();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/firestore_read.py");
    let out = tokio::process::Command::new(python.trim())
        .arg(script)
        .args([project.as_str(), collection, id])
        .env("FIRESTORE_EMULATOR_HOST", emulator::host().unwrap())
        .output()
        .await
        .expect("the Python reader runs");
    assert!(
        out.status.success(),
        "the Python reader failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let want = serde_json::json!({
        "id": ["str", "a/b"],
        "int": ["int", -7],
        "float": ["float", 1.5],
        "text": ["str", "héllo"],
        "bin": ["bytes", "00ff"],
        "flag": ["bool", false],
        "nothing": ["null", null],
        "list": ["list", [["int", 1], ["str", "x"]]],
        "map": ["dict", { "k": ["int", 2] }],
        "tags": ["list", [["str", "a"], ["str", "b"]]],
        "~sets": ["list", [["str", "SS:.tags"]]],
    });
    assert_eq!(got, want);
}

/// Reads with a projection bring only what they ask for (Firestore's field masks), for
/// gets, batches, queries and scans.
#[tokio::test]
async fn projected_reads_bring_only_what_they_ask() {
    let Some(kvs) = kvs().await else {
        return;
    };
    kvs::conformance::projections::native_projections_read_only_what_they_ask(kvs, true).await;
}

/// An item of a store whose items expire carries its expiry as a Firestore timestamp,
/// `~expires`, which the TTL policy `index_file` declares deletes by; the item's own
/// attribute stays a number, and an item without one has no timestamp.
#[tokio::test]
async fn expiring_items_carry_a_timestamp_for_the_ttl_policy() {
    let Some((db, backend, kvs)) = setup().await else {
        return;
    };
    let schema = StoreSchema::new("sessions", KeyAttr::string("id")).ttl("exp");
    kvs.ensure_store(schema.clone()).await.unwrap();
    kvs.upsert("sessions", item! { "id" => "s1", "exp" => 2_000_000_000 })
        .await
        .unwrap();
    kvs.upsert(
        "sessions",
        item! { "id" => "s2", "exp" => 2_000_000_000.25 },
    )
    .await
    .unwrap();
    kvs.upsert("sessions", item! { "id" => "s3" })
        .await
        .unwrap();
    let fields = |id: &str| {
        let path = backend.document_path("sessions", &Key::new(id));
        let db = db.clone();
        async move { raw_document(&db, &path).await.expect("the document").fields }
    };
    let f = fields("s1").await;
    assert_eq!(kind(&f["exp"]), &ValueType::IntegerValue(2_000_000_000));
    let ValueType::TimestampValue(t) = kind(&f[kvs::firestore::value::EXPIRES]) else {
        panic!("a timestamp: {:?}", f[kvs::firestore::value::EXPIRES]);
    };
    assert_eq!((t.seconds, t.nanos), (2_000_000_000, 0));
    // Rounded up: never deleted before it expires.
    let f = fields("s2").await;
    let ValueType::TimestampValue(t) = kind(&f[kvs::firestore::value::EXPIRES]) else {
        panic!("a timestamp");
    };
    assert_eq!(t.seconds, 2_000_000_001);
    assert!(
        !fields("s3")
            .await
            .contains_key(kvs::firestore::value::EXPIRES)
    );
    // kvs reads the timestamp as none of the item's attributes.
    let read = kvs.get("sessions", "s1").await.unwrap().unwrap();
    assert_eq!(read, item! { "id" => "s1", "exp" => 2_000_000_000 });
    let file = kvs::firestore::index_file("", &[schema]);
    assert!(
        file.contains(r#"{ "collectionGroup": "sessions", "fieldPath": "`~expires`", "ttl": true, "indexes": [] }"#),
        "{file}"
    );
}
