//! The `kvs` binary end to end: every command against real servers (dynoxide in this
//! process, Google's Firestore emulator and @vercel/cosmosdb-server as child
//! processes), the error lines and exit statuses, and the help text kept in HELP.md.
//!
//! Where Java and the Firestore emulator's jar, or node for the Cosmos DB server, are
//! missing, the hops on them print `SKIPPED` and the rest runs; with
//! `KVS_REQUIRE_FIRESTORE=1` or `KVS_REQUIRE_COSMOS_SERVER=1` (CI) they fail instead.
//! CI starts the Cosmos DB server and passes it in `KVS_COSMOS_ENDPOINT`.

mod support;

use std::collections::BTreeMap;
use std::path::Path;

use kvs::{IndexSchema, Item, KeyAttr, Kvs, Number, StoreSchema, Value};
use support::{Run, dynamodb_url, run, run_with_input, start_dynoxide};

fn block_on<T>(f: impl Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(f)
}

fn everything_schema() -> StoreSchema {
    StoreSchema::new("everything", KeyAttr::string("id"))
        .sort_key(KeyAttr::number("n"))
        .index(IndexSchema::new("byKind", KeyAttr::string("kind")).sort_key(KeyAttr::number("n")))
}

fn blobs_schema() -> StoreSchema {
    StoreSchema::new("blobs", KeyAttr::bytes("key"))
}

fn map(entries: &[(&str, Value)]) -> Value {
    Value::Map(
        entries
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
    )
}

/// An item with a value of every type, each one every backend holds exactly
/// (Firestore: int64 and double; Cosmos DB: doubles, integers up to 2^53).
fn portable_item(i: i64) -> Item {
    Item::new()
        .with("id", format!("item-{}", i % 4))
        .with("n", i)
        .with("kind", if i % 2 == 0 { "even" } else { "odd" })
        .with("text", format!("héllo wörld ✓ \"quoted\" {i}"))
        .with("neg", -42 - i)
        .with("safe", 9_007_199_254_740_992i64 - i)
        .with("float", 0.1)
        .with("small", -1.25e-100)
        .with("large", 1.5e100)
        .with("bytes", Value::bytes([0u8, 1, 2, 255, i as u8]))
        .with("ss", Value::string_set(["a", "b", "é"]))
        .with(
            "ns",
            Value::NumberSet([Number::from(1), Number::from(2.5), Number::from(-3)].into()),
        )
        .with("bs", Value::bytes_set([vec![1u8], vec![2u8, 3]]))
        .with(
            "map",
            map(&[
                (
                    "nested",
                    map(&[(
                        "deep",
                        Value::list([Value::from(1), "two".into(), Value::Null, true.into()]),
                    )]),
                ),
                ("a.b", "dotted key".into()),
            ]),
        )
        .with(
            "list",
            Value::list([
                Value::list([1, 2]),
                map(&[("k", "v".into())]),
                Value::bytes([9u8]),
                Value::string_set(["x"]),
            ]),
        )
        .with("flag", true)
        .with("off", false)
        .with("nothing", Value::Null)
        .with("a.b", "a top-level name with a dot")
        .with("_ts", "a name Cosmos DB reserves")
}

/// Seeds a local store file with the two portable stores.
fn seed_portable(path: &Path, count: i64) {
    block_on(async {
        let kvs = Kvs::open(path).unwrap();
        kvs.ensure_store(everything_schema()).await.unwrap();
        kvs.ensure_store(blobs_schema()).await.unwrap();
        kvs.upsert_many("everything", (0..count).map(portable_item))
            .await
            .unwrap();
        kvs.upsert_many(
            "blobs",
            (0..5u8).map(|i| {
                Item::new()
                    .with("key", Value::bytes([i, 0xff]))
                    .with("v", i32::from(i))
            }),
        )
        .await
        .unwrap();
    });
}

/// Every store of a local file: schema (indexes sorted) and items by key.
fn contents(path: &Path) -> BTreeMap<String, (StoreSchema, Vec<Item>)> {
    block_on(async {
        use futures::TryStreamExt as _;
        let kvs = Kvs::open(path).unwrap();
        let mut out = BTreeMap::new();
        for name in kvs.store_names() {
            let mut schema = StoreSchema::clone(&kvs.schema(&name).unwrap());
            schema.indexes.sort_by(|a, b| a.name.cmp(&b.name));
            let mut items: Vec<Item> = kvs.scan(&name).stream().try_collect().await.unwrap();
            items.sort_by_key(|i| format!("{:?}", (i.get("id"), i.get("n"), i.get("key"))));
            out.insert(name, (schema, items));
        }
        out
    })
}

#[track_caller]
fn assert_same_contents(a: &Path, b: &Path) {
    let (a, b) = (contents(a), contents(b));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (name, (schema, items)) in &a {
        let (schema_b, items_b) = &b[name];
        assert_eq!(schema, schema_b, "store {name}");
        assert_eq!(items.len(), items_b.len(), "store {name}: item count");
        for (x, y) in items.iter().zip(items_b) {
            assert_eq!(x, y, "store {name}");
        }
    }
}

fn skipped(what: &str, why: &str) {
    eprintln!("SKIPPED {what}: {why}");
}

/// A store with a value of every type goes local -> DynamoDB (dynoxide) -> Firestore ->
/// Cosmos DB -> local and comes back equal, schemas included.
#[test]
fn a_store_of_every_type_goes_round_every_backend_and_back_equal() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    seed_portable(&d.join("a.redb"), 30);
    let dynamo = dynamodb_url(&start_dynoxide(), "trip-");
    let schema_file = d.join("schemas.jsonl");

    let mut hops: Vec<(String, bool)> = vec![("a.redb".into(), false), (dynamo.clone(), false)];
    match support::firestore() {
        Ok(host) => hops.push((
            format!("firestore://kvs-cli-{}?emulator={host}", std::process::id()),
            true,
        )),
        Err(why) => skipped("the Firestore hop of the round trip", &why),
    }
    match support::cosmos() {
        Ok(c) => {
            // SAFETY: read by the kvs children only; no thread here reads it.
            unsafe { std::env::set_var("KVS_TEST_COSMOS_KEY", &c.key) };
            hops.push((c.url(&format!("kvs-cli-{}", std::process::id())), true));
        }
        Err(why) => skipped("the Cosmos DB hop of the round trip", &why),
    }
    hops.push(("b.redb".into(), false));

    // DynamoDB describes its tables; Firestore and Cosmos DB get that as --schema.
    assert_eq!(run(d, &["stores", &dynamo]).ok().stdout, "", "no table yet");
    for (from, to) in hops.iter().zip(hops.iter().skip(1)) {
        if from.0 == dynamo {
            let listed = run(d, &["stores", &dynamo]).ok();
            assert_eq!(listed.stdout.lines().count(), 2, "{listed:#?}");
            std::fs::write(&schema_file, &listed.stdout).unwrap();
        }
        let mut args = vec![
            "copy",
            &from.0,
            &to.0,
            "--page-size",
            "7",
            "--concurrency",
            "3",
        ];
        let schema_arg = schema_file.to_string_lossy().into_owned();
        if from.1 {
            args.extend(["--schema", &schema_arg]);
        }
        let copied = run(d, &args).ok();
        assert!(
            copied.stderr.contains("kvs: copied 35 items of 2 stores"),
            "{from:?} -> {to:?}: {copied:#?}"
        );
    }
    assert_same_contents(&d.join("a.redb"), &d.join("b.redb"));
}

fn exact_item(i: i64) -> Item {
    let n = |t: &str| Value::Number(t.parse().unwrap());
    Item::new()
        .with("id", format!("x-{i}"))
        .with("dec", n("12345678901234567890.123456789"))
        .with("neg_dec", n("-0.00000000000000000000000000000000000012345"))
        .with("digits38", n("99999999999999999999999999999999999999"))
        .with("min", i64::MIN)
        .with("max", i64::MAX)
        // Floats that equal integers, which the local store keeps as floats.
        .with("two", 2.0)
        .with("negz", -0.0)
        .with("big_float", 1_152_921_504_606_846_976.0)
        .with(
            "ns",
            Value::NumberSet(
                ["1.000000000000000000001", "-7"]
                    .iter()
                    .map(|t| t.parse().unwrap())
                    .collect(),
            ),
        )
        .with("bytes", Value::bytes(vec![i as u8; 3]))
        .with(
            "list",
            Value::list([n("0.30000000000000000000000000000000000001")]),
        )
}

/// Exact decimals (38 digits, beyond i64 and f64) survive export and import, and a copy
/// through DynamoDB; Firestore, which cannot hold them, refuses them with one line.
#[test]
fn exact_numbers_survive_export_import_and_dynamodb() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    block_on(async {
        let kvs = Kvs::open(d.join("exact.redb")).unwrap();
        kvs.ensure_store(StoreSchema::new("exact", KeyAttr::string("id")))
            .await
            .unwrap();
        kvs.upsert_many("exact", (0..3).map(exact_item))
            .await
            .unwrap();
    });
    let exported = run(d, &["export", "exact.redb"]).ok();
    assert!(
        exported
            .stdout
            .starts_with(r#"{"format":"kvs-export","version":1}"#),
        "{exported:#?}"
    );
    assert!(
        exported
            .stdout
            .contains(r#"{"N":"12345678901234567890.123456789"}"#),
        "{exported:#?}"
    );
    assert!(exported.stdout.contains(r#"{"N":"-9223372036854775808"}"#));
    run_with_input(d, &["import", "imported.redb"], &exported.stdout).ok();
    assert_same_contents(&d.join("exact.redb"), &d.join("imported.redb"));
    // Equal is not enough for the floats that equal integers: their kind and sign too.
    block_on(async {
        let kvs = Kvs::open(d.join("imported.redb")).unwrap();
        let item = kvs.get("exact", "x-0").await.unwrap().expect("the item");
        for name in ["two", "negz", "big_float"] {
            let n = item[name].as_number().unwrap();
            assert!(
                !n.is_integer() && !n.is_decimal(),
                "{name} read back as {n}"
            );
        }
        assert!(item["negz"].as_f64().unwrap().is_sign_negative());
        assert!(item["min"].as_number().unwrap().is_integer());
    });
    // Importing twice leaves the same items.
    run_with_input(d, &["import", "imported.redb"], &exported.stdout).ok();
    assert_same_contents(&d.join("exact.redb"), &d.join("imported.redb"));

    let dynamo = dynamodb_url(&start_dynoxide(), "exact-");
    run(d, &["copy", "exact.redb", &dynamo]).ok();
    run(d, &["copy", &dynamo, "back.redb"]).ok();
    assert_same_contents(&d.join("exact.redb"), &d.join("back.redb"));

    match support::firestore() {
        Ok(host) => {
            let fs = format!(
                "firestore://kvs-cli-exact-{}?emulator={host}",
                std::process::id()
            );
            let refused = run(d, &["copy", "exact.redb", &fs]);
            let line = refused.fails(3, "kvs: Validation: ");
            assert!(line.contains("resume with: kvs copy exact.redb"), "{line}");
        }
        Err(why) => skipped("Firestore refusing exact decimals", &why),
    }
}

/// A copy interrupted after some pages, then run again, ends with every item once:
/// nothing lost, nothing duplicated, and the second run resumes rather than restarts.
#[test]
fn an_interrupted_copy_resumes_and_loses_and_duplicates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    block_on(async {
        let kvs = Kvs::open(d.join("many.redb")).unwrap();
        kvs.ensure_store(StoreSchema::new("many", KeyAttr::number("k")))
            .await
            .unwrap();
        kvs.upsert_many(
            "many",
            (0..250).map(|k| Item::new().with("k", k).with("v", format!("v{k}"))),
        )
        .await
        .unwrap();
    });
    let dynamo = dynamodb_url(&start_dynoxide(), "resume-");
    let args = [
        "copy",
        "many.redb",
        &dynamo,
        "--page-size",
        "20",
        "--concurrency",
        "3",
    ];
    let stopped: Run = support::kvs(d, &args)
        .env("KVS_CLI_TEST_STOP_AFTER_PAGES", "4")
        .output()
        .unwrap()
        .into();
    let line = stopped.fails(
        130,
        "kvs: Interrupted: copy stopped in store \"many\" after 80 of its items",
    );
    assert!(
        line.contains("resume with: kvs copy many.redb 'dynamodb:?endpoint="),
        "{line}"
    );
    let checkpoints: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".kvs-copy-"))
        .collect();
    assert_eq!(checkpoints.len(), 1, "one checkpoint file");
    let count = |url: &str| run(d, &["scan", url, "many"]).ok().stdout.lines().count();
    assert_eq!(count(&dynamo), 80);

    let resumed = run(d, &args).ok();
    assert!(
        resumed.stderr.contains("kvs: copied 170 items of 1 stores"),
        "{resumed:#?}"
    );
    assert!(
        !checkpoints[0].path().exists(),
        "the checkpoint is removed once done"
    );
    run(d, &["copy", &dynamo, "copied.redb"]).ok();
    assert_same_contents(&d.join("many.redb"), &d.join("copied.redb"));
    // Safe to run twice: a complete copy run again writes the same items.
    run(d, &args).ok();
    assert_eq!(count(&dynamo), 250);
}

/// A page whose write fails while later pages are in flight stops the copy there: the
/// checkpoint never moves past it, even when the later pages (the last among them) are
/// written, so a resume writes it again. (Firestore refuses the exact decimal on the
/// third page of two items; four pages are written at once.)
#[test]
fn a_failed_page_is_never_passed_by_the_checkpoint() {
    let host = match support::firestore() {
        Ok(host) => host,
        Err(why) => return skipped("a page Firestore refuses, mid-copy", &why),
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    block_on(async {
        let kvs = Kvs::open(d.join("mixed.redb")).unwrap();
        kvs.ensure_store(StoreSchema::new("m", KeyAttr::number("k")))
            .await
            .unwrap();
        let items = (0..10).map(|k| {
            let item = Item::new().with("k", k);
            if k == 4 {
                item.with(
                    "dec",
                    Value::Number("12345678901234567890.5".parse().unwrap()),
                )
            } else {
                item
            }
        });
        kvs.upsert_many("m", items).await.unwrap();
    });
    let fs = format!(
        "firestore://kvs-cli-failed-page-{}?emulator={host}",
        std::process::id()
    );
    let args = [
        "copy",
        "mixed.redb",
        &fs,
        "--page-size",
        "2",
        "--concurrency",
        "5",
        "--checkpoint",
        "cp.json",
    ];
    let line = run(d, &args).fails(3, "kvs: Validation: ");
    assert!(
        line.contains("--page-size 2 --concurrency 5 --checkpoint cp.json"),
        "the resume command keeps the settings: {line}"
    );
    let cp: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("cp.json")).unwrap()).unwrap();
    let m = &cp["stores"]["m"];
    assert_eq!(m["done"], false, "{cp}");
    assert_eq!(m["items"], 4, "only the pages before the refused one: {cp}");
}

/// get, query and scan with filters written as text, printing JSON lines.
#[test]
fn get_query_and_scan_print_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    seed_portable(&d.join("a.redb"), 12);
    let got = run(d, &["get", "a.redb", "everything", "item-1", "5"]).ok();
    let line: serde_json::Value = serde_json::from_str(got.stdout.trim()).unwrap();
    assert_eq!(line["n"], 5);
    assert_eq!(line["kind"], "odd");
    assert_eq!(line["bytes"], "AAEC/wU=");
    let typed = run(
        d,
        &["get", "a.redb", "everything", "item-1", "5", "--typed"],
    )
    .ok();
    assert!(
        typed.stdout.contains(r#""ss":{"SS":["a","b","é"]}"#),
        "{typed:#?}"
    );

    let q = run(
        d,
        &[
            "query",
            "a.redb",
            "everything",
            "even",
            "--index",
            "byKind",
            "--sort",
            "n >= 4",
            "--descending",
        ],
    )
    .ok();
    let ns: Vec<i64> = q
        .stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["n"]
                .as_i64()
                .unwrap()
        })
        .collect();
    assert_eq!(ns, [10, 8, 6, 4]);

    let s = run(d, &["scan", "a.redb", "everything", "--filter", r#"kind = "odd" AND n BETWEEN 3 AND 7 AND contains(ss, "é") AND map.nested.deep[1] = "two""#]).ok();
    assert_eq!(s.stdout.lines().count(), 3, "{s:#?}");
    let s = run(
        d,
        &[
            "scan",
            "a.redb",
            "blobs",
            "--filter",
            r#"key = bytes("Av8=") OR NOT exists(v)"#,
        ],
    )
    .ok();
    assert_eq!(s.stdout.lines().count(), 1, "{s:#?}");
    let s = run(d, &["scan", "a.redb", "everything", "--limit", "2"]).ok();
    assert_eq!(s.stdout.lines().count(), 2);
    let listed = run(d, &["stores", "a.redb"]).ok();
    assert!(
        listed.stdout.contains(r#""name":"everything""#),
        "{listed:#?}"
    );
}

/// Each error is one line, `kvs: <kind>: <message> (<what to do>)`, and its exit status.
#[test]
fn errors_are_one_line_with_the_kind_and_an_exit_status() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    seed_portable(&d.join("a.redb"), 2);
    let line =
        run(d, &["scan", "a.redb", "nope"]).fails(3, "kvs: StoreNotFound: no store \"nope\"");
    assert!(line.contains("blobs, everything"), "{line}");
    run(d, &["stores", "s3://bucket"]).fails(2, "kvs: Usage: \"s3://bucket\" is not a backend URL");
    run(d, &["stores", "cosmos://host"]).fails(2, "kvs: Usage: ");
    run(d, &["stores", "dynamodb:?colour=red"]).fails(2, "kvs: Usage: ");
    let line = run(d, &["scan", "a.redb", "everything", "--filter", "n >"])
        .fails(3, "kvs: Validation: bad filter");
    assert!(line.contains("at column 4"), "{line}");
    run(
        d,
        &["scan", "a.redb", "everything", "--filter", "kind = odd"],
    )
    .fails(3, "kvs: Validation: bad filter");
    run(d, &["get", "a.redb", "everything", "item-1", "five"])
        .fails(3, "kvs: Validation: key attribute \"n\"");
    run(d, &["get", "a.redb", "everything", "item-1"])
        .fails(2, "kvs: Usage: store \"everything\" has a sort key");
    run(d, &["get", "a.redb", "everything", "item-1", "99"]).fails(3, "kvs: NotFound: no item");
    run(d, &["stores", "missing.redb"]).fails(
        3,
        "kvs: NotFound: the local store file missing.redb does not exist",
    );
    run(d, &["stores", "firestore://demo?emulator=127.0.0.1:1"])
        .fails(2, "kvs: Usage: Firestore and Cosmos DB keep no schemas");
    // One Firestore URL naming an emulator would send the other to it too.
    run(
        d,
        &[
            "copy",
            "firestore://a?emulator=127.0.0.1:1",
            "firestore://b",
        ],
    )
    .fails(
        2,
        "kvs: Usage: two Firestore URLs must name the same emulator",
    );
    let line = support::kvs(d, &["stores", "dynamodb:?endpoint=http://127.0.0.1:1"])
        .output()
        .unwrap();
    let line = Run::from(line).fails(4, "kvs: Unavailable: ");
    assert!(line.contains("reachable"), "{line}");
    let no_creds: Run = support::kvs(d, &["stores", "dynamodb:?endpoint=http://127.0.0.1:1"])
        .env_remove("AWS_ACCESS_KEY_ID")
        .output()
        .unwrap()
        .into();
    no_creds.fails(4, "kvs: Unauthenticated: ");

    // A damaged export stream: a tampered line, a truncated one, another file.
    let exported = run(d, &["export", "a.redb", "--store", "blobs"])
        .ok()
        .stdout;
    let tampered = exported.replacen(r#"{"N":"1"}"#, r#"{"N":"one"}"#, 1);
    assert_ne!(tampered, exported);
    let line =
        run_with_input(d, &["import", "c.redb"], &tampered).fails(3, "kvs: Validation: line ");
    assert!(line.contains("export it again"), "{line}");
    let truncated: String = exported.lines().take(3).map(|l| format!("{l}\n")).collect();
    run_with_input(d, &["import", "c.redb"], &truncated).fails(
        3,
        "kvs: Validation: line 3 of the export stream: the stream ended without its end line",
    );
    run_with_input(d, &["import", "c.redb"], "hello\n")
        .fails(3, "kvs: Validation: line 1 of the export stream: not JSON");
    let miscounted = exported.replace(r#""items":5"#, r#""items":6"#);
    run_with_input(d, &["import", "c.redb"], &miscounted).fails(
        3,
        "kvs: Validation: line 8 of the export stream: the end line counts",
    );
    // clap's own usage errors exit with 2 too.
    assert_eq!(run(d, &["copy", "a.redb"]).code, Some(2));
}

/// Every command's --help, as HELP.md records it; `KVS_CLI_BLESS=1` writes it anew.
#[test]
fn help_is_as_help_md_says() {
    let dir = tempfile::tempdir().unwrap();
    let mut doc = String::from(
        "# kvs: command-line help\n\nEvery command's `--help`, checked by `kvs-cli/tests/cli.rs` so that it \
         stays true; regenerate with `KVS_CLI_BLESS=1 cargo test -p kvs-cli --test cli help`.\n",
    );
    for command in [
        "", "stores", "get", "query", "scan", "export", "import", "copy",
    ] {
        let mut args: Vec<&str> = command.split_whitespace().collect();
        args.push("--help");
        let out = run(dir.path(), &args).ok();
        doc += &format!(
            "\n## kvs {}\n\n```text\n{}```\n",
            args.join(" "),
            out.stdout
        );
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("HELP.md");
    if support::flag("KVS_CLI_BLESS") {
        std::fs::write(&path, &doc).unwrap();
        return;
    }
    let recorded = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        recorded == doc,
        "kvs-cli/HELP.md is not the help the tool prints; if the change is meant, run \
         KVS_CLI_BLESS=1 cargo test -p kvs-cli --test cli help\n--- printed:\n{doc}"
    );
}

/// SIGINT in the middle of a copy: the writes in flight finish, the checkpoint is
/// saved, the resume command is printed, the exit status is 130; the resumed copy
/// completes with every item once.
#[test]
fn sigint_stops_a_copy_that_then_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    block_on(async {
        let kvs = Kvs::open(d.join("src.redb")).unwrap();
        kvs.ensure_store(StoreSchema::new("slow", KeyAttr::string("k")))
            .await
            .unwrap();
        kvs.upsert_many(
            "slow",
            (0..200).map(|k| Item::new().with("k", format!("k{k:03}"))),
        )
        .await
        .unwrap();
    });
    let args = [
        "copy",
        "src.redb",
        "dst.redb",
        "--page-size",
        "10",
        // 200 items at 20 a second: ten seconds in which the signal must arrive, however
        // slow the machine (the resumed copy runs unlimited).
        "--rate",
        "20",
        "--checkpoint",
        "cp.json",
    ];
    let child = support::kvs(d, &args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Once the first page is acknowledged (the checkpoint exists), interrupt.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !d.join("cp.json").exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let stopped: Run = child.wait_with_output().unwrap().into();
    let line = stopped.fails(
        130,
        "kvs: Interrupted: copy stopped in store \"slow\" after ",
    );
    assert!(
        line.contains(
            "resume with: kvs copy src.redb dst.redb --page-size 10 --rate 20 --checkpoint cp.json"
        ),
        "{line}"
    );
    assert!(
        stopped
            .stderr
            .contains("kvs: stopping: finishing the writes in flight"),
        "{stopped:#?}"
    );
    let checkpoint: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("cp.json")).unwrap()).unwrap();
    let saved = checkpoint["stores"]["slow"]["items"].as_u64().unwrap();
    assert!(saved > 0 && saved < 200, "{checkpoint}");
    let resumed = run(
        d,
        &args[..args.len() - 4]
            .iter()
            .copied()
            .chain(["--checkpoint", "cp.json"])
            .collect::<Vec<_>>(),
    )
    .ok();
    assert!(
        resumed
            .stderr
            .contains(&format!("kvs: copied {} items of 1 stores", 200 - saved)),
        "{resumed:#?}"
    );
    assert_same_contents(&d.join("src.redb"), &d.join("dst.redb"));
}

/// `--store` copies one store; `--rate` holds the writes to that many items a second; a
/// checkpoint of another copy is refused rather than resumed from.
#[test]
fn one_store_at_a_rate_and_a_checkpoint_of_another_copy() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    seed_portable(&d.join("a.redb"), 12);
    let started = std::time::Instant::now();
    let copied = run(
        d,
        &[
            "copy",
            "a.redb",
            "b.redb",
            "--store",
            "everything",
            "--rate",
            "12",
            "--page-size",
            "3",
        ],
    )
    .ok();
    let took = started.elapsed();
    assert!(
        copied.stderr.contains("kvs: copied 12 items of 1 stores"),
        "{copied:#?}"
    );
    // 12 items at 12 a second: the last page goes out after about 0.75 s.
    assert!(took >= std::time::Duration::from_millis(700), "{took:?}");
    let stores = run(d, &["stores", "b.redb"]).ok();
    assert_eq!(
        stores.stdout.lines().count(),
        1,
        "only the store asked for: {stores:#?}"
    );
    let typed = run(
        d,
        &[
            "query",
            "b.redb",
            "everything",
            "item-1",
            "--sort",
            "n BETWEEN 1 AND 5",
            "--typed",
        ],
    )
    .ok();
    let ns: Vec<String> = typed
        .stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["n"]["N"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(ns, ["1", "5"]);

    run(d, &["copy", "a.redb", "c.redb", "--store", "nope"])
        .fails(3, "kvs: StoreNotFound: no store \"nope\"");
    std::fs::write(
        d.join("other.json"),
        r#"{"format":"kvs-copy-checkpoint","from":"x.redb","to":"y.redb","stores":{}}"#,
    )
    .unwrap();
    run(
        d,
        &["copy", "a.redb", "c.redb", "--checkpoint", "other.json"],
    )
    .fails(
        2,
        "kvs: Usage: the checkpoint other.json belongs to a copy from \"x.redb\" to \"y.redb\"",
    );
    run(d, &["query", "a.redb", "blobs", "AQ==", "--sort", "v > 1"])
        .fails(2, "kvs: Usage: --sort: store \"blobs\" has no sort key");
    run(
        d,
        &[
            "query",
            "a.redb",
            "everything",
            "item-1",
            "--sort",
            "kind = \"odd\"",
        ],
    )
    .fails(3, "kvs: Validation: bad sort condition");
    run(d, &["copy", "a.redb", "a.redb"]).fails(
        2,
        "kvs: Usage: the source and the target are the same backend",
    );
}
