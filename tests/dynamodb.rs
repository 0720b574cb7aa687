//! The whole conformance suite on DynamoDB, against dynoxide started in-process (no setup
//! needed), and what is particular to DynamoDB: items look native to other DynamoDB
//! programs.

mod support {
    pub mod dynamo;
}

use support::dynamo;

async fn kvs() -> kvs::Kvs {
    dynamo::dynoxide_kvs().await
}

// Each operation is a request (to a server in this process): fewer random inputs.
kvs::conformance_tests!(kvs, random = kvs::conformance::Random::cases(24));

/// Items written by kvs are ordinary DynamoDB items: a plain SDK `GetItem` sees each
/// value as its native type (`N`, `S`, `B`, `BOOL`, `NULL`, `L`, `M`, `SS`, `NS`, `BS`),
/// and a table made by `ensure_store` has the keys and GSIs the schema declares.
#[tokio::test]
async fn items_written_by_kvs_are_native_dynamodb_items() {
    use aws_sdk_dynamodb::types::{AttributeValue as A, KeyType};
    use kvs::{IndexSchema, KeyAttr, StoreSchema, Value, item};

    let endpoint = dynamo::start_dynoxide().await;
    let client = dynamo::client(&endpoint);
    let kvs =
        kvs::Kvs::new(kvs::dynamodb::DynamoDbBackend::new(&client).with_table_prefix("test-"));
    kvs.ensure_store(
        StoreSchema::new("native", KeyAttr::string("id"))
            .sort_key(KeyAttr::number("at"))
            .index(
                IndexSchema::new("byUser", KeyAttr::string("user")).sort_key(KeyAttr::number("at")),
            ),
    )
    .await
    .unwrap();
    kvs.upsert(
        "native",
        item! {
            "id" => "a", "at" => 7, "user" => "u-1",
            "int" => i64::MIN, "float" => 0.1, "text" => "héllo", "bin" => Value::bytes([0, 255]),
            "flag" => true, "nothing" => Value::Null,
            "list" => Value::list([Value::from(1), Value::from("x")]),
            "map" => item! { "k" => "v" },
            "ss" => Value::string_set(["b", "a"]), "ns" => Value::number_set([2, 1]),
            "bs" => Value::bytes_set([vec![1u8], vec![2u8]]),
        },
    )
    .await
    .unwrap();

    let out = client
        .get_item()
        .table_name("test-native")
        .key("id", A::S("a".into()))
        .key("at", A::N("7".into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    let got = out.item().expect("the item is in the prefixed table");
    assert_eq!(got["int"], A::N(i64::MIN.to_string()));
    assert_eq!(got["float"], A::N("0.1".into()));
    assert_eq!(got["text"], A::S("héllo".into()));
    assert_eq!(got["bin"], A::B(vec![0u8, 255].into()));
    assert_eq!(got["flag"], A::Bool(true));
    assert_eq!(got["nothing"], A::Null(true));
    assert_eq!(got["list"], A::L(vec![A::N("1".into()), A::S("x".into())]));
    assert_eq!(
        got["map"],
        A::M([("k".to_owned(), A::S("v".into()))].into())
    );
    let mut ss = got["ss"].as_ss().unwrap().clone();
    ss.sort();
    assert_eq!(ss, ["a", "b"]);
    let mut ns = got["ns"].as_ns().unwrap().clone();
    ns.sort();
    assert_eq!(ns, ["1", "2"]);
    assert_eq!(got["bs"].as_bs().unwrap().len(), 2);

    let table = client
        .describe_table()
        .table_name("test-native")
        .send()
        .await
        .unwrap()
        .table
        .unwrap();
    let keys: Vec<_> = table
        .key_schema()
        .iter()
        .map(|k| (k.attribute_name().to_owned(), k.key_type().clone()))
        .collect();
    assert_eq!(
        keys,
        [
            ("id".to_owned(), KeyType::Hash),
            ("at".to_owned(), KeyType::Range)
        ]
    );
    let gsi = &table.global_secondary_indexes()[0];
    assert_eq!(gsi.index_name(), Some("byUser"));
}

/// `create_table_input` gives infrastructure code the same table `ensure_store` makes.
#[tokio::test]
async fn create_table_input_makes_the_table_ensure_store_expects() {
    use kvs::{KeyAttr, StoreSchema, item};
    let endpoint = dynamo::start_dynoxide().await;
    let client = dynamo::client(&endpoint);
    let schema = StoreSchema::new("infra", KeyAttr::string("id"));
    kvs::dynamodb::create_table_input("infra", &schema)
        .unwrap()
        .send_with(&client)
        .await
        .unwrap();
    let kvs = kvs::Kvs::new(kvs::dynamodb::DynamoDbBackend::new(&client));
    // The table exists: ensure_store accepts it, and it works.
    kvs.ensure_store(schema).await.unwrap();
    kvs.upsert("infra", item! { "id" => "x" }).await.unwrap();
    assert!(kvs.get("infra", "x").await.unwrap().is_some());
    // A table with another key schema is refused: another name, or another type.
    for other in [
        StoreSchema::new("infra", KeyAttr::string("other")),
        StoreSchema::new("infra", KeyAttr::number("id")),
    ] {
        let err = kvs.ensure_store(other).await.unwrap_err();
        assert_eq!(err.kind(), &kvs::ErrorKind::Validation, "{err}");
    }
}

/// `ensure_store` on a table that has an index of the schema's name keyed otherwise
/// refuses it (a query would read an index partitioned or sorted by something else);
/// an index the table lacks is added.
#[tokio::test]
async fn ensure_store_refuses_an_index_with_other_keys() {
    use kvs::{IndexSchema, KeyAttr, StoreSchema, item};
    let endpoint = dynamo::start_dynoxide().await;
    let client = dynamo::client(&endpoint);
    let kvs = kvs::Kvs::new(kvs::dynamodb::DynamoDbBackend::new(&client));
    let by_user = || IndexSchema::new("byUser", KeyAttr::string("user"));
    kvs.ensure_store(StoreSchema::new("orders", KeyAttr::string("id")).index(by_user()))
        .await
        .unwrap();
    for index in [
        IndexSchema::new("byUser", KeyAttr::string("owner")),
        IndexSchema::new("byUser", KeyAttr::number("user")),
        by_user().sort_key(KeyAttr::number("at")),
    ] {
        let schema = StoreSchema::new("orders", KeyAttr::string("id")).index(index);
        let err = kvs.ensure_store(schema).await.unwrap_err();
        assert_eq!(err.kind(), &kvs::ErrorKind::Validation, "{err}");
        assert!(err.message().contains("byUser"), "{err}");
    }
    // The right schema plus an index the table lacks: it is added and works.
    let schema = StoreSchema::new("orders", KeyAttr::string("id"))
        .index(by_user())
        .index(IndexSchema::new("byStatus", KeyAttr::string("status")));
    kvs.ensure_store(schema).await.unwrap();
    kvs.upsert(
        "orders",
        item! { "id" => "o", "user" => "u", "status" => "open" },
    )
    .await
    .unwrap();
    let page = kvs.query("orders", "open").index("byStatus").await.unwrap();
    assert_eq!(page.items.len(), 1);
}

/// An expression over DynamoDB's 4 KB limit is a clear `Validation` error, sent nowhere.
#[tokio::test]
async fn an_expression_over_4_kb_is_a_validation_error() {
    use kvs::{ErrorKind, KeyAttr, StoreSchema, attr, item};
    let kvs = dynamo::dynoxide_kvs().await;
    kvs.ensure_store(StoreSchema::new("big_expr", KeyAttr::string("id")))
        .await
        .unwrap();
    kvs.upsert("big_expr", item! { "id" => "a", "n" => 1 })
        .await
        .unwrap();
    let many = (0..2000).map(|i| format!("value-{i}"));
    let err = kvs
        .scan("big_expr")
        .filter(attr("n").is_in(many.clone()))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Validation, "{err}");
    assert!(err.message().contains("4096"), "{err}");
    let err = kvs
        .update("big_expr", "a")
        .set("m", 2)
        .when(attr("n").is_in(many))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Validation, "{err}");
    assert_eq!(
        kvs.get("big_expr", "a").await.unwrap().unwrap().get("m"),
        None
    );
}

/// DELETE of list elements is emulated (DynamoDB deletes only from sets): read, compute,
/// write under a condition that the list did not change, retried on conflict. Eight
/// tasks appending and deleting their own elements of one list lose nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_list_deletes_lose_nothing() {
    use kvs::{KeyAttr, StoreSchema, Value, item};
    let kvs = dynamo::dynoxide_kvs().await;
    kvs.ensure_store(StoreSchema::new("lists", KeyAttr::string("id")))
        .await
        .unwrap();
    kvs.upsert(
        "lists",
        item! { "id" => "l", "keep" => Value::list(["base"]) },
    )
    .await
    .unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|t| {
            let kvs = kvs.clone();
            tokio::spawn(async move {
                for i in 0..10 {
                    let mine = format!("t{t}-{i}");
                    kvs.update("lists", "l")
                        .append("keep", Value::list([mine.clone(), format!("{mine}-stays")]))
                        .await
                        .unwrap();
                    kvs.update("lists", "l")
                        .delete("keep", Value::list([mine]))
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let item = kvs.get("lists", "l").await.unwrap().unwrap();
    let list = item["keep"].as_list().unwrap();
    assert_eq!(list.len(), 1 + 8 * 10, "{list:?}");
    assert!(
        list.iter()
            .all(|v| v == &Value::from("base") || v.as_str().unwrap().ends_with("-stays"))
    );
}

/// Reads with a projection bring only what they ask for (`ProjectionExpression`), for
/// gets, batches, queries and scans.
#[tokio::test]
async fn projected_reads_bring_only_what_they_ask() {
    kvs::conformance::projections::native_projections_read_only_what_they_ask(kvs().await, true)
        .await;
}

/// `ensure` turns DynamoDB's TTL on for a store's expiry attribute, once, and refuses a
/// table whose TTL is on another attribute.
#[tokio::test]
async fn ensure_turns_ttl_on_for_the_expiry_attribute() {
    use aws_sdk_dynamodb::types::TimeToLiveStatus;
    use kvs::{ErrorKind, KeyAttr, StoreSchema};

    let endpoint = dynamo::start_dynoxide().await;
    let client = dynamo::client(&endpoint);
    let kvs = kvs::Kvs::new(kvs::dynamodb::DynamoDbBackend::new(&client));
    let schema = StoreSchema::new("sessions", KeyAttr::string("id")).ttl("expiresAt");
    kvs.ensure_store(schema.clone()).await.unwrap();
    // A second ensure finds it on and sends nothing more.
    kvs.ensure_store(schema).await.unwrap();
    let ttl = client
        .describe_time_to_live()
        .table_name("sessions")
        .send()
        .await
        .unwrap();
    let d = ttl.time_to_live_description().expect("a TTL description");
    assert_eq!(d.attribute_name(), Some("expiresAt"));
    assert!(matches!(
        d.time_to_live_status(),
        Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
    ));
    let other = StoreSchema::new("sessions", KeyAttr::string("id")).ttl("other");
    let err = kvs::Kvs::new(kvs::dynamodb::DynamoDbBackend::new(&client))
        .ensure_store(other)
        .await
        .unwrap_err();
    assert!(err.is(&ErrorKind::Validation), "{err}");
}

/// `store_schemas` reads back what `ensure_store` made: the keys with their types, each
/// index, the TTL attribute; only the tables under the prefix, named without it.
#[tokio::test]
async fn store_schemas_read_back_the_tables_under_the_prefix() {
    use kvs::dynamodb::DynamoDbBackend;
    use kvs::{IndexSchema, KeyAttr, StoreSchema};

    let endpoint = dynamo::start_dynoxide().await;
    let client = dynamo::client(&endpoint);
    let orders = StoreSchema::new("orders", KeyAttr::string("orderId"))
        .sort_key(KeyAttr::number("at"))
        .index(
            IndexSchema::new("byUser", KeyAttr::string("userId")).sort_key(KeyAttr::number("at")),
        )
        .index(IndexSchema::new("byBlob", KeyAttr::bytes("blob")))
        .ttl("expiresAt");
    let plain = StoreSchema::new("plain", KeyAttr::bytes("id"));
    let prefixed = kvs::Kvs::new(DynamoDbBackend::new(&client).with_table_prefix("app-"));
    prefixed.ensure_store(orders.clone()).await.unwrap();
    prefixed.ensure_store(plain.clone()).await.unwrap();
    // Another prefix's table is not one of these stores.
    let other = kvs::Kvs::new(DynamoDbBackend::new(&client).with_table_prefix("other-"));
    other.ensure_store(plain.clone()).await.unwrap();

    let backend = DynamoDbBackend::new(&client).with_table_prefix("app-");
    let mut found = backend.store_schemas().await.unwrap();
    for s in &mut found {
        s.indexes.sort_by(|a, b| a.name.cmp(&b.name));
    }
    let mut expected = orders.clone();
    expected.indexes.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(found, vec![expected, plain.clone()]);
    assert_eq!(backend.store_schema("missing").await.unwrap(), None);
    assert_eq!(backend.store_schema("plain").await.unwrap(), Some(plain));
}

/// "Using a store or index that was never defined is `StoreNotFound`, naming it": a
/// handle that registered an index the table does not have (never ensured with it)
/// queries it, and DynamoDB's `ValidationException` is `StoreNotFound`, as the local
/// engine answers.
#[tokio::test]
async fn querying_an_index_the_table_lacks_is_store_not_found() {
    use kvs::{ErrorKind, IndexSchema, KeyAttr, Kvs, Options, StoreSchema, item};
    let endpoint = dynamo::start_dynoxide().await;
    let client = dynamo::client(&endpoint);
    let backend = kvs::dynamodb::DynamoDbBackend::new(&client).with_table_prefix("rc-");
    let plain = StoreSchema::new("s", KeyAttr::string("id"));
    let indexed = plain
        .clone()
        .index(IndexSchema::new("byG", KeyAttr::string("g")));
    let a = Kvs::new(backend.clone());
    a.ensure_store(plain).await.unwrap();
    let wishful = Kvs::builder(backend.clone())
        .options(Options::new().store(indexed))
        .build()
        .unwrap();
    wishful
        .upsert("s", item! { "id" => "w", "g" => "x" })
        .await
        .unwrap();
    let e = wishful.query("s", "x").index("byG").await.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::StoreNotFound, "{e}");
    assert!(e.message().contains("byG"), "{e}");
}
