//! `kvs`: the stores of any kvs backend, read, exported, imported and copied between
//! backends, each backend named by a URL. See `kvs --help`, and `kvs-cli/HELP.md` for
//! every command's help.

mod copy;
mod error;
mod filter;
mod json;
mod stream;
mod target;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use base64::Engine as _;
use clap::{Parser, Subcommand};
use futures::TryStreamExt as _;
use kvs::{Item, Key, KeyAttr, KeyType, Value};

use crate::error::CliError;
use crate::target::Target;

const URLS: &str = "\
Backends are named by URL:
  PATH, local:PATH
      a local store file (kvs's embedded engine); a bare path names a file
  dynamodb:?endpoint=URL&region=R&prefix=P
      DynamoDB; each part is optional and falls back to AWS_ENDPOINT_URL, AWS_REGION and
      KVS_TABLE_PREFIX; credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY
  firestore://PROJECT?database=D&prefix=P&emulator=HOST:PORT
      Firestore (the emulator at HOST:PORT, or FIRESTORE_EMULATOR_HOST)
  cosmos://HOST[:PORT]/DATABASE?prefix=P&key_env=VAR&tls=false&emulator=true
      Cosmos DB; the account key is read from $VAR (default AZURE_COSMOS_KEY); tls=false
      for an http:// emulator; emulator=true sets the SDK's emulator settings
  memory:
      an empty in-memory store
Firestore and Cosmos DB keep no schemas of their stores: give them with --schema FILE
(a JSON array of store schemas, or what `kvs stores` prints).

Exit status: 0 done, 2 usage, 3 not found or invalid, 4 backend unreachable or
credentials refused, 5 other failures, 130 interrupted (a copy's checkpoint is saved).";

/// Every kvs backend from the command line: list stores, read items, export, import,
/// and copy stores between backends.
#[derive(Parser, Debug)]
#[command(name = "kvs", version, about, after_help = URLS)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Lists the stores and their schemas, one JSON line each.
    ///
    /// From a local file's registry, DynamoDB's table descriptions (the tables under the
    /// prefix), or --schema FILE for Firestore and Cosmos DB.
    Stores {
        /// The backend URL.
        url: String,
        /// Store schemas for a backend that keeps none (Firestore, Cosmos DB).
        #[arg(long, value_name = "FILE")]
        schema: Option<PathBuf>,
    },
    /// Reads one item by key and prints it as a JSON line.
    ///
    /// A key value is written as text: a string key as it is, a number key as its digits,
    /// a bytes key as base64.
    Get {
        /// The backend URL.
        url: String,
        /// The store.
        store: String,
        /// The partition key value.
        partition: String,
        /// The sort key value, for a store with a sort key.
        sort: Option<String>,
        /// Store schemas for a backend that keeps none (Firestore, Cosmos DB).
        #[arg(long, value_name = "FILE")]
        schema: Option<PathBuf>,
        /// Print DynamoDB's typed JSON ({"S": ..}, {"N": ..}), which keeps bytes and sets.
        #[arg(long)]
        typed: bool,
    },
    /// Reads the items of one partition, in sort key order, as JSON lines.
    Query {
        /// The backend URL.
        url: String,
        /// The store.
        store: String,
        /// The partition key value (of the index, with --index).
        partition: String,
        /// Query this secondary index rather than the store's own key.
        #[arg(long, value_name = "NAME")]
        index: Option<String>,
        /// A condition on the sort key: `at >= 5`, `at BETWEEN 1 AND 9`,
        /// `begins_with(sk, "2026-")`.
        #[arg(long, value_name = "CONDITION")]
        sort: Option<String>,
        /// Only items matching this filter (see `kvs scan --help`).
        #[arg(long, short = 'f', value_name = "FILTER")]
        filter: Option<String>,
        /// At most this many items.
        #[arg(long, short = 'n', value_name = "N")]
        limit: Option<usize>,
        /// Highest sort key first.
        #[arg(long)]
        descending: bool,
        /// Store schemas for a backend that keeps none (Firestore, Cosmos DB).
        #[arg(long, value_name = "FILE")]
        schema: Option<PathBuf>,
        /// Print DynamoDB's typed JSON, which keeps bytes and sets.
        #[arg(long)]
        typed: bool,
    },
    /// Reads every item of a store, in no promised order, as JSON lines.
    #[command(after_help = FILTER_HELP)]
    Scan {
        /// The backend URL.
        url: String,
        /// The store.
        store: String,
        /// Only items matching this filter.
        #[arg(long, short = 'f', value_name = "FILTER")]
        filter: Option<String>,
        /// At most this many items.
        #[arg(long, short = 'n', value_name = "N")]
        limit: Option<usize>,
        /// Store schemas for a backend that keeps none (Firestore, Cosmos DB).
        #[arg(long, value_name = "FILE")]
        schema: Option<PathBuf>,
        /// Print DynamoDB's typed JSON, which keeps bytes and sets.
        #[arg(long)]
        typed: bool,
    },
    /// Writes every store (or one) to standard output as JSON lines, schemas included.
    ///
    /// The first line is {"format":"kvs-export","version":1}; then, per store, a
    /// {"store": SCHEMA} line and one {"item": ITEM} line per item in DynamoDB's typed
    /// JSON (numbers as exact text, bytes as base64, sets apart from lists); last,
    /// {"end": {"stores": N, "items": M}}.
    Export {
        /// The backend URL (a bare path names a local file).
        from: String,
        /// Only this store.
        #[arg(long, value_name = "STORE")]
        store: Option<String>,
        /// Store schemas for a backend that keeps none (Firestore, Cosmos DB).
        #[arg(long, value_name = "FILE")]
        schema: Option<PathBuf>,
    },
    /// Reads an export stream from standard input and writes it to a backend.
    ///
    /// Each store is created if missing; items are upserted, so importing twice leaves
    /// the same items. A damaged line stops the import, naming its line number.
    Import {
        /// The backend URL (a bare path names a local file, created if missing).
        to: String,
        /// Items written per batch.
        #[arg(long, value_name = "N", default_value_t = 100)]
        batch: usize,
    },
    /// Copies every store (or one) from one backend to another, resumably.
    ///
    /// Pages read from the source are written to the target concurrently; a checkpoint
    /// file records how far each store got, so that after an interruption (Ctrl-C, a
    /// failure) the same command resumes where it stopped, and the copy says how. Items
    /// are upserted whole: running a copy twice is safe. Progress goes to standard error:
    /// a bar on a terminal (with an estimate when the source is a local file, which can
    /// count), plain lines otherwise.
    Copy {
        /// The source URL.
        from: String,
        /// The target URL.
        to: String,
        /// Only this store.
        #[arg(long, value_name = "STORE")]
        store: Option<String>,
        /// Store schemas for a source that keeps none (Firestore, Cosmos DB).
        #[arg(long, value_name = "FILE")]
        schema: Option<PathBuf>,
        /// Pages written at once.
        #[arg(long, value_name = "N", default_value_t = copy::DEFAULT_CONCURRENCY)]
        concurrency: usize,
        /// Items per page read from the source.
        #[arg(long, value_name = "N", default_value_t = copy::DEFAULT_PAGE_SIZE)]
        page_size: usize,
        /// Write at most this many items per second (for provisioned tables).
        #[arg(long, value_name = "ITEMS_PER_SEC")]
        rate: Option<f64>,
        /// The checkpoint file [default: .kvs-copy-<hash of the URLs and store>.json in
        /// the current folder; removed once the copy completes].
        #[arg(long, value_name = "FILE")]
        checkpoint: Option<PathBuf>,
    },
}

const FILTER_HELP: &str = r#"Filters use the library's paths and conditions:
  total > 1000 AND (status = "open" OR NOT exists(note))
  address.country IN ("FR", "DE")      tags[0] <> "x"      n BETWEEN 1 AND 9
  begins_with(name, "Ad")   contains(tags, "x")   not_contains(s, 1)
  exists(p)   not_exists(p)   type_of(p, "number set")
Comparisons: = <> != < <= > >=. Values are JSON literals ("text", 12.5, true, null,
[..], {..}) or bytes("base64"), string_set(..), number_set(..), bytes_set(..); numbers
keep their exact digits. Paths: a.b is a nested attribute, a[0] a list position, a\.b
the attribute named "a.b"; a backslash also escapes a space or a keyword."#;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Parse every URL before any thread starts: some settings reach the SDKs through
    // the environment.
    let urls: Vec<&str> = match &cli.command {
        Command::Stores { url, .. }
        | Command::Get { url, .. }
        | Command::Query { url, .. }
        | Command::Scan { url, .. } => vec![url],
        Command::Export { from, .. } => vec![from],
        Command::Import { to, .. } => vec![to],
        Command::Copy { from, to, .. } => vec![from, to],
    };
    let targets = match urls
        .iter()
        .map(|u| Target::parse(u))
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(t) => t,
        Err(e) => return fail(&e),
    };
    // The Firestore client finds an emulator through one variable for the whole process:
    // with two Firestore URLs, an emulator named by one would serve the other too (a
    // copy "to production" would land in the emulator). Both or neither, and the same.
    if let [
        Target::Firestore { emulator: a, .. },
        Target::Firestore { emulator: b, .. },
    ] = targets.as_slice()
        && a != b
    {
        return fail(&CliError::usage(
            "two Firestore URLs must name the same emulator, or neither one (the Firestore \
             client finds its emulator through one setting for the whole process)",
        ));
    }
    for t in &targets {
        t.prepare_env();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return fail(&CliError::from(e)),
    };
    let result = runtime.block_on(run(cli.command, targets));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

fn fail(e: &CliError) -> ExitCode {
    eprintln!("{}", e.line());
    ExitCode::from(e.exit_code())
}

/// Standard output, where a closed pipe (`kvs scan .. | head`) ends the output quietly.
struct Out(std::io::BufWriter<std::io::Stdout>);

impl Out {
    fn new() -> Out {
        Out(std::io::BufWriter::new(std::io::stdout()))
    }
    /// Writes a line; `false` once the reader is gone.
    fn line(&mut self, text: &str) -> Result<bool, CliError> {
        match writeln!(self.0, "{text}") {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
    fn finish(mut self) -> Result<(), CliError> {
        match self.0.flush() {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
            _ => Ok(()),
        }
    }
}

fn key_value(text: &str, attr: &KeyAttr) -> Result<Value, CliError> {
    let bad = |why: String| {
        CliError::validation(format!("key attribute {:?}: {why}", attr.name))
            .hint("a string key is written as it is, a number as its digits, bytes as base64")
    };
    match attr.ty {
        KeyType::String => Ok(Value::String(text.to_owned())),
        KeyType::Number => text
            .parse::<kvs::Number>()
            .map(Value::Number)
            .map_err(|e| bad(format!("{text:?} is not a number ({})", e.message()))),
        KeyType::Bytes => base64::engine::general_purpose::STANDARD
            .decode(text)
            .map(Value::Bytes)
            .map_err(|e| bad(format!("{text:?} is not base64 ({e})"))),
    }
}

fn parse_filter(text: &str) -> Result<kvs::Condition, CliError> {
    filter::parse(text).map_err(|e| {
        CliError::validation(format!("bad filter {text:?} {e}"))
            .hint("see `kvs scan --help` for the filter syntax")
    })
}

fn print_item(out: &mut Out, item: &Item, typed: bool) -> Result<bool, CliError> {
    if typed {
        out.line(&json::item_to_typed(item).to_string())
    } else {
        out.line(&json::item_plain(item))
    }
}

/// The schema of `store`, from the backend's stores (StoreNotFound naming them).
fn find_store(
    schemas: &[kvs::StoreSchema],
    store: &str,
    url: &str,
) -> Result<kvs::StoreSchema, CliError> {
    schemas
        .iter()
        .find(|s| s.name == store)
        .cloned()
        .ok_or_else(|| {
            let names: Vec<&str> = schemas.iter().map(|s| s.name.as_str()).collect();
            CliError::new(
                kvs::ErrorKind::StoreNotFound,
                format!(
                    "no store {store:?} in {url} (its stores: {})",
                    if names.is_empty() {
                        "none".to_owned()
                    } else {
                        names.join(", ")
                    }
                ),
            )
            .hint(format!("`kvs stores {url}` lists them"))
        })
}

async fn run(command: Command, targets: Vec<Target>) -> Result<(), CliError> {
    let mut targets = targets.into_iter();
    let first = targets.next().expect("every command names a backend");
    // A backend that keeps no schemas needs the file before anything is opened.
    let schema_given = match &command {
        Command::Stores { schema, .. }
        | Command::Get { schema, .. }
        | Command::Query { schema, .. }
        | Command::Scan { schema, .. }
        | Command::Export { schema, .. }
        | Command::Copy { schema, .. } => schema.is_some(),
        Command::Import { .. } => true,
    };
    if first.needs_schema_file() && !schema_given {
        return Err(target::schema_file_needed());
    }
    match command {
        Command::Stores { url: _, schema } => {
            let opened = first.open(false).await?;
            let schemas = target::stores(&first, &opened, schema.as_deref()).await?;
            let mut out = Out::new();
            for s in &schemas {
                let line = serde_json::to_string(s).expect("a schema is JSON");
                if !out.line(&line)? {
                    break;
                }
            }
            out.finish()
        }
        Command::Get {
            url,
            store,
            partition,
            sort,
            schema,
            typed,
        } => {
            let opened = first.open(false).await?;
            let schemas = target::stores(&first, &opened, schema.as_deref()).await?;
            let s = find_store(&schemas, &store, &url)?;
            let p = key_value(&partition, &s.partition_key)?;
            let key = match (&s.sort_key, sort) {
                (Some(attr), Some(text)) => Key::with_sort(p, key_value(&text, attr)?),
                (None, None) => Key::new(p),
                (Some(attr), None) => {
                    return Err(CliError::usage(format!(
                        "store {store:?} has a sort key, {:?}: give its value after the partition key",
                        attr.name
                    )));
                }
                (None, Some(_)) => {
                    return Err(CliError::usage(format!(
                        "store {store:?} has no sort key: give the partition key alone"
                    )));
                }
            };
            match opened.kvs.get(&store, key.clone()).await? {
                Some(item) => {
                    let mut out = Out::new();
                    print_item(&mut out, &item, typed)?;
                    out.finish()
                }
                None => Err(CliError::new(
                    kvs::ErrorKind::NotFound,
                    format!("no item with key {key} in store {store:?}"),
                )
                .hint("check the key; `kvs scan` lists the items")),
            }
        }
        Command::Query {
            url,
            store,
            partition,
            index,
            sort,
            filter,
            limit,
            descending,
            schema,
            typed,
        } => {
            let opened = first.open(false).await?;
            let schemas = target::stores(&first, &opened, schema.as_deref()).await?;
            let s = find_store(&schemas, &store, &url)?;
            let (pk, sk) = match &index {
                None => (s.partition_key.clone(), s.sort_key.clone()),
                Some(name) => {
                    let ix = s.indexes.iter().find(|i| &i.name == name).ok_or_else(|| {
                        CliError::new(
                            kvs::ErrorKind::StoreNotFound,
                            format!("store {store:?} has no index {name:?}"),
                        )
                        .hint(format!("`kvs stores {url}` shows each store's indexes"))
                    })?;
                    (ix.partition_key.clone(), ix.sort_key.clone())
                }
            };
            let mut q = opened.kvs.query(&store, key_value(&partition, &pk)?);
            if let Some(name) = &index {
                q = q.index(name);
            }
            if let Some(text) = sort {
                let Some(sk) = sk else {
                    return Err(CliError::usage(format!(
                        "--sort: {} has no sort key",
                        index
                            .as_deref()
                            .map_or(format!("store {store:?}"), |i| format!("index {i:?}"))
                    )));
                };
                let cond = filter::parse_sort(&text, &sk.name).map_err(|e| {
                    CliError::validation(format!("bad sort condition {text:?} {e}"))
                })?;
                q = q.sort(cond);
            }
            if let Some(text) = filter {
                q = q.filter(parse_filter(&text)?);
            }
            if descending {
                q = q.descending();
            }
            print_stream(q.stream(), limit, typed).await
        }
        Command::Scan {
            url,
            store,
            filter,
            limit,
            schema,
            typed,
        } => {
            let opened = first.open(false).await?;
            let schemas = target::stores(&first, &opened, schema.as_deref()).await?;
            find_store(&schemas, &store, &url)?;
            let mut scan = opened.kvs.scan(&store);
            if let Some(text) = filter {
                scan = scan.filter(parse_filter(&text)?);
            }
            print_stream(scan.stream(), limit, typed).await
        }
        Command::Export {
            from,
            store,
            schema,
        } => {
            let opened = first.open(false).await?;
            let mut schemas = target::stores(&first, &opened, schema.as_deref()).await?;
            if let Some(name) = &store {
                schemas = vec![find_store(&schemas, name, &from)?];
            }
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            match stream::export(&opened.kvs, &schemas, &mut out).await {
                Err(e) if e.line().contains("Broken pipe") => Ok(()),
                other => other.map(|_| ()),
            }
        }
        Command::Import { to: _, batch } => {
            if batch == 0 {
                return Err(CliError::usage("--batch must be at least 1"));
            }
            let opened = first.open(true).await?;
            let stdin = std::io::stdin();
            let done = stream::import(&opened.kvs, stdin.lock(), batch).await?;
            eprintln!(
                "kvs: imported {} items of {} stores",
                done.items, done.stores
            );
            Ok(())
        }
        Command::Copy {
            from,
            to,
            store,
            schema,
            concurrency,
            page_size,
            rate,
            checkpoint,
        } => {
            let second = targets.next().expect("copy names two backends");
            if concurrency == 0 || page_size == 0 {
                return Err(CliError::usage(
                    "--concurrency and --page-size must be at least 1",
                ));
            }
            if rate.is_some_and(|r| !(r > 0.0 && r.is_finite())) {
                return Err(CliError::usage(
                    "--rate must be a positive number of items per second",
                ));
            }
            if first == second {
                return Err(CliError::usage(
                    "the source and the target are the same backend",
                ));
            }
            let source = first.open(false).await?;
            let mut schemas = target::stores(&first, &source, schema.as_deref()).await?;
            if let Some(name) = &store {
                schemas = vec![find_store(&schemas, name, &from)?];
            }
            let target = second.open(true).await?;
            let stop = Arc::new(AtomicBool::new(false));
            watch_signals(Arc::clone(&stop));
            let settings = copy::Settings {
                checkpoint_given: checkpoint.is_some(),
                checkpoint: checkpoint
                    .unwrap_or_else(|| copy::default_checkpoint(&from, &to, store.as_deref())),
                from,
                to,
                page_size,
                concurrency,
                rate,
                store,
                schema,
                source_counts: matches!(first, Target::Local(_) | Target::Memory),
                stop_after_pages: std::env::var("KVS_CLI_TEST_STOP_AFTER_PAGES")
                    .ok()
                    .and_then(|v| v.parse().ok()),
            };
            copy::copy(&source.kvs, &target.kvs, &schemas, &settings, stop).await
        }
    }
}

async fn print_stream(
    mut items: futures::stream::BoxStream<'static, kvs::Result<Item>>,
    limit: Option<usize>,
    typed: bool,
) -> Result<(), CliError> {
    let mut out = Out::new();
    let mut printed = 0;
    while limit.is_none_or(|l| printed < l) {
        let Some(item) = items.try_next().await? else {
            break;
        };
        if !print_item(&mut out, &item, typed)? {
            break;
        }
        printed += 1;
    }
    out.finish()
}

/// SIGINT or SIGTERM asks the copy to stop after the writes in flight; a second one
/// ends the process at once.
fn watch_signals(stop: Arc<AtomicBool>) {
    tokio::spawn(async move {
        #[cfg(unix)]
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        loop {
            #[cfg(unix)]
            {
                let term_recv = async {
                    match term.as_mut() {
                        Some(t) => {
                            t.recv().await;
                        }
                        None => std::future::pending::<()>().await,
                    }
                };
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term_recv => {}
                }
            }
            #[cfg(not(unix))]
            let _ = tokio::signal::ctrl_c().await;
            if stop.swap(true, Ordering::SeqCst) {
                eprintln!(
                    "kvs: Interrupted: stopped at once; the checkpoint holds the last page written (run the same command again to resume)"
                );
                std::process::exit(130);
            }
            eprintln!(
                "kvs: stopping: finishing the writes in flight and saving the checkpoint (interrupt again to quit at once)"
            );
        }
    });
}
