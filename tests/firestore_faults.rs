//! The Firestore backend against a fake gRPC server, for what Google's emulator never
//! does: the admin API (creating composite indexes), a query refused for want of an
//! index, a commit whose outcome is unknown, a batch write refused in part, throttling,
//! contention (ABORTED) and refused credentials. Each test
//! checks one point of the contract (SEMANTICS.md, Operations and Errors): the result or
//! the error kind, the keys an error names, and what the server received.

mod support {
    #[allow(dead_code)]
    pub mod fake_grpc;
}

use std::collections::BTreeSet;
use std::time::Duration;

use firestore::gcloud_sdk::GoogleAuthHeaders;
use firestore::gcloud_sdk::google::firestore::admin::v1 as admin;
use firestore::gcloud_sdk::google::firestore::v1::{
    BatchWriteRequest, BatchWriteResponse, CommitRequest, CommitResponse, Document,
    GetDocumentRequest, Value as FsValue, value,
};
use firestore::gcloud_sdk::google::longrunning::Operation;
use firestore::gcloud_sdk::google::rpc::Status as RpcStatus;
use firestore::gcloud_sdk::google_cloud_auth::credentials::anonymous;
use firestore::gcloud_sdk::prost::Message;
use firestore::gcloud_sdk::prost_types::Timestamp;
use firestore::gcloud_sdk::tonic::Code;
use firestore::{FirestoreDb, FirestoreDbOptions};
use kvs::firestore::{FirestoreBackend, IndexCreation, document_id};
use kvs::retry::Backoff;
use kvs::{ErrorKind, IndexSchema, Item, Key, KeyAttr, Kvs, StoreSchema, item};
use support::fake_grpc::{FakeGrpc, Reply};

const PROJECT: &str = "fake-project";
const DATABASE: &str = "projects/fake-project/databases/(default)";
const STORE: &str = "orders";

const FIRESTORE: &str = "/google.firestore.v1.Firestore/";
const ADMIN: &str = "/google.firestore.admin.v1.FirestoreAdmin/";

/// Three attempts in all, with millisecond delays, to keep the tests fast.
const FAST: Backoff = Backoff {
    attempts: 3,
    base: Duration::from_millis(1),
    max: Duration::from_millis(5),
};

fn firestore(method: &str) -> String {
    format!("{FIRESTORE}{method}")
}

fn admin(method: &str) -> String {
    format!("{ADMIN}{method}")
}

/// `orders`, keyed by `id`, with an index by user and time and one by coupon.
fn orders() -> StoreSchema {
    StoreSchema::new(STORE, KeyAttr::string("id"))
        .index(IndexSchema::new("byUser", KeyAttr::string("user")).sort_key(KeyAttr::number("at")))
        .index(IndexSchema::new("byCoupon", KeyAttr::string("coupon")))
}

/// A client of the fake server, as the real service would be reached (not the emulator:
/// the admin API is used), with anonymous credentials.
async fn db_on(fake: &FakeGrpc) -> FirestoreDb {
    let options = FirestoreDbOptions::new(PROJECT.into()).with_firebase_api_url(fake.url());
    let auth = GoogleAuthHeaders::from(anonymous::Builder::new().build());
    FirestoreDb::with_options_auth(options, auth)
        .await
        .expect("a client of the fake server")
}

/// A handle on the fake server, the store registered (nothing sent).
async fn kvs_on(fake: &FakeGrpc) -> Kvs {
    let backend = FirestoreBackend::new(&db_on(fake).await)
        .with_backoff(FAST)
        .with_conflict_backoff(FAST);
    let kvs = Kvs::new(backend);
    kvs.register_store(orders()).unwrap();
    kvs
}

fn decode<M: Message + Default>(bytes: &[u8]) -> M {
    M::decode(bytes).expect("a request the fake understands")
}

// --- Composite indexes ---------------------------------------------------------------

/// The parent of the store's indexes.
fn group() -> String {
    format!("{DATABASE}/collectionGroups/{STORE}")
}

type Shape = Vec<(String, i32)>;

fn shape(fields: &[(&str, admin::index::index_field::Order)]) -> Shape {
    fields
        .iter()
        .map(|(path, order)| (path.to_string(), *order as i32))
        .collect()
}

fn shape_of(index: &admin::Index) -> Shape {
    index
        .fields
        .iter()
        .map(|f| match f.value_mode {
            Some(admin::index::index_field::ValueMode::Order(o)) => (f.field_path.clone(), o),
            _ => panic!("an index field that is not ordered: {f:?}"),
        })
        .collect()
}

/// A listed index of the store, `READY`.
fn listed(id: &str, fields: &Shape) -> admin::Index {
    use admin::index::{ApiScope, IndexField, QueryScope, State, index_field::ValueMode};
    admin::Index {
        name: format!("{}/indexes/{id}", group()),
        query_scope: QueryScope::Collection as i32,
        api_scope: ApiScope::AnyApi as i32,
        fields: fields
            .iter()
            .map(|(path, order)| IndexField {
                field_path: path.clone(),
                value_mode: Some(ValueMode::Order(*order)),
            })
            .collect(),
        state: State::Ready as i32,
        ..Default::default()
    }
}

/// The admin API of a database holding `existing` indexes of the store; CreateIndex
/// answers `create`.
fn admin_server(
    existing: Vec<admin::Index>,
    create: Reply,
) -> impl Fn(&str, &[u8], usize) -> Reply {
    move |path, request, n| match path.strip_prefix(ADMIN) {
        Some("ListIndexes") => {
            let asked: admin::ListIndexesRequest = decode(request);
            assert_eq!(asked.parent, group());
            Reply::message(&admin::ListIndexesResponse {
                indexes: existing.clone(),
                next_page_token: String::new(),
            })
        }
        Some("ListFields") => Reply::message(&admin::ListFieldsResponse::default()),
        Some("CreateIndex") => match &create {
            Reply::Message(_) => Reply::message(&Operation {
                name: format!("{DATABASE}/operations/create-{n}"),
                done: false,
                ..Default::default()
            }),
            other => other.clone(),
        },
        _ => Reply::status(Code::Unimplemented, &format!("not faked: {path}")),
    }
}

#[tokio::test]
async fn ensure_creates_the_indexes_the_database_lacks_and_no_other() {
    use admin::index::index_field::Order::{Ascending as Asc, Descending as Desc};
    let by_user_asc = shape(&[("user", Asc), ("at", Asc), ("id", Asc)]);
    // One index exists (Firestore lists it with the `__name__` it appends); an index
    // kvs does not declare is the user's and stays.
    let mut existing = by_user_asc.clone();
    existing.push(("__name__".into(), Asc as i32));
    let theirs = shape(&[("user", Asc), ("total", Desc)]);
    let fake = FakeGrpc::start(admin_server(
        vec![listed("a", &existing), listed("b", &theirs)],
        Reply::Message(Vec::new()),
    ))
    .await;
    let db = db_on(&fake).await;
    let kvs = Kvs::new(FirestoreBackend::new(&db).with_indexes(IndexCreation::Create));
    kvs.ensure_store(orders()).await.unwrap();

    let created: BTreeSet<Shape> = fake
        .requests(&admin("CreateIndex"))
        .iter()
        .map(|r| {
            let request: admin::CreateIndexRequest = decode(r);
            assert_eq!(request.parent, group());
            let index = request.index.expect("an index");
            assert_eq!(
                index.query_scope,
                admin::index::QueryScope::Collection as i32
            );
            shape_of(&index)
        })
        .collect();
    let expected: BTreeSet<Shape> = [
        shape(&[("user", Asc), ("at", Desc), ("id", Desc)]),
        shape(&[("coupon", Asc), ("id", Asc)]),
        shape(&[("coupon", Asc), ("id", Desc)]),
    ]
    .into_iter()
    .collect();
    assert_eq!(created, expected);
    assert_eq!(
        fake.calls(&admin("CreateIndex")),
        3,
        "one request per index"
    );
    assert_eq!(fake.calls(&admin("DeleteIndex")), 0, "nothing is deleted");

    // The same definitions as the index file gives.
    let file: serde_json::Value =
        serde_json::from_str(&kvs::firestore::index_file("", &[orders()])).unwrap();
    assert_eq!(file["indexes"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn ensure_sends_nothing_unless_asked_to_create_indexes() {
    let fake = FakeGrpc::start(admin_server(Vec::new(), Reply::Message(Vec::new()))).await;
    let kvs = Kvs::new(FirestoreBackend::new(&db_on(&fake).await));
    kvs.ensure_store(orders()).await.unwrap();
    assert_eq!(fake.calls(&admin("ListIndexes")), 0);
    assert_eq!(fake.calls(&admin("CreateIndex")), 0);
}

#[tokio::test]
async fn ensure_without_the_right_to_create_indexes_is_permission_denied() {
    let fake = FakeGrpc::start(admin_server(
        Vec::new(),
        Reply::status(
            Code::PermissionDenied,
            "Missing or insufficient permissions.",
        ),
    ))
    .await;
    let backend = FirestoreBackend::new(&db_on(&fake).await).with_indexes(IndexCreation::Create);
    let err = Kvs::new(backend).ensure_store(orders()).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::PermissionDenied, "{err}");
    assert!(
        err.to_string().contains(STORE),
        "names the collection: {err}"
    );
}

#[tokio::test]
async fn a_query_refused_for_want_of_an_index_names_the_index() {
    let fake = FakeGrpc::start(|path, _, _| {
        if path == firestore("RunQuery") {
            Reply::status(
                Code::FailedPrecondition,
                "The query requires an index. You can create it here: \
                 https://console.firebase.google.com/v1/r/project/fake-project/firestore/indexes?create_composite=...",
            )
        } else {
            Reply::status(Code::Unimplemented, path)
        }
    })
    .await;
    let kvs = kvs_on(&fake).await;
    let err = kvs
        .query(STORE, "u1")
        .index("byUser")
        .descending()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::StoreNotFound, "{err}");
    assert!(
        err.to_string()
            .contains("orders (user ASCENDING, at DESCENDING, id DESCENDING)"),
        "names the index the query needs: {err}"
    );
    assert_eq!(fake.calls(&firestore("RunQuery")), 1, "not tried again");
}

// --- Writes whose outcome is unknown --------------------------------------------------

fn integer(n: i64) -> FsValue {
    FsValue {
        value_type: Some(value::ValueType::IntegerValue(n)),
    }
}

fn string(s: &str) -> FsValue {
    FsValue {
        value_type: Some(value::ValueType::StringValue(s.into())),
    }
}

/// A server where every document exists as `{id, n: 1}`, and Commit answers `commit`
/// (by the index of the call).
fn documents_server(
    commit: impl Fn(usize) -> Reply + Send + Sync + 'static,
) -> impl Fn(&str, &[u8], usize) -> Reply {
    move |path, request, n| match path.strip_prefix(FIRESTORE) {
        Some("GetDocument") => {
            let asked: GetDocumentRequest = decode(request);
            let id = if asked.name.ends_with(&document_id(&Key::from("a"))) {
                "a"
            } else {
                "b"
            };
            Reply::message(&Document {
                name: asked.name,
                fields: [("id".to_owned(), string(id)), ("n".to_owned(), integer(1))]
                    .into_iter()
                    .collect(),
                create_time: Some(Timestamp {
                    seconds: 100,
                    nanos: 0,
                }),
                update_time: Some(Timestamp {
                    seconds: 100,
                    nanos: 0,
                }),
            })
        }
        Some("Commit") => commit(n),
        _ => Reply::status(Code::Unimplemented, path),
    }
}

#[tokio::test]
async fn an_add_whose_commit_may_have_landed_is_not_sent_again() {
    let fake = FakeGrpc::start(documents_server(|_| {
        Reply::status(Code::Unavailable, "the connection broke after the request")
    }))
    .await;
    let kvs = kvs_on(&fake).await;
    let err = kvs.update(STORE, "a").add("n", 1).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Unavailable, "{err}");
    assert_eq!(
        fake.calls(&firestore("Commit")),
        1,
        "a guarded commit with an unknown outcome is reported, not resent"
    );
    let sent: CommitRequest = decode(&fake.requests(&firestore("Commit"))[0]);
    assert!(
        sent.writes[0].current_document.is_some(),
        "the commit was guarded by the version read"
    );
}

#[tokio::test]
async fn an_unconditional_upsert_whose_commit_may_have_landed_is_sent_again() {
    let fake = FakeGrpc::start(documents_server(|n| match n {
        0 => Reply::status(Code::Unavailable, "the connection broke after the request"),
        _ => Reply::message(&CommitResponse::default()),
    }))
    .await;
    let kvs = kvs_on(&fake).await;
    kvs.upsert(STORE, item! { "id" => "a", "n" => 5 })
        .await
        .unwrap();
    assert_eq!(
        fake.calls(&firestore("Commit")),
        2,
        "an idempotent write is resent"
    );
}

// --- Batch writes ---------------------------------------------------------------------

fn status(code: Code) -> RpcStatus {
    RpcStatus {
        code: code as i32,
        message: format!("{code:?}"),
        details: Vec::new(),
    }
}

fn items(n: usize) -> Vec<Item> {
    (0..n)
        .map(|i| item! { "id" => format!("i{i}"), "n" => i as i64 })
        .collect()
}

/// The ids the documents of a BatchWrite request are named by.
fn ids_written(request: &[u8]) -> Vec<String> {
    let request: BatchWriteRequest = decode(request);
    request
        .writes
        .iter()
        .map(|w| match &w.operation {
            Some(firestore::gcloud_sdk::google::firestore::v1::write::Operation::Update(d)) => {
                d.fields["id"].clone()
            }
            other => panic!("not an upsert: {other:?}"),
        })
        .map(|v| match v.value_type {
            Some(value::ValueType::StringValue(s)) => s,
            other => panic!("not a string id: {other:?}"),
        })
        .collect()
}

/// The answer to a BatchWrite request: each write's status by its id, up to the first
/// write given none (an answer shorter than the request).
fn batch_answer(request: &[u8], status_of: impl Fn(&str) -> Option<RpcStatus>) -> Reply {
    Reply::message(&BatchWriteResponse {
        write_results: Vec::new(),
        status: ids_written(request)
            .iter()
            .map_while(|id| status_of(id))
            .collect(),
    })
}

#[tokio::test]
async fn a_batch_write_refused_in_part_names_exactly_the_keys_not_written() {
    let fake = FakeGrpc::start(|path, request, _| {
        assert_eq!(path, firestore("BatchWrite"));
        // i1 is refused; i3 is left for another round (contention), which a refusal in
        // the same answer ends; the others are written.
        batch_answer(request, |id| match id {
            "i1" => Some(status(Code::PermissionDenied)),
            "i3" => Some(status(Code::Aborted)),
            _ => Some(status(Code::Ok)),
        })
    })
    .await;
    let kvs = kvs_on(&fake).await;
    let err = kvs.upsert_many(STORE, items(5)).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::PermissionDenied, "{err}");
    let named: BTreeSet<String> = err.keys().iter().map(|k| k.to_string()).collect();
    let expected: BTreeSet<String> = [Key::from("i1"), Key::from("i3")]
        .iter()
        .map(|k| k.to_string())
        .collect();
    assert_eq!(named, expected);
    assert_eq!(fake.calls(&firestore("BatchWrite")), 1);
}

#[tokio::test]
async fn a_batch_write_sends_again_only_what_firestore_did_not_do() {
    let fake = FakeGrpc::start(|path, request, n| {
        assert_eq!(path, firestore("BatchWrite"));
        batch_answer(request, |id| match (n, id) {
            (0, "i2") => Some(status(Code::Unavailable)),
            // An answer with fewer statuses than writes: i4 is sent again.
            (0, "i4") => None,
            _ => Some(status(Code::Ok)),
        })
    })
    .await;
    let kvs = kvs_on(&fake).await;
    kvs.upsert_many(STORE, items(5)).await.unwrap();
    let requests = fake.requests(&firestore("BatchWrite"));
    assert_eq!(requests.len(), 2);
    assert_eq!(ids_written(&requests[1]), ["i2", "i4"]);
}

// --- Throttling, contention and credentials --------------------------------------------

/// A server where the document `a` is `{id: "a", n: 1}` and GetDocument answers
/// `get(n)` first (by the index of the call), falling back to the document.
fn reads_server(
    get: impl Fn(usize) -> Option<Reply> + Send + Sync + 'static,
) -> impl Fn(&str, &[u8], usize) -> Reply {
    let documents = documents_server(|_| Reply::message(&CommitResponse::default()));
    move |path, request, n| match (path == firestore("GetDocument")).then(|| get(n)) {
        Some(Some(reply)) => reply,
        _ => documents(path, request, n),
    }
}

#[tokio::test]
async fn a_throttled_read_is_retried_until_answered() {
    let fake = FakeGrpc::start(reads_server(|n| {
        (n < 2).then(|| Reply::status(Code::ResourceExhausted, "quota exceeded"))
    }))
    .await;
    let kvs = kvs_on(&fake).await;
    let got = kvs.get(STORE, "a").await.unwrap();
    assert_eq!(got, Some(item! { "id" => "a", "n" => 1 }));
    assert_eq!(fake.calls(&firestore("GetDocument")), 3);
}

#[tokio::test]
async fn throttling_past_the_retry_budget_is_throttled() {
    let fake = FakeGrpc::start(reads_server(|_| {
        Some(Reply::status(Code::ResourceExhausted, "quota exceeded"))
    }))
    .await;
    let kvs = kvs_on(&fake).await;
    let err = kvs.get(STORE, "a").await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Throttled, "{err}");
    assert_eq!(
        fake.calls(&firestore("GetDocument")),
        FAST.attempts as usize,
        "every attempt of the budget, and no more"
    );
}

#[tokio::test]
async fn a_throttled_add_is_sent_again_as_it_changed_nothing() {
    // Unlike a broken connection (`an_add_whose_commit_may_have_landed_is_not_sent_again`),
    // RESOURCE_EXHAUSTED says the commit was refused: sending the ADD again cannot apply
    // it twice.
    let fake = FakeGrpc::start(documents_server(|n| match n {
        0 => Reply::status(Code::ResourceExhausted, "quota exceeded"),
        _ => Reply::message(&CommitResponse::default()),
    }))
    .await;
    let kvs = kvs_on(&fake).await;
    kvs.update(STORE, "a").add("n", 1).await.unwrap();
    assert_eq!(fake.calls(&firestore("Commit")), 2);
}

#[tokio::test]
async fn a_commit_aborted_by_contention_is_retried_then_conflict() {
    // ABORTED: Firestore gave up the write for contention; nothing was written, so the
    // read-check-write loop runs again, and past its budget the caller is told Conflict.
    let fake = FakeGrpc::start(documents_server(|_| {
        Reply::status(Code::Aborted, "too much contention on these documents")
    }))
    .await;
    let kvs = kvs_on(&fake).await;
    let err = kvs.update(STORE, "a").add("n", 1).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Conflict, "{err}");
    assert!(err.is_retryable(false), "a Conflict changed nothing: {err}");
    let commits = fake.calls(&firestore("Commit"));
    assert!(
        commits > 1,
        "an aborted commit changed nothing and is tried again ({commits} sent)"
    );
    assert_eq!(
        fake.calls(&firestore("GetDocument")),
        commits,
        "each try reads the item again before it decides"
    );
}

#[tokio::test]
async fn refused_credentials_are_unauthenticated_or_permission_denied_and_not_retried() {
    for (code, kind) in [
        (Code::Unauthenticated, ErrorKind::Unauthenticated),
        (Code::PermissionDenied, ErrorKind::PermissionDenied),
    ] {
        let fake = FakeGrpc::start(reads_server(move |_| {
            Some(Reply::status(
                code,
                "the request's credentials were refused",
            ))
        }))
        .await;
        let kvs = kvs_on(&fake).await;
        let err = kvs.get(STORE, "a").await.unwrap_err();
        assert_eq!(err.kind(), &kind, "{err}");
        assert!(!err.is_retryable(true), "{err}");
        assert_eq!(fake.calls(&firestore("GetDocument")), 1, "{code:?}");
    }
}
