//! Backends named by URL, and where each finds its store schemas.
//!
//! | URL | backend |
//! |---|---|
//! | `PATH`, `local:PATH` | a local store file (created by writes if missing) |
//! | `memory:` | an in-memory store (empty; for trying commands) |
//! | `dynamodb:?endpoint=URL&region=R&prefix=P` | DynamoDB (each part optional: the environment's `AWS_*` and `KVS_TABLE_PREFIX` otherwise) |
//! | `firestore://PROJECT?database=D&prefix=P&emulator=HOST:PORT` | Firestore (the emulator if named, or `FIRESTORE_EMULATOR_HOST`) |
//! | `cosmos://HOST[:PORT]/DB?prefix=P&key_env=VAR&tls=false&emulator=true` | Cosmos DB, its key in `$VAR` (default `AZURE_COSMOS_KEY`) |

use std::collections::BTreeMap;
use std::path::PathBuf;

use kvs::{Kvs, StoreSchema};

use crate::error::CliError;

/// A parsed backend URL.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// A local store file.
    Local(PathBuf),
    /// An in-memory store.
    Memory,
    /// DynamoDB: settings that override the environment's.
    DynamoDb {
        /// The endpoint URL.
        endpoint: Option<String>,
        /// The region.
        region: Option<String>,
        /// The table-name prefix.
        prefix: Option<String>,
    },
    /// Firestore.
    Firestore {
        /// The project id.
        project: String,
        /// The database id.
        database: Option<String>,
        /// The collection-name prefix.
        prefix: Option<String>,
        /// The emulator's `HOST:PORT`.
        emulator: Option<String>,
    },
    /// Cosmos DB.
    Cosmos {
        /// `https://HOST:PORT/` (or `http://` with `tls=false`).
        endpoint: String,
        /// The database.
        database: String,
        /// The container-name prefix.
        prefix: Option<String>,
        /// The environment variable holding the account key.
        key_env: String,
        /// Whether to set the SDK's emulator settings.
        emulator: bool,
    },
}

fn usage(url: &str, why: impl std::fmt::Display) -> CliError {
    CliError::usage(format!("{url:?} is not a backend URL: {why}")).hint(
        "write a file path, local:PATH, dynamodb:?endpoint=URL, firestore://PROJECT or \
         cosmos://HOST/DB; see `kvs --help`",
    )
}

/// Splits `a=b&c=d` (no percent-decoding beyond `%20`-style escapes of the usual kind).
fn query_pairs(
    url: &str,
    query: &str,
    allowed: &[&str],
) -> Result<BTreeMap<String, String>, CliError> {
    let mut out = BTreeMap::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| usage(url, format!("{pair:?} is not NAME=VALUE")))?;
        if !allowed.contains(&k) {
            return Err(usage(
                url,
                format!(
                    "unknown parameter {k:?} (this backend takes {})",
                    allowed.join(", ")
                ),
            ));
        }
        out.insert(k.to_owned(), percent_decode(v).map_err(|e| usage(url, e))?);
    }
    Ok(out)
}

fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("bad percent escape in {s:?}"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("{s:?} is not UTF-8 once decoded"))
}

impl Target {
    /// Parses a backend URL (see the module docs).
    pub fn parse(url: &str) -> Result<Target, CliError> {
        if url.is_empty() {
            return Err(usage(url, "it is empty"));
        }
        if let Some(path) = url.strip_prefix("local:") {
            if path.is_empty() {
                return Err(usage(url, "local: needs a file path"));
            }
            return Ok(Target::Local(PathBuf::from(path)));
        }
        if url == "memory:" {
            return Ok(Target::Memory);
        }
        if let Some(rest) = url.strip_prefix("dynamodb:") {
            let rest = rest.strip_prefix("//").unwrap_or(rest);
            let query = match rest.strip_prefix('?') {
                Some(q) => q,
                None if rest.is_empty() => "",
                None => {
                    return Err(usage(
                        url,
                        "DynamoDB is named by its settings: dynamodb:?endpoint=URL&region=R&prefix=P",
                    ));
                }
            };
            let q = query_pairs(url, query, &["endpoint", "region", "prefix"])?;
            return Ok(Target::DynamoDb {
                endpoint: q.get("endpoint").cloned(),
                region: q.get("region").cloned(),
                prefix: q.get("prefix").cloned(),
            });
        }
        if let Some(rest) = url.strip_prefix("firestore://") {
            let (project, query) = rest.split_once('?').unwrap_or((rest, ""));
            let project = project.trim_end_matches('/');
            if project.is_empty() || project.contains('/') {
                return Err(usage(url, "firestore://PROJECT names one project id"));
            }
            let q = query_pairs(url, query, &["database", "prefix", "emulator"])?;
            return Ok(Target::Firestore {
                project: project.to_owned(),
                database: q.get("database").cloned(),
                prefix: q.get("prefix").cloned(),
                emulator: q.get("emulator").cloned(),
            });
        }
        if let Some(rest) = url.strip_prefix("cosmos://") {
            let (main, query) = rest.split_once('?').unwrap_or((rest, ""));
            let (host, database) = main
                .split_once('/')
                .ok_or_else(|| usage(url, "cosmos://HOST[:PORT]/DATABASE needs a database"))?;
            let database = database.trim_end_matches('/');
            if host.is_empty() || database.is_empty() || database.contains('/') {
                return Err(usage(
                    url,
                    "cosmos://HOST[:PORT]/DATABASE names a host and one database",
                ));
            }
            let q = query_pairs(url, query, &["prefix", "key_env", "tls", "emulator"])?;
            let flag = |name: &str| -> Result<bool, CliError> {
                match q.get(name).map(String::as_str) {
                    None => Ok(false),
                    Some("true" | "1") => Ok(true),
                    Some("false" | "0") => Ok(false),
                    Some(other) => Err(usage(
                        url,
                        format!("{name} is true or false, not {other:?}"),
                    )),
                }
            };
            let tls = !q.contains_key("tls") || flag("tls")?;
            let scheme = if tls { "https" } else { "http" };
            return Ok(Target::Cosmos {
                endpoint: format!("{scheme}://{host}/"),
                database: database.to_owned(),
                prefix: q.get("prefix").cloned(),
                key_env: q
                    .get("key_env")
                    .cloned()
                    .unwrap_or_else(|| "AZURE_COSMOS_KEY".into()),
                emulator: flag("emulator")?,
            });
        }
        if let Some((scheme, _)) = url.split_once("://") {
            return Err(usage(url, format!("unknown scheme {scheme:?}")));
        }
        if let Some((scheme, _)) = url.split_once(':')
            && !scheme.is_empty()
            && scheme.chars().all(|c| c.is_ascii_alphanumeric())
            && scheme.len() > 1
        {
            return Err(usage(
                url,
                format!("unknown scheme {scheme:?} (a file path with a colon: write local:PATH)"),
            ));
        }
        Ok(Target::Local(PathBuf::from(url)))
    }

    /// Whether the backend keeps no registry of its stores (their schemas come from
    /// `--schema FILE`, or from the stream or source being copied).
    pub fn needs_schema_file(&self) -> bool {
        matches!(self, Target::Firestore { .. } | Target::Cosmos { .. })
    }

    /// Sets the environment variables the SDKs read (Firestore's emulator, Cosmos DB's
    /// emulator settings). Called before any thread is started.
    pub fn prepare_env(&self) {
        match self {
            Target::Firestore {
                emulator: Some(host),
                ..
            } => {
                // SAFETY: called from `main` before the runtime or any thread starts.
                unsafe { std::env::set_var("FIRESTORE_EMULATOR_HOST", host) };
            }
            Target::Cosmos { emulator: true, .. } => {
                for (name, value) in [
                    ("AZURE_COSMOS_CONNECTION_POOL_IS_HTTP2_ALLOWED", "false"),
                    (
                        "AZURE_COSMOS_EMULATOR_SERVER_CERT_VALIDATION_DISABLED",
                        "true",
                    ),
                    ("AZURE_COSMOS_BINARY_ENCODING_ENABLED", "false"),
                ] {
                    if std::env::var_os(name).is_none() {
                        // SAFETY: as above, before any thread starts.
                        unsafe { std::env::set_var(name, value) };
                    }
                }
            }
            _ => {}
        }
    }

    /// Opens a handle. A local source (`create` false) must exist already.
    pub async fn open(&self, create: bool) -> Result<Opened, CliError> {
        match self {
            Target::Local(path) => {
                if !create && !path.exists() {
                    return Err(CliError::new(
                        kvs::ErrorKind::NotFound,
                        format!("the local store file {} does not exist", path.display()),
                    )
                    .hint("check the path; a file is created only by writes (import, copy)"));
                }
                let kvs = Kvs::open(path)?;
                Ok(Opened { kvs, dynamo: None })
            }
            Target::Memory => Ok(Opened {
                kvs: Kvs::memory(),
                dynamo: None,
            }),
            Target::DynamoDb {
                endpoint,
                region,
                prefix,
            } => {
                let backend = kvs::dynamodb::DynamoDbBackend::from_vars(|name| {
                    let given = match name {
                        "AWS_ENDPOINT_URL" | "AWS_ENDPOINT_URL_DYNAMODB" => endpoint.clone(),
                        "AWS_REGION" => region.clone(),
                        "KVS_TABLE_PREFIX" => prefix.clone(),
                        _ => None,
                    };
                    given.or_else(|| std::env::var(name).ok())
                })?;
                Ok(Opened {
                    kvs: Kvs::new(backend.clone()),
                    dynamo: Some(backend),
                })
            }
            Target::Firestore {
                project,
                database,
                prefix,
                emulator,
            } => {
                // The emulator is found through FIRESTORE_EMULATOR_HOST (set from the URL
                // by `prepare_env`, before any thread started); the project and database
                // are the client's options.
                let emulated = emulator.is_some()
                    || std::env::var("FIRESTORE_EMULATOR_HOST").is_ok_and(|h| !h.trim().is_empty());
                if !emulated && !cfg!(feature = "tls") {
                    return Err(CliError::new(
                        kvs::ErrorKind::Unsupported,
                        "Firestore at firestore.googleapis.com needs TLS and credentials",
                    )
                    .hint(
                        "build the tool with TLS: cargo install --path kvs-cli --features tls \
                         (or name an emulator with emulator=HOST:PORT)",
                    ));
                }
                let mut options = firestore::FirestoreDbOptions::new(project.clone());
                if let Some(d) = database {
                    options = options.with_database_id(d.clone());
                }
                let db = firestore::FirestoreDb::with_options(options)
                    .await
                    .map_err(|e| {
                        let kind = if emulated {
                            kvs::ErrorKind::Unavailable
                        } else {
                            kvs::ErrorKind::Unauthenticated
                        };
                        CliError::new(kind, format!("could not make a Firestore client: {e}"))
                    })?;
                let mut backend = kvs::firestore::FirestoreBackend::new(&db);
                if let Some(p) = prefix {
                    backend = backend.with_collection_prefix(p)?;
                }
                Ok(Opened {
                    kvs: Kvs::new(backend),
                    dynamo: None,
                })
            }
            Target::Cosmos {
                endpoint,
                database,
                prefix,
                key_env,
                ..
            } => {
                let key = std::env::var(key_env)
                    .ok()
                    .filter(|k| !k.trim().is_empty())
                    .ok_or_else(|| {
                        CliError::new(
                            kvs::ErrorKind::Unauthenticated,
                            format!("no Cosmos DB key: the variable {key_env} is not set"),
                        )
                        .hint(format!(
                            "set {key_env} to the account's key, or name another variable \
                             with key_env=VAR in the URL"
                        ))
                    })?;
                let mut backend =
                    kvs::cosmos::CosmosBackend::with_key(endpoint, key.trim(), database).await?;
                if let Some(p) = prefix {
                    backend = backend.with_container_prefix(p)?;
                }
                Ok(Opened {
                    kvs: Kvs::new(backend),
                    dynamo: None,
                })
            }
        }
    }
}

/// An open backend.
pub struct Opened {
    /// The handle.
    pub kvs: Kvs,
    /// The DynamoDB backend, to read its tables' schemas.
    pub dynamo: Option<kvs::dynamodb::DynamoDbBackend>,
}

/// Reads a schema file: a JSON array of store schemas, one schema object, or JSON lines
/// each a schema or `{"store": schema}` (what `kvs stores` prints).
pub fn read_schema_file(path: &std::path::Path) -> Result<Vec<StoreSchema>, CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        CliError::new(
            kvs::ErrorKind::NotFound,
            format!("cannot read the schema file {}: {e}", path.display()),
        )
        .hint("check the path given to --schema")
    })?;
    let bad = |why: String| {
        CliError::new(
            kvs::ErrorKind::Validation,
            format!("the schema file {}: {why}", path.display()),
        )
        .hint(
            "write a JSON array of schemas such as [{\"name\":\"orders\",\"partition_key\":\
             {\"name\":\"id\",\"type\":\"string\"}}], or save what `kvs stores URL` prints",
        )
    };
    let one = |v: serde_json::Value| -> Result<StoreSchema, String> {
        let v = match v {
            serde_json::Value::Object(mut m) if m.contains_key("store") => {
                m.remove("store").expect("just checked")
            }
            other => other,
        };
        let schema: StoreSchema = serde_json::from_value(v).map_err(|e| e.to_string())?;
        schema.validate().map_err(|e| e.message().to_owned())?;
        Ok(schema)
    };
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
        return match v {
            serde_json::Value::Array(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| one(v).map_err(|e| bad(format!("schema {}: {e}", i + 1))))
                .collect(),
            other => Ok(vec![one(other).map_err(bad)?]),
        };
    }
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let v = serde_json::from_str(l).map_err(|e| bad(format!("line {}: {e}", i + 1)))?;
            one(v).map_err(|e| bad(format!("line {}: {e}", i + 1)))
        })
        .collect()
}

/// The usage error of a Firestore or Cosmos DB source without `--schema`.
pub fn schema_file_needed() -> CliError {
    CliError::usage(
        "Firestore and Cosmos DB keep no schemas of their stores: give them with --schema FILE",
    )
    .hint("a JSON array of store schemas, or what `kvs stores` printed for the source")
}

/// The stores a backend holds: its own registry (a local file's, DynamoDB's tables), or
/// the schema file's for a backend that keeps none. Each is registered on the handle.
pub async fn stores(
    target: &Target,
    opened: &Opened,
    schema_file: Option<&std::path::Path>,
) -> Result<Vec<StoreSchema>, CliError> {
    let schemas = if let Some(file) = schema_file {
        read_schema_file(file)?
    } else if let Some(dynamo) = &opened.dynamo {
        dynamo.store_schemas().await?
    } else if target.needs_schema_file() {
        return Err(schema_file_needed());
    } else {
        let kvs = &opened.kvs;
        kvs.store_names()
            .iter()
            .map(|n| kvs.schema(n).map(|s| StoreSchema::clone(&s)))
            .collect::<kvs::Result<_>>()?
    };
    for s in &schemas {
        opened.kvs.register_store(s.clone())?;
    }
    Ok(schemas)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        assert_eq!(
            Target::parse("data/a.redb").unwrap(),
            Target::Local("data/a.redb".into())
        );
        assert_eq!(
            Target::parse("local:C:x").unwrap(),
            Target::Local("C:x".into())
        );
        assert_eq!(
            Target::parse("dynamodb:?endpoint=http://127.0.0.1:8000&prefix=dev-").unwrap(),
            Target::DynamoDb {
                endpoint: Some("http://127.0.0.1:8000".into()),
                region: None,
                prefix: Some("dev-".into())
            }
        );
        assert_eq!(
            Target::parse("dynamodb:").unwrap(),
            Target::DynamoDb {
                endpoint: None,
                region: None,
                prefix: None
            }
        );
        assert_eq!(
            Target::parse("firestore://demo?emulator=127.0.0.1:8080").unwrap(),
            Target::Firestore {
                project: "demo".into(),
                database: None,
                prefix: None,
                emulator: Some("127.0.0.1:8080".into())
            }
        );
        assert_eq!(
            Target::parse("cosmos://127.0.0.1:8081/db?tls=false&key_env=K").unwrap(),
            Target::Cosmos {
                endpoint: "http://127.0.0.1:8081/".into(),
                database: "db".into(),
                prefix: None,
                key_env: "K".into(),
                emulator: false
            }
        );
    }

    #[test]
    fn malformed_urls_are_usage_errors() {
        for url in [
            "",
            "s3://bucket",
            "dynamodb:?endpoint",
            "dynamodb:?color=red",
            "firestore://",
            "cosmos://host",
            "cosmos://host/db?tls=maybe",
            "ftp:x",
        ] {
            let e = Target::parse(url).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{url}: {e:?}");
        }
    }
}
