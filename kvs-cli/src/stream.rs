//! The export stream: JSON lines that keep every value exactly, with the schemas in it.
//!
//! ```text
//! {"format":"kvs-export","version":1}
//! {"store":{"name":"orders","partition_key":{"name":"id","type":"string"}}}
//! {"item":{"id":{"S":"o-1"},"total":{"N":"12345678901234567890.5"},"tags":{"SS":["a"]}}}
//! ...
//! {"end":{"stores":1,"items":1}}
//! ```
//!
//! Items are DynamoDB's typed JSON (numbers as their exact text, bytes as base64, sets
//! apart from lists). Every item follows the `store` line of its store. The `end` line
//! counts what came before it, so a truncated stream is found out.

use std::io::{BufRead, Write};

use futures::TryStreamExt as _;
use kvs::{Item, Kvs, StoreSchema};
use serde_json::{Value as Json, json};

use crate::error::CliError;
use crate::json;

/// The format's name in the header line.
pub const FORMAT: &str = "kvs-export";
/// The format's version.
pub const VERSION: u64 = 1;

fn write_line(out: &mut impl Write, value: &Json) -> Result<(), CliError> {
    serde_json::to_writer(&mut *out, value).map_err(|e| CliError::from(std::io::Error::from(e)))?;
    out.write_all(b"\n")?;
    Ok(())
}

/// Writes every store of `stores` (schemas registered on `kvs`) to `out`; the number of
/// items written.
pub async fn export(
    kvs: &Kvs,
    stores: &[StoreSchema],
    out: &mut impl Write,
) -> Result<u64, CliError> {
    write_line(out, &json!({"format": FORMAT, "version": VERSION}))?;
    let mut items = 0u64;
    for schema in stores {
        write_line(out, &json!({"store": schema}))?;
        let mut stream = kvs.scan(&schema.name).stream();
        while let Some(item) = stream
            .try_next()
            .await
            .map_err(|e| CliError::from(e).context(format_args!("store {:?}", schema.name)))?
        {
            write_line(out, &json!({"item": json::item_to_typed(&item)}))?;
            items += 1;
        }
    }
    write_line(
        out,
        &json!({"end": {"stores": stores.len(), "items": items}}),
    )?;
    out.flush()?;
    Ok(items)
}

fn damaged(line: usize, why: impl std::fmt::Display) -> CliError {
    CliError::validation(format!("line {line} of the export stream: {why}")).hint(
        "the stream is damaged or not a kvs export: export it again, and import it again \
             (the items of the batch this line was in were not written either; importing \
             twice is safe)",
    )
}

/// What an import wrote.
#[derive(Debug, Default)]
pub struct Imported {
    /// Stores created or found.
    pub stores: u64,
    /// Items written.
    pub items: u64,
}

/// Reads an export stream from `input` and writes it to `kvs`: each store ensured, its
/// items upserted in batches of `batch`. Lines are checked as they come; a bad one
/// stops the import, naming its line.
pub async fn import(kvs: &Kvs, input: impl BufRead, batch: usize) -> Result<Imported, CliError> {
    let mut done = Imported::default();
    let mut current: Option<String> = None;
    let mut pending: Vec<Item> = Vec::new();
    let mut header = false;
    let mut ended = false;
    let mut last = 0;
    for (i, line) in input.lines().enumerate() {
        let n = i + 1;
        last = n;
        let line = match line {
            Ok(line) => line,
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                return Err(damaged(n, "not UTF-8 text"));
            }
            Err(e) => return Err(e.into()),
        };
        if line.trim().is_empty() {
            continue;
        }
        if ended {
            return Err(damaged(n, "a line after the end line"));
        }
        let value: Json =
            serde_json::from_str(&line).map_err(|e| damaged(n, format!("not JSON ({e})")))?;
        let Json::Object(mut obj) = value else {
            return Err(damaged(n, "a line is a JSON object"));
        };
        if !header {
            let ok = obj.get("format").and_then(Json::as_str) == Some(FORMAT);
            if !ok {
                return Err(damaged(
                    n,
                    format!(
                        "the first line must be {{\"format\":\"{FORMAT}\",\"version\":{VERSION}}}"
                    ),
                ));
            }
            match obj.get("version").and_then(Json::as_u64) {
                Some(VERSION) => {}
                other => {
                    return Err(damaged(
                        n,
                        format!(
                            "version {other:?} of the format: this kvs reads version {VERSION}"
                        ),
                    ));
                }
            }
            header = true;
            continue;
        }
        if obj.len() != 1 {
            return Err(damaged(
                n,
                "a line holds exactly one of \"store\", \"item\" or \"end\"",
            ));
        }
        let (tag, body) = obj
            .iter_mut()
            .next()
            .map(|(k, v)| (k.clone(), v.take()))
            .expect("one entry");
        match tag.as_str() {
            "store" => {
                flush(kvs, &current, &mut pending, &mut done).await?;
                let schema: StoreSchema = serde_json::from_value(body)
                    .map_err(|e| damaged(n, format!("not a store schema ({e})")))?;
                schema.validate().map_err(|e| damaged(n, e.message()))?;
                kvs.ensure_store(schema.clone()).await.map_err(|e| {
                    CliError::from(e).context(format_args!("creating store {:?}", schema.name))
                })?;
                done.stores += 1;
                current = Some(schema.name);
            }
            "item" => {
                if current.is_none() {
                    return Err(damaged(n, "an item before any store line"));
                }
                let item = json::item_from_typed(&body).map_err(|e| damaged(n, e))?;
                pending.push(item);
                if pending.len() >= batch {
                    flush(kvs, &current, &mut pending, &mut done)
                        .await
                        .map_err(|e| e.context(format_args!("up to line {n}")))?;
                }
            }
            "end" => {
                flush(kvs, &current, &mut pending, &mut done).await?;
                let count = |k: &str| body.get(k).and_then(Json::as_u64);
                if count("stores") != Some(done.stores) || count("items") != Some(done.items) {
                    return Err(damaged(
                        n,
                        format!(
                            "the end line counts {} stores and {} items, but {} and {} came before it",
                            count("stores").map_or("?".into(), |c| c.to_string()),
                            count("items").map_or("?".into(), |c| c.to_string()),
                            done.stores,
                            done.items
                        ),
                    ));
                }
                ended = true;
            }
            other => return Err(damaged(n, format!("unknown line kind {other:?}"))),
        }
    }
    if !header {
        return Err(damaged(last.max(1), "the stream is empty: no header line"));
    }
    flush(kvs, &current, &mut pending, &mut done).await?;
    if !ended {
        return Err(damaged(
            last,
            format!(
                "the stream ended without its end line (truncated?); {} items of {} stores were written",
                done.items, done.stores
            ),
        ));
    }
    Ok(done)
}

async fn flush(
    kvs: &Kvs,
    store: &Option<String>,
    pending: &mut Vec<Item>,
    done: &mut Imported,
) -> Result<(), CliError> {
    let (Some(store), false) = (store, pending.is_empty()) else {
        return Ok(());
    };
    let items = std::mem::take(pending);
    let n = items.len() as u64;
    kvs.upsert_many(store, items)
        .await
        .map_err(|e| CliError::from(e).context(format_args!("writing to store {store:?}")))?;
    done.items += n;
    Ok(())
}
