//! The composite indexes production Firestore needs for the queries kvs sends, in the
//! form of Firebase's index file (`firestore.indexes.json`), for infrastructure code
//! (`firebase deploy --only firestore:indexes`, or Terraform's
//! `google_firestore_index`).
//!
//! kvs queries one shape per store and per secondary index: `partition == v`, a range
//! on the sort key, ordered by the sort key (either direction), then, for a secondary
//! index, by the table's key attributes (items that tie in an index come in table key
//! order), then the document name. Firestore serves a one-field equality from its
//! automatic single-field indexes, but an equality with an order on another field needs
//! a composite index, one per direction: `(partition ASC, sort ASC)` and
//! `(partition ASC, sort DESC)`. A table whose key is its partition key alone needs none:
//! its queries find at most one document. The emulator does not enforce indexes; a
//! missing one in production fails the query with `StoreNotFound` naming it.

use std::fmt::Write as _;

use super::id::{collection_id, field_path};
use super::value::field_name;
use crate::{IndexSchema, KeyAttr, StoreSchema};

/// The direction of a field in a composite index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexOrder {
    /// `ASCENDING`.
    Ascending,
    /// `DESCENDING`.
    Descending,
}

impl IndexOrder {
    fn name(self) -> &'static str {
        match self {
            IndexOrder::Ascending => "ASCENDING",
            IndexOrder::Descending => "DESCENDING",
        }
    }
}

/// One composite index: a collection and its fields in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexDefinition {
    /// The collection id (with the backend's prefix).
    pub collection_group: String,
    /// The field paths (as Firestore writes them) and their directions.
    pub fields: Vec<(String, IndexOrder)>,
}

impl std::fmt::Display for IndexDefinition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (", self.collection_group)?;
        for (i, (path, order)) in self.fields.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{path} {}", order.name())?;
        }
        f.write_str(")")
    }
}

/// The index shape of a query on `partition` ordered by `order` (the sort key, then,
/// for a secondary index, the table's key attributes that break its ties).
pub(super) fn shape(
    collection: &str,
    partition: &KeyAttr,
    order: &[&KeyAttr],
) -> Vec<IndexDefinition> {
    let pk = (
        field_path(&field_name(&partition.name)),
        IndexOrder::Ascending,
    );
    let def = |direction: IndexOrder| {
        let mut fields = vec![pk.clone()];
        fields.extend(
            order
                .iter()
                .map(|a| (field_path(&field_name(&a.name)), direction)),
        );
        IndexDefinition {
            collection_group: collection.to_owned(),
            fields,
        }
    };
    if order.is_empty() {
        // Only a table whose key is its partition key: a query finds at most one
        // document, which the automatic index on the partition key serves.
        return Vec::new();
    }
    vec![def(IndexOrder::Ascending), def(IndexOrder::Descending)]
}

/// The fields a query of `index` (or of the table, `None`) orders by after its
/// partition key: the sort key, then, for a secondary index, the table's key attributes
/// it does not already have, which order its ties as the contract does.
pub(super) fn order_fields<'a>(
    schema: &'a StoreSchema,
    index: Option<&'a IndexSchema>,
) -> Vec<&'a KeyAttr> {
    let (pk, sk) = match index {
        Some(index) => (&index.partition_key, index.sort_key.as_ref()),
        None => (&schema.partition_key, schema.sort_key.as_ref()),
    };
    let mut fields: Vec<&KeyAttr> = sk.into_iter().collect();
    if index.is_some() {
        for attr in std::iter::once(&schema.partition_key).chain(&schema.sort_key) {
            if attr.name != pk.name && fields.iter().all(|f| f.name != attr.name) {
                fields.push(attr);
            }
        }
    }
    fields
}

/// The composite indexes the queries of `schema` need, in a collection named with
/// `prefix` as the backend names it.
pub fn index_definitions(prefix: &str, schema: &StoreSchema) -> Vec<IndexDefinition> {
    let collection = collection_id(prefix, &schema.name);
    let mut defs = shape(
        &collection,
        &schema.partition_key,
        &order_fields(schema, None),
    );
    for index in &schema.indexes {
        for def in shape(
            &collection,
            &index.partition_key,
            &order_fields(schema, Some(index)),
        ) {
            if !defs.contains(&def) {
                defs.push(def);
            }
        }
    }
    defs
}

fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Firebase's index file (`firestore.indexes.json`) declaring every composite index the
/// stores' queries need.
///
/// ```
/// use kvs::{IndexSchema, KeyAttr, StoreSchema};
/// let orders = StoreSchema::new("orders", KeyAttr::string("id"))
///     .index(IndexSchema::new("byUser", KeyAttr::string("user")).sort_key(KeyAttr::number("at")));
/// let file = kvs::firestore::index_file("prod-", &[orders]);
/// assert!(file.contains(r#""collectionGroup": "prod-orders""#));
/// assert!(file.contains(r#"{ "fieldPath": "at", "order": "DESCENDING" }"#));
/// ```
pub fn index_file(prefix: &str, schemas: &[StoreSchema]) -> String {
    let mut out = String::from("{\n  \"indexes\": [");
    let defs: Vec<IndexDefinition> = schemas
        .iter()
        .flat_map(|s| index_definitions(prefix, s))
        .collect();
    for (i, def) in defs.iter().enumerate() {
        out.push_str(if i == 0 { "\n" } else { ",\n" });
        out.push_str("    {\n      \"collectionGroup\": ");
        json_string(&mut out, &def.collection_group);
        out.push_str(",\n      \"queryScope\": \"COLLECTION\",\n      \"fields\": [\n");
        for (j, (path, order)) in def.fields.iter().enumerate() {
            out.push_str("        { \"fieldPath\": ");
            json_string(&mut out, path);
            let _ = write!(out, ", \"order\": \"{}\" }}", order.name());
            out.push_str(if j + 1 < def.fields.len() {
                ",\n"
            } else {
                "\n"
            });
        }
        out.push_str("      ]\n    }");
    }
    out.push_str(if defs.is_empty() { "],\n" } else { "\n  ],\n" });
    // A TTL policy on the expiry timestamp of each store whose items expire, so that
    // Firestore deletes them (within a day or so of expiring; reads never wait for it).
    let expiring: Vec<String> = schemas
        .iter()
        .filter(|s| s.ttl.is_some())
        .map(|s| super::id::collection_id(prefix, &s.name))
        .collect();
    out.push_str("  \"fieldOverrides\": [");
    for (i, collection) in expiring.iter().enumerate() {
        out.push_str(if i == 0 { "\n" } else { ",\n" });
        out.push_str("    { \"collectionGroup\": ");
        json_string(&mut out, collection);
        out.push_str(", \"fieldPath\": ");
        json_string(&mut out, &super::id::field_path(super::value::EXPIRES));
        out.push_str(", \"ttl\": true, \"indexes\": [] }");
    }
    out.push_str(if expiring.is_empty() {
        "]\n}\n"
    } else {
        "\n  ]\n}\n"
    });
    out
}
