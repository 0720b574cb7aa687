//! The whole conformance suite on Cosmos DB, against the SDK's own in-memory emulator
//! in-process (a fresh account per test; see `support/cosmos_emulator.rs`), and what is
//! particular to Cosmos DB: documents written by kvs are plain JSON that plain SDK calls
//! read, keys of any length find their document, and Cosmos DB's limits are said before
//! anything is sent.

mod support {
    pub mod cosmos_emulator;
}

use support::cosmos_emulator as emulator;

async fn kvs() -> kvs::Kvs {
    kvs::Kvs::new(emulator::backend().await)
}

kvs::conformance_tests!(kvs, random = kvs::conformance::Random::cases(24));

use std::collections::BTreeSet;

use azure_data_cosmos::clients::ContainerClient;
use azure_data_cosmos::models::{ContainerProperties, PartitionKeyDefinition};
use azure_data_cosmos::{CosmosClient, FeedScope, PartitionKey, Query};
use futures::TryStreamExt as _;
use kvs::cosmos::{CosmosBackend, container_definition, container_id, item_id};
use kvs::{
    Decimal, ErrorKind, IndexSchema, Item, Key, KeyAttr, Kvs, Path, SortCondition, StoreSchema,
    TransactWrite, Value, attr, item,
};
use serde_json::{Value as Json, json};

/// A handle on a fresh emulated account (database `kvs`), and a plain SDK client of the
/// same account, as another program would hold.
async fn setup() -> (CosmosClient, Kvs) {
    let emu = emulator::emulator();
    let kvs = Kvs::new(CosmosBackend::new(emulator::client_of(&emu).await, "kvs"));
    (emulator::client_of(&emu).await, kvs)
}

/// The container of `store` (no prefix), through the plain SDK.
async fn container(client: &CosmosClient, store: &str) -> ContainerClient {
    client
        .database_client("kvs")
        .container_client(container_id("", store), None)
        .await
        .expect("the store's container")
}

/// The document of `key` read with a plain `read_item`, or `None` (404).
async fn raw_document(
    c: &ContainerClient,
    pk: impl Into<PartitionKey>,
    key: &Key,
) -> Option<serde_json::Map<String, Json>> {
    match c.read_item(pk, &item_id(key), None).await {
        Ok(r) => Some(r.into_model().expect("a JSON document")),
        Err(e) if e.status().is_not_found() => None,
        Err(e) => panic!("read_item: {e}"),
    }
}

/// The documents a hand-written SQL query finds, with its parameters.
async fn sql(
    c: &ContainerClient,
    text: &str,
    params: &[(&str, Json)],
    scope: FeedScope,
) -> Vec<Json> {
    let mut query = Query::from(text);
    for (name, value) in params {
        query = query.with_parameter(*name, value).unwrap();
    }
    c.query_items::<Json>(query, scope, None)
        .await
        .expect("the query is accepted")
        .try_collect()
        .await
        .expect("the query runs")
}

/// Every item of a query, read page by page (`page` items each) through page tokens.
async fn all_pages(make: impl Fn() -> kvs::Query, page: usize) -> Vec<Item> {
    let mut items = Vec::new();
    let mut token = None;
    loop {
        let p = make().limit(page).page_token(token).await.unwrap();
        assert!(p.items.len() <= page, "a page holds at most its limit");
        items.extend(p.items);
        match p.next_page_token {
            Some(t) => token = Some(t),
            None => return items,
        }
    }
}

fn strings(items: &[Item], name: &str) -> Vec<String> {
    items
        .iter()
        .map(|i| i[name].as_str().expect("a string").to_owned())
        .collect()
}

/// Items written by kvs are plain JSON documents that plain SDK calls read: every
/// attribute in its native JSON form (key attributes too; the user's `id` stored as
/// `_kvs_id`, the Cosmos `id` being `item_id`), bytes as base64 strings and sets as
/// sorted arrays (both listed in `_kvsTypes`), numbers plain; a hand-written
/// parameterized query finds them. And the reverse: a document written by plain SDK calls
/// is read by kvs with its attributes (foreign properties kept, Cosmos's own left out),
/// and updated by it like any item.
#[tokio::test]
async fn items_written_by_kvs_are_plain_json_documents() {
    let (client, kvs) = setup().await;
    kvs.ensure_store(
        StoreSchema::new("native", KeyAttr::string("id")).sort_key(KeyAttr::number("at")),
    )
    .await
    .unwrap();
    let written = item! {
        "id" => "a", "at" => 7,
        "text" => "héllo", "int" => -7, "edge" => 1i64 << 53, "float" => 0.1, "whole" => 2.0,
        "flag" => true, "nothing" => Value::Null,
        "list" => Value::list([Value::from(1), Value::from("x")]),
        "map" => item! { "k" => "v", "deep" => item! { "n" => 1, "b" => Value::bytes([1]) } },
        "tags" => Value::string_set(["b", "a"]),
        "scores" => Value::number_set([3.0, 1.5, -2.0]),
        "bin" => Value::bytes([0, 255]),
        "bins" => Value::bytes_set([vec![1u8], vec![0u8]]),
        "grid" => Value::list([Value::list([1, 2]), Value::List(vec![])]),
    };
    kvs.upsert("native", written.clone()).await.unwrap();
    let key = Key::with_sort("a", 7);
    let c = container(&client, "native").await;
    let doc = raw_document(&c, "a", &key).await.expect("the document");

    assert_eq!(doc["id"], json!(item_id(&key)));
    assert_eq!(item_id(&key), "sa~n7");
    assert_eq!(doc["_kvs_id"], json!("a"));
    assert_eq!(doc["at"], json!(7));
    assert_eq!(doc["text"], json!("héllo"));
    assert_eq!(doc["int"], json!(-7));
    assert_eq!(doc["edge"], json!(1i64 << 53));
    assert_eq!(doc["float"], json!(0.1));
    assert_eq!(doc["whole"].as_f64(), Some(2.0), "{}", doc["whole"]);
    assert_eq!(doc["flag"], json!(true));
    assert_eq!(doc["nothing"], Json::Null);
    assert_eq!(doc["list"], json!([1, "x"]));
    assert_eq!(
        doc["map"],
        json!({ "k": "v", "deep": { "n": 1, "b": "AQ==" } })
    );
    assert_eq!(doc["tags"], json!(["a", "b"]));
    let scores: Vec<f64> = doc["scores"]
        .as_array()
        .expect("an array")
        .iter()
        .map(|n| n.as_f64().expect("a number"))
        .collect();
    assert_eq!(scores, [-2.0, 1.5, 3.0]);
    assert_eq!(doc["bin"], json!("AP8="));
    assert_eq!(doc["bins"], json!(["AA==", "AQ=="]));
    assert_eq!(doc["grid"], json!([[1, 2], []]));
    let types: BTreeSet<&str> = doc["_kvsTypes"]
        .as_array()
        .expect("the record of bytes and sets")
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        BTreeSet::from([
            "B:.bin",
            "B:.map.deep.b",
            "BS:.bins",
            "NS:.scores",
            "SS:.tags"
        ])
    );
    assert_eq!(
        doc["_kvsKey"],
        json!(kvs::cosmos::value::table_order_key(&key))
    );
    assert!(!doc.contains_key("_kvsIx"), "no index, no index keys");

    // A query written by hand, with a parameter, finds it: across the container and
    // within its partition.
    for scope in [FeedScope::full_container(), FeedScope::partition("a")] {
        let found = sql(
            &c,
            "SELECT * FROM c WHERE c.text = @t",
            &[("@t", json!("héllo"))],
            scope,
        )
        .await;
        assert_eq!(found.len(), 1);
        assert_eq!(found[0]["id"], json!("sa~n7"));
        assert_eq!(found[0]["at"], json!(7));
    }
    assert!(
        sql(
            &c,
            "SELECT * FROM c WHERE c.text = @t",
            &[("@t", json!("x"))],
            FeedScope::full_container()
        )
        .await
        .is_empty()
    );
    assert_eq!(kvs.get("native", key).await.unwrap(), Some(written));

    // The reverse: a document written by plain SDK calls, under the id kvs derives and
    // with the partition key property, is an item to kvs.
    let key = Key::with_sort("b", 8);
    let foreign = json!({
        "id": item_id(&key), "_kvs_id": "b", "at": 8,
        "text": "plain", "n": 3, "f": 1.5, "list": [1, "x"], "map": { "k": [true, null] },
        "extra": "theirs",
    });
    c.create_item("b", &item_id(&key), &foreign, None)
        .await
        .unwrap();
    let raw = raw_document(&c, "b", &key).await.unwrap();
    assert!(
        ["_rid", "_etag", "_ts"]
            .iter()
            .all(|p| raw.contains_key(*p)),
        "Cosmos added its own properties: {raw:?}"
    );
    let expected = item! {
        "id" => "b", "at" => 8, "text" => "plain", "n" => 3, "f" => 1.5,
        "list" => Value::list([Value::from(1), Value::from("x")]),
        "map" => item! { "k" => Value::list([Value::from(true), Value::Null]) },
        "extra" => "theirs",
    };
    assert_eq!(
        kvs.get("native", key.clone()).await.unwrap(),
        Some(expected)
    );
    // kvs updates it, keeping what it does not touch; from then on queries see it.
    let updated = kvs.update("native", key.clone()).add("n", 1).await.unwrap();
    assert_eq!(updated["n"], Value::from(4));
    assert_eq!(updated["extra"], Value::from("theirs"));
    let page = kvs.query("native", "b").await.unwrap();
    assert_eq!(strings(&page.items, "extra"), ["theirs"]);
}

/// What query text must never be built from: quotes of both kinds, backslashes, SQL
/// comments, statement separators, tautologies and parameter names.
const NASTY: [&str; 12] = [
    "'",
    "\"",
    "\\",
    "\\'",
    "a' --",
    "/* x */",
    "*/",
    "'; DROP c; --",
    "' OR '1'='1",
    "\" OR \"1\"=\"1",
    "@p",
    "@lo",
];

/// No value or name is ever spliced into query text: keys, sort values, filter values,
/// an attribute name and an index name full of quotes, backslashes, comments,
/// `; DROP` and `' OR '1'='1` round-trip, and queries by partition (sort conditions Eq,
/// BeginsWith, Between), with a filter, and on the index return exactly the expected
/// items, in order, and nothing of the plain partition beside them.
#[tokio::test]
async fn no_value_or_name_is_spliced_into_query_text() {
    let (_, kvs) = setup().await;
    let weird = "we'ird \"name\" --";
    let index = "by 'owner\"; DROP c --";
    let store = "st'ore\"; --";
    kvs.ensure_store(
        StoreSchema::new(store, KeyAttr::string("pk"))
            .sort_key(KeyAttr::string("sk"))
            .index(
                IndexSchema::new(index, KeyAttr::string("o'wner\""))
                    .sort_key(KeyAttr::string("s\\k")),
            ),
    )
    .await
    .unwrap();
    let mut all = Vec::new();
    // Each nasty value is a partition with every nasty sort value; "p" is the plain
    // partition an injected `OR` would leak.
    for pk in NASTY.iter().chain(&["p"]) {
        for (i, sk) in NASTY.iter().enumerate() {
            let it = item! {
                "pk" => *pk, "sk" => *sk, "n" => i as i64,
                weird => if i % 2 == 0 { "' OR '1'='1" } else { "x" },
                "o'wner\"" => *sk, "s\\k" => *pk,
            };
            all.push(it.clone());
            kvs.upsert(store, it).await.unwrap();
        }
    }
    let pk_of = |i: &Item| i["pk"].as_str().unwrap().to_owned();
    let sk_of = |i: &Item| i["sk"].as_str().unwrap().to_owned();
    for pk in NASTY {
        let in_partition: Vec<&Item> = {
            let mut v: Vec<&Item> = all.iter().filter(|i| pk_of(i) == pk).collect();
            v.sort_by_key(|i| sk_of(i));
            v
        };
        let got = kvs.query(store, pk).await.unwrap().items;
        assert_eq!(
            got.iter().collect::<Vec<_>>(),
            in_partition,
            "partition {pk:?}"
        );
        for sk in NASTY {
            let key = Key::with_sort(pk, sk);
            let one = kvs.get(store, key).await.unwrap().expect("the item");
            assert_eq!((pk_of(&one), sk_of(&one)), (pk.to_owned(), sk.to_owned()));
            let got = kvs
                .query(store, pk)
                .sort(SortCondition::eq(sk))
                .await
                .unwrap()
                .items;
            assert_eq!(got, std::slice::from_ref(&one), "{pk:?} / Eq {sk:?}");
            let starting: Vec<String> = in_partition
                .iter()
                .map(|i| sk_of(i))
                .filter(|s| s.starts_with(sk))
                .collect();
            let got = kvs
                .query(store, pk)
                .sort(SortCondition::begins_with(sk))
                .await
                .unwrap()
                .items;
            assert_eq!(strings(&got, "sk"), starting, "{pk:?} / BeginsWith {sk:?}");
        }
        let (lo, hi) = ("'", "\\'");
        let between: Vec<String> = in_partition
            .iter()
            .map(|i| sk_of(i))
            .filter(|s| s.as_str() >= lo && s.as_str() <= hi)
            .collect();
        assert!(between.len() > 2 && between.len() < NASTY.len());
        let got = kvs
            .query(store, pk)
            .sort(SortCondition::between(lo, hi))
            .await
            .unwrap()
            .items;
        assert_eq!(strings(&got, "sk"), between, "{pk:?} / Between");
        // A filter on the attribute whose name holds quotes, by a value that holds them.
        let got = kvs
            .query(store, pk)
            .filter(Path::attr(weird).eq("' OR '1'='1"))
            .await
            .unwrap()
            .items;
        let evens: Vec<String> = in_partition
            .iter()
            .filter(|i| i["n"].as_i64().unwrap() % 2 == 0)
            .map(|i| sk_of(i))
            .collect();
        assert_eq!(strings(&got, "sk"), evens, "{pk:?} / filter");
        // The index whose name holds quotes, by a value full of them: one item per
        // table partition, across partitions, in order of the index's sort key.
        let got = kvs.query(store, pk).index(index).await.unwrap().items;
        let mut expected: Vec<String> = NASTY.iter().chain(&["p"]).map(|s| s.to_string()).collect();
        expected.sort();
        assert_eq!(strings(&got, "s\\k"), expected, "index partition {pk:?}");
        assert!(got.iter().all(|i| i["o'wner\""] == Value::from(pk)));
        let got = kvs
            .query(store, pk)
            .index(index)
            .sort(SortCondition::eq("' OR '1'='1"))
            .await
            .unwrap()
            .items;
        assert_eq!(strings(&got, "pk"), ["' OR '1'='1"], "index {pk:?} / Eq");
    }
    // Deleted by those keys, they are gone, and the plain partition is untouched.
    for pk in NASTY {
        let keys: Vec<Key> = NASTY.iter().map(|sk| Key::with_sort(pk, *sk)).collect();
        kvs.delete_many(store, keys).await.unwrap();
        assert_eq!(kvs.query(store, pk).await.unwrap().items, []);
    }
    assert_eq!(
        kvs.query(store, "p").await.unwrap().items.len(),
        NASTY.len()
    );
}

/// Checks a document id as Cosmos DB needs it: ASCII, without `/`, `\`, `?` or `#`, at
/// most 255 bytes.
fn assert_cosmos_id(id: &str) {
    assert!(id.is_ascii(), "{id}");
    assert!(!id.contains(['/', '\\', '?', '#']), "{id}");
    assert!(id.len() <= 255, "{} bytes: {id}", id.len());
}

/// The ids of every document of a store, read with a plain cross-partition query.
async fn document_ids(c: &ContainerClient) -> Vec<String> {
    sql(c, "SELECT c.id FROM c", &[], FeedScope::full_container())
        .await
        .iter()
        .map(|d| d["id"].as_str().expect("an id").to_owned())
        .collect()
}

/// Keys of any length and character find their document: string keys of 1 to 2,000
/// bytes (across the 250-byte boundary where ids are hashed), with `/ \ ? # %`, `~` and
/// non-ASCII, number keys (`1` and `1.0` one item), bytes keys: each upserted, read,
/// queried and deleted; every document id (read back with the SDK) is ASCII, without
/// `/\?#`, at most 255 bytes, and each key has its own.
#[tokio::test]
async fn keys_of_any_length_and_character_find_their_document() {
    let (client, kvs) = setup().await;
    kvs.ensure_store(
        StoreSchema::new("strs", KeyAttr::string("pk")).sort_key(KeyAttr::string("sk")),
    )
    .await
    .unwrap();
    let values: Vec<String> = [1, 248, 249, 250, 251, 2000]
        .iter()
        .map(|n| "k".repeat(*n))
        .chain(
            [
                "a/b",
                "a\\b",
                "a?b",
                "a#b",
                "100%",
                "%2F",
                "~",
                "s~t",
                "é",
                "日本語",
                "😀",
                "a b",
                "\u{0}",
                "\u{FFFF}",
                "..",
                ".",
                "-_",
            ]
            .map(str::to_owned),
        )
        .chain([
            "é".repeat(125),
            "é".repeat(1000),
            format!("{}/", "x".repeat(300)),
        ])
        .collect();
    let c = container(&client, "strs").await;
    for v in &values {
        let key = Key::with_sort(v.as_str(), v.as_str());
        let it = item! { "pk" => v.as_str(), "sk" => v.as_str(), "len" => v.len() as i64 };
        kvs.upsert("strs", it.clone()).await.unwrap();
        assert_eq!(
            kvs.get("strs", key.clone()).await.unwrap(),
            Some(it.clone()),
            "{v:?}"
        );
        let doc = raw_document(&c, v.clone(), &key)
            .await
            .expect("the document by its id");
        assert_eq!(doc["pk"], json!(v), "{v:?}");
        assert_cosmos_id(doc["id"].as_str().unwrap());
        let page = kvs.query("strs", v.as_str()).await.unwrap();
        assert_eq!(page.items, std::slice::from_ref(&it), "{v:?}");
        let page = kvs
            .query("strs", v.as_str())
            .sort(SortCondition::eq(v.as_str()))
            .await
            .unwrap();
        assert_eq!(page.items, std::slice::from_ref(&it), "{v:?}");
    }
    let ids = document_ids(&c).await;
    assert_eq!(ids.len(), values.len());
    assert_eq!(
        ids.iter().collect::<BTreeSet<_>>().len(),
        values.len(),
        "one id per key"
    );
    ids.iter().for_each(|id| assert_cosmos_id(id));
    // A key exactly at the boundary keeps its plain id; one byte more is hashed.
    assert_eq!(item_id(&Key::new("k".repeat(249).as_str())).len(), 250);
    assert_eq!(item_id(&Key::new("k".repeat(250).as_str())).len(), 65);
    for v in &values {
        let key = Key::with_sort(v.as_str(), v.as_str());
        assert!(
            kvs.delete("strs", key.clone()).await.unwrap().is_some(),
            "{v:?}"
        );
        assert_eq!(kvs.get("strs", key.clone()).await.unwrap(), None, "{v:?}");
        assert!(raw_document(&c, v.clone(), &key).await.is_none(), "{v:?}");
    }
    assert!(document_ids(&c).await.is_empty());

    // Numbers: 1 and 1.0 are one item, whichever wrote it, read and deleted by either.
    kvs.ensure_store(StoreSchema::new("nums", KeyAttr::number("n")))
        .await
        .unwrap();
    kvs.upsert("nums", item! { "n" => 1, "v" => "int" })
        .await
        .unwrap();
    kvs.upsert("nums", item! { "n" => 1.0, "v" => "float" })
        .await
        .unwrap();
    for k in [Value::from(1), Value::from(1.0)] {
        let got = kvs.get("nums", k.clone()).await.unwrap().expect("the item");
        assert_eq!(got["v"], Value::from("float"), "{k:?}");
        let page = kvs.query("nums", k.clone()).await.unwrap();
        assert_eq!(strings(&page.items, "v"), ["float"], "{k:?}");
    }
    for n in [-2.5, 1e-7, 9007199254740992.0, -0.5] {
        kvs.upsert("nums", item! { "n" => n }).await.unwrap();
        assert!(kvs.get("nums", n).await.unwrap().is_some(), "{n}");
        assert_eq!(kvs.query("nums", n).await.unwrap().items.len(), 1, "{n}");
    }
    let n = container(&client, "nums").await;
    let ids = document_ids(&n).await;
    assert_eq!(ids.len(), 5, "{ids:?}");
    ids.iter().for_each(|id| assert_cosmos_id(id));
    assert!(kvs.delete("nums", 1.0).await.unwrap().is_some());
    assert_eq!(kvs.get("nums", 1).await.unwrap(), None);
    assert_eq!(document_ids(&n).await.len(), 4);

    // Bytes: any bytes, `/` and 0xFF included, and long ones.
    kvs.ensure_store(StoreSchema::new("bins", KeyAttr::bytes("b")))
        .await
        .unwrap();
    let keys: Vec<Vec<u8>> = vec![vec![0], vec![255, 0, b'/'], vec![b'?'; 3], vec![7; 300]];
    for k in &keys {
        kvs.upsert("bins", item! { "b" => Value::bytes(k.clone()) })
            .await
            .unwrap();
        let got = kvs.get("bins", Key::bytes(k.clone())).await.unwrap();
        assert_eq!(got, Some(item! { "b" => Value::bytes(k.clone()) }));
        let page = kvs.query("bins", Value::bytes(k.clone())).await.unwrap();
        assert_eq!(page.items.len(), 1);
    }
    let b = container(&client, "bins").await;
    let ids = document_ids(&b).await;
    assert_eq!(ids.len(), keys.len());
    ids.iter().for_each(|id| assert_cosmos_id(id));
    kvs.delete_many("bins", keys.iter().map(|k| Key::bytes(k.clone())))
        .await
        .unwrap();
    assert!(document_ids(&b).await.is_empty());
}

/// Sort values whose UTF-16 and UTF-8 orders differ (U+E000..U+FFFF sort after
/// surrogates in UTF-16, before them in UTF-8) come back in UTF-8 byte order, both
/// ways, on the base table and on a secondary index across partitions, and pages of 1
/// and 2 through page tokens give the same order.
#[tokio::test]
async fn strings_order_by_utf8_bytes_on_tables_and_indexes() {
    let (_, kvs) = setup().await;
    kvs.ensure_store(
        StoreSchema::new("order", KeyAttr::string("pk"))
            .sort_key(KeyAttr::string("sk"))
            .index(IndexSchema::new("byG", KeyAttr::string("g")).sort_key(KeyAttr::string("t"))),
    )
    .await
    .unwrap();
    let values = ["\u{FFFF}", "\u{E000}", "😀", "a", "z", "\u{7FF}"];
    for (i, v) in values.iter().enumerate() {
        // In the table's partition `p` (not in the index)...
        kvs.upsert("order", item! { "pk" => "p", "sk" => *v })
            .await
            .unwrap();
        // ...and each in a partition of its own, in the index's partition `g`.
        kvs.upsert(
            "order",
            item! { "pk" => format!("q{i}"), "sk" => "-", "g" => "g", "t" => *v },
        )
        .await
        .unwrap();
    }
    let ascending = ["a", "z", "\u{7FF}", "\u{E000}", "\u{FFFF}", "😀"];
    let mut descending = ascending;
    descending.reverse();
    for (desc, expected) in [(false, ascending), (true, descending)] {
        let table = || {
            let q = kvs.query("order", "p");
            if desc { q.descending() } else { q }
        };
        let index = || {
            let q = kvs.query("order", "g").index("byG");
            if desc { q.descending() } else { q }
        };
        assert_eq!(
            strings(&table().await.unwrap().items, "sk"),
            expected,
            "table, desc {desc}"
        );
        assert_eq!(
            strings(&index().await.unwrap().items, "t"),
            expected,
            "index, desc {desc}"
        );
        for page in [1, 2] {
            let got = all_pages(table, page).await;
            assert_eq!(
                strings(&got, "sk"),
                expected,
                "table, pages of {page}, desc {desc}"
            );
            let got = all_pages(index, page).await;
            assert_eq!(
                strings(&got, "t"),
                expected,
                "index, pages of {page}, desc {desc}"
            );
        }
    }
    // A range between two of them holds what lies between in UTF-8 order.
    let got = kvs
        .query("order", "p")
        .sort(SortCondition::between("\u{E000}", "😀"))
        .await
        .unwrap();
    assert_eq!(strings(&got.items, "sk"), ["\u{E000}", "\u{FFFF}", "😀"]);
    let got = kvs
        .query("order", "g")
        .index("byG")
        .sort(SortCondition::gt("\u{FFFF}"))
        .await
        .unwrap();
    assert_eq!(strings(&got.items, "t"), ["😀"]);
}

/// Asserts `result` failed with `kind`, and that its message names every one of `names`.
fn assert_refused<T: std::fmt::Debug>(result: kvs::Result<T>, kind: ErrorKind, names: &[&str]) {
    let err = result.expect_err("refused");
    assert_eq!(err.kind(), &kind, "{err}");
    for name in names {
        assert!(err.message().contains(name), "{err} must name {name}");
    }
}

/// Cosmos DB's limits are said before anything is sent: an integer beyond +-2^53 (at
/// the top level, nested, in a set, or made by an update) and a decimal a double cannot
/// hold are `Validation` naming the attribute, with nothing written; +-2^53 itself is
/// kept exactly.
#[tokio::test]
async fn numbers_a_double_cannot_hold_are_refused_by_name() {
    let (client, kvs) = setup().await;
    kvs.ensure_store(StoreSchema::new("limits", KeyAttr::string("id")))
        .await
        .unwrap();
    let c = container(&client, "limits").await;
    let max = 1i64 << 53;
    let refused = [
        (item! { "id" => "over", "big" => max + 1 }, "big"),
        (item! { "id" => "under", "small" => -max - 1 }, "small"),
        (item! { "id" => "min", "least" => i64::MIN }, "least"),
        (
            item! { "id" => "nested", "m" => item! { "deep" => Value::list([1, max + 1]) } },
            "m.deep[1]",
        ),
        (
            item! { "id" => "set", "ns" => Value::number_set([1, max + 2]) },
            "ns",
        ),
        (
            item! { "id" => "dec", "amount" => "12345678901234567890.5".parse::<Decimal>().unwrap() },
            "amount",
        ),
        (
            item! { "id" => "tiny", "rate" => "0.1000000000000000000000000001".parse::<Decimal>().unwrap() },
            "rate",
        ),
    ];
    for (it, name) in refused {
        let id = it["id"].clone();
        assert_refused(
            kvs.upsert("limits", it.clone()).await,
            ErrorKind::Validation,
            &[name],
        );
        assert_refused(
            kvs.insert("limits", it).await,
            ErrorKind::Validation,
            &[name],
        );
        assert_eq!(kvs.get("limits", id).await.unwrap(), None);
    }
    assert!(document_ids(&c).await.is_empty(), "nothing was written");

    // The edges themselves are held exactly.
    let edges = item! { "id" => "edges", "top" => max, "bottom" => -max };
    kvs.upsert("limits", edges.clone()).await.unwrap();
    assert_eq!(
        kvs.get("limits", "edges").await.unwrap(),
        Some(edges.clone())
    );
    // An update that would go past them is refused, and leaves the item as it was.
    assert_refused(
        kvs.update("limits", "edges").add("top", 1).await,
        ErrorKind::Validation,
        &["top"],
    );
    assert_refused(
        kvs.update("limits", "edges").set("m.x", max * 2).await,
        ErrorKind::Validation,
        &["m"],
    );
    assert_refused(
        kvs.transact([TransactWrite::put(
            "limits",
            item! { "id" => "t", "n" => max + 1 },
        )])
        .await,
        ErrorKind::Validation,
        &["n"],
    );
    assert_eq!(kvs.get("limits", "edges").await.unwrap(), Some(edges));
    assert_eq!(document_ids(&c).await, ["sedges"]);
}

/// A transaction is one transactional batch: within one partition key value of one
/// store it applies every write; across two partition key values, or two stores, it is
/// `Unsupported` and writes nothing. `1` and `1.0` are one partition key value.
#[tokio::test]
async fn transactions_hold_one_partition_of_one_store() {
    let (client, kvs) = setup().await;
    for store in ["tx", "tx2"] {
        kvs.ensure_store(
            StoreSchema::new(store, KeyAttr::string("g")).sort_key(KeyAttr::string("id")),
        )
        .await
        .unwrap();
    }
    let put =
        |store: &str, g: &str, id: &str| TransactWrite::put(store, item! { "g" => g, "id" => id });
    assert_refused(
        kvs.transact([put("tx", "a", "1"), put("tx", "b", "2")])
            .await,
        ErrorKind::Unsupported,
        &[],
    );
    assert_refused(
        kvs.transact([put("tx", "a", "1"), put("tx2", "a", "1")])
            .await,
        ErrorKind::Unsupported,
        &[],
    );
    for store in ["tx", "tx2"] {
        assert!(
            document_ids(&container(&client, store).await)
                .await
                .is_empty(),
            "{store}"
        );
    }

    kvs.upsert("tx", item! { "g" => "a", "id" => "old" })
        .await
        .unwrap();
    kvs.transact([
        put("tx", "a", "1"),
        put("tx", "a", "2"),
        TransactWrite::check("tx", Key::with_sort("a", "old"), attr("g").eq("a")),
        TransactWrite::insert("tx", item! { "g" => "a", "id" => "3" }),
    ])
    .await
    .unwrap();
    let ids = strings(&kvs.query("tx", "a").await.unwrap().items, "id");
    assert_eq!(ids, ["1", "2", "3", "old"]);
    kvs.transact([
        TransactWrite::delete("tx", Key::with_sort("a", "1")),
        TransactWrite::delete("tx", Key::with_sort("a", "old")),
    ])
    .await
    .unwrap();
    let ids = strings(&kvs.query("tx", "a").await.unwrap().items, "id");
    assert_eq!(ids, ["2", "3"]);

    kvs.ensure_store(StoreSchema::new("txn", KeyAttr::number("n")).sort_key(KeyAttr::string("id")))
        .await
        .unwrap();
    kvs.transact([
        TransactWrite::put("txn", item! { "n" => 1, "id" => "int" }),
        TransactWrite::put("txn", item! { "n" => 1.0, "id" => "float" }),
    ])
    .await
    .unwrap();
    assert_eq!(kvs.query("txn", 1).await.unwrap().items.len(), 2);
}

/// `ensure_store` creates the database and the container, partitioned on `/` and the
/// stored name of the partition key attribute (`container_definition`), and is
/// idempotent (what the store holds stays); it refuses, with `Validation` naming the
/// store, a container that exists partitioned otherwise.
#[tokio::test]
async fn ensure_store_creates_the_container_once_and_checks_its_partition_key() {
    let (client, kvs) = setup().await;
    let orders = StoreSchema::new("orders", KeyAttr::string("user"))
        .sort_key(KeyAttr::number("at"))
        .index(IndexSchema::new("byState", KeyAttr::string("state")));
    let things = StoreSchema::new("my things/1", KeyAttr::string("id"));
    for schema in [&orders, &things] {
        kvs.ensure_store(schema.clone()).await.unwrap();
    }
    client
        .database_client("kvs")
        .read(None)
        .await
        .expect("the database");
    let paths = |p: &ContainerProperties| -> Vec<String> {
        p.partition_key
            .paths()
            .iter()
            .map(|s| s.to_string())
            .collect()
    };
    for (schema, path) in [(&orders, "/user"), (&things, "/_kvs_id")] {
        let found: ContainerProperties = container(&client, &schema.name)
            .await
            .read(None)
            .await
            .unwrap()
            .into_model()
            .unwrap();
        assert_eq!(found.id, container_id("", &schema.name));
        assert_eq!(paths(&found), [path]);
        assert_eq!(paths(&container_definition("", schema)), [path]);
    }
    assert_eq!(container_id("", "my things/1"), "~my%20things%2F1");

    kvs.upsert(
        "orders",
        item! { "user" => "u", "at" => 1, "state" => "open" },
    )
    .await
    .unwrap();
    for _ in 0..2 {
        kvs.ensure_store(orders.clone()).await.unwrap();
        kvs.ensure_store(things.clone()).await.unwrap();
    }
    let got = kvs.query("orders", "open").index("byState").await.unwrap();
    assert_eq!(got.items.len(), 1, "the store kept its items");

    // A container made by someone else with another partition key path.
    client
        .database_client("kvs")
        .create_container(
            ContainerProperties::new(
                container_id("", "clash"),
                PartitionKeyDefinition::from("/other"),
            ),
            None,
        )
        .await
        .unwrap();
    let clash = StoreSchema::new("clash", KeyAttr::string("id"));
    assert_refused(
        kvs.ensure_store(clash.clone()).await,
        ErrorKind::Validation,
        &["clash", "/other", "/_kvs_id"],
    );
    // A container partitioned as kvs would is used as it is.
    client
        .database_client("kvs")
        .create_container(
            container_definition("", &StoreSchema::new("made", KeyAttr::string("k"))),
            None,
        )
        .await
        .unwrap();
    kvs.ensure_store(StoreSchema::new("made", KeyAttr::string("k")))
        .await
        .unwrap();
    kvs.upsert("made", item! { "k" => "x" }).await.unwrap();
    assert!(kvs.get("made", "x").await.unwrap().is_some());
}

/// The typed model of `unknown_stores_are_store_not_found`.
#[derive(kvs::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
#[kvs(store = "ghosts", partition_key = id)]
struct Ghost {
    id: String,
}

/// A store known to the handle (registered, or a typed model) whose container was never
/// created is `StoreNotFound` naming it, whether the database is missing too or not,
/// for reads, writes, queries and transactions; nothing is created by them.
#[tokio::test]
async fn unknown_stores_are_store_not_found() {
    let (client, kvs) = setup().await;
    kvs.register_store(StoreSchema::new("never", KeyAttr::string("id")))
        .unwrap();
    let ghosts = kvs.store::<Ghost>();
    for round in ["no database", "no container"] {
        assert_refused(
            kvs.get("never", "a").await,
            ErrorKind::StoreNotFound,
            &["never"],
        );
        assert_refused(
            kvs.upsert("never", item! { "id" => "a" }).await,
            ErrorKind::StoreNotFound,
            &["never"],
        );
        assert_refused(
            kvs.query("never", "a").await,
            ErrorKind::StoreNotFound,
            &["never"],
        );
        assert_refused(
            kvs.scan("never").await,
            ErrorKind::StoreNotFound,
            &["never"],
        );
        assert_refused(
            kvs.transact([TransactWrite::put("never", item! { "id" => "a" })])
                .await,
            ErrorKind::StoreNotFound,
            &["never"],
        );
        assert_refused(ghosts.get("g").await, ErrorKind::StoreNotFound, &["ghosts"]);
        assert_refused(
            ghosts.upsert(&Ghost { id: "g".into() }).await,
            ErrorKind::StoreNotFound,
            &["ghosts"],
        );
        if round == "no database" {
            assert!(
                client.database_client("kvs").read(None).await.is_err(),
                "nothing created"
            );
            kvs.ensure_store(StoreSchema::new("other", KeyAttr::string("id")))
                .await
                .unwrap();
        }
    }
    let db = client.database_client("kvs");
    for store in ["never", "ghosts"] {
        assert!(
            db.container_client(container_id("", store), None)
                .await
                .is_err(),
            "{store}"
        );
    }
    ghosts.ensure().await.unwrap();
    ghosts.upsert(&Ghost { id: "g".into() }).await.unwrap();
    assert_eq!(
        ghosts.get("g").await.unwrap(),
        Some(Ghost { id: "g".into() })
    );
}

/// A partition key attribute may have any name a schema accepts. Names holding `/` or
/// wrapped in `"` would make a partition key path Cosmos DB reads as another property
/// (`/a/b` is `b` inside `a`; `/"q"` is `q`): such a container is partitioned on a copy of
/// the value (`_kvsPk`), and the store works like any other.
#[tokio::test]
async fn partition_key_names_with_path_characters_work() {
    let (_, kvs) = setup().await;
    for (i, name) in ["a/b", "/x", "x/", "\"q\"", "a b", "a.b", "id"]
        .into_iter()
        .enumerate()
    {
        let store = format!("pk{i}");
        kvs.ensure_store(StoreSchema::new(&store, KeyAttr::string(name)))
            .await
            .unwrap_or_else(|e| panic!("{name:?}: {e}"));
        let it = item! { name => "x", "v" => 1 };
        kvs.upsert(&store, it.clone())
            .await
            .unwrap_or_else(|e| panic!("{name:?}: {e}"));
        assert_eq!(kvs.get(&store, "x").await.unwrap(), Some(it.clone()));
        assert_eq!(kvs.query(&store, "x").await.unwrap().items, [it]);
        kvs.delete(&store, "x").await.unwrap();
        assert_eq!(kvs.get(&store, "x").await.unwrap(), None);
    }
}

/// Reads with a projection bring only what they ask for (a `SELECT` of the properties,
/// each named by a parameter): gets (a query by id within the partition), batches,
/// queries and scans.
#[tokio::test]
async fn projected_reads_bring_only_what_they_ask() {
    kvs::conformance::projections::native_projections_read_only_what_they_ask(kvs().await, true)
        .await;
}

/// A store whose items expire has the container's TTL on (no default), and each item
/// with an expiry carries Cosmos DB's own `ttl`: the seconds left, plus a minute for
/// clock skew; an item without one carries none, and a user attribute named `ttl` is
/// the user's (escaped).
#[tokio::test]
async fn expiring_items_carry_cosmos_ttl() {
    use azure_data_cosmos::models::TimeToLive;

    let (client, kvs) = setup().await;
    kvs.ensure_store(StoreSchema::new("sessions", KeyAttr::string("id")).ttl("exp"))
        .await
        .unwrap();
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    };
    // kvs computes `ttl` as `exp - now + 60` from its own reading of the clock (whole
    // seconds), taken during the upsert: between `before` and `after`, however slowly
    // the upsert runs.
    let before = now();
    let exp = before + 3600;
    kvs.upsert(
        "sessions",
        item! { "id" => "s1", "exp" => exp, "ttl" => "mine" },
    )
    .await
    .unwrap();
    let after = now();
    kvs.upsert("sessions", item! { "id" => "s2" })
        .await
        .unwrap();
    let c = container(&client, "sessions").await;
    let props: ContainerProperties = c.read(None).await.unwrap().into_model().unwrap();
    assert_eq!(props.default_ttl, TimeToLive::NoDefault);
    let doc = raw_document(&c, "s1", &Key::new("s1")).await.expect("s1");
    let ttl = doc["ttl"].as_i64().expect("a number");
    assert!(
        (exp - after + 60..=exp - before + 60).contains(&ttl),
        "ttl {ttl}, for an expiry {exp} written between {before} and {after}"
    );
    assert_eq!(doc["_kvs_ttl"], json!("mine"));
    let doc = raw_document(&c, "s2", &Key::new("s2")).await.expect("s2");
    assert!(!doc.contains_key("ttl"));
    let read = kvs.get("sessions", "s1").await.unwrap().unwrap();
    assert_eq!(read.get("ttl"), Some(&Value::from("mine")));
}
