//! Creating the composite indexes a store's queries need, and the TTL policy of a store
//! whose items expire, with admin rights (feature `firestore-admin`), through the
//! `firestore` crate's declarative index sync.
//!
//! The sync lists the collection's indexes and creates only those missing: an index that
//! exists (building or ready) is left as it is, and no index kvs did not declare is ever
//! deleted. Against the emulator, which has no admin API, nothing is sent.

use std::time::Duration;

use firestore::errors::FirestoreError;
use firestore::gcloud_sdk::tonic::{Code, Status};
use firestore::{
    FirestoreCompositeIndex, FirestoreIndexField, FirestoreIndexFieldMode,
    FirestoreIndexQueryScope, FirestoreQueryDirection,
};

use super::Engine;
use super::error::status_error;
use super::index::{IndexDefinition, IndexOrder, index_definitions};
use crate::{Error, ErrorKind, Result, StoreSchema};

/// What `ensure_store` does about the composite indexes of a store's queries
/// ([`FirestoreBackend::with_indexes`](super::FirestoreBackend::with_indexes)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IndexCreation {
    /// Nothing: the indexes are declared ([`index_file`](super::index_file)) and made by
    /// infrastructure code. `ensure_store` needs no I/O and no admin rights.
    #[default]
    Declare,
    /// Create the missing indexes and return once Firestore has accepted them; they build
    /// in the background (minutes on a large collection), and a query that needs one
    /// before it is ready fails with `StoreNotFound` naming it.
    Create,
    /// Create the missing indexes and wait until they are built, at most this long
    /// (`Unavailable` past it; the indexes go on building).
    CreateAndWait(Duration),
}

/// The `firestore` crate's form of one of kvs's index definitions.
fn composite(def: &IndexDefinition) -> FirestoreCompositeIndex {
    FirestoreCompositeIndex {
        fields: def
            .fields
            .iter()
            .map(|(path, order)| FirestoreIndexField {
                field_path: path.clone(),
                mode: FirestoreIndexFieldMode::Order(match order {
                    IndexOrder::Ascending => FirestoreQueryDirection::Ascending,
                    IndexOrder::Descending => FirestoreQueryDirection::Descending,
                }),
            })
            .collect(),
        query_scope: FirestoreIndexQueryScope::Collection,
    }
}

/// A kvs error of what the index sync reported, keeping it as the source.
fn sync_error(collection: &str, e: FirestoreError) -> Error {
    let (code, detail) = match &e {
        FirestoreError::DatabaseError(d) => (code_named(&d.public.code), d.details.clone()),
        FirestoreError::DataNotFoundError(d) => (Code::NotFound, d.data_detail_message.clone()),
        FirestoreError::DataConflictError(d) => (Code::AlreadyExists, d.details.clone()),
        FirestoreError::NetworkError(d) => (Code::Unavailable, d.message.clone()),
        FirestoreError::InvalidParametersError(_) => (Code::InvalidArgument, e.to_string()),
        _ => (Code::Unknown, e.to_string()),
    };
    let mapped = match code {
        // Refusals of the index definitions themselves, or a sync past its deadline.
        Code::InvalidArgument | Code::FailedPrecondition => Error::new(
            ErrorKind::Validation,
            format!("Firestore refused the indexes of {collection}: {detail}"),
        ),
        code => status_error("index sync", collection, Status::new(code, detail)),
    };
    mapped.with_source(e)
}

/// The gRPC code the `firestore` crate names by its `Debug` form (`"PermissionDenied"`).
fn code_named(name: &str) -> Code {
    (0..=16)
        .map(Code::from_i32)
        .find(|c| format!("{c:?}") == name)
        .unwrap_or(match name {
            // The crate's names for a connection that closed or timed out.
            "CONNECTION_CLOSED" | "CONNECTION_TIMEOUT" => Code::Unavailable,
            _ => Code::Unknown,
        })
}

impl Engine {
    /// Creates the composite indexes `schema`'s queries need that the database lacks, and
    /// the TTL policy on the expiry timestamp if its items expire.
    pub(super) async fn create_indexes(&self, schema: &StoreSchema) -> Result<()> {
        let wait = match self.indexes {
            IndexCreation::Declare => return Ok(()),
            IndexCreation::Create => None,
            IndexCreation::CreateAndWait(timeout) => Some(timeout),
        };
        let defs = index_definitions(&self.prefix, schema);
        // The TTL policy on the expiry timestamp of a store whose items expire.
        let ttl: Vec<String> = schema
            .ttl
            .iter()
            .map(|_| super::id::field_path(super::value::EXPIRES))
            .collect();
        if defs.is_empty() && ttl.is_empty() {
            return Ok(());
        }
        let collection = self.collection(schema);
        // Never `prune_undeclared`: indexes kvs did not declare are the user's.
        let sync = self
            .db
            .fluent()
            .indexes()
            .collection_group(&collection)
            .composite(|_| defs.iter().map(composite).collect())
            .ttl(ttl);
        let sync = match wait {
            Some(timeout) => sync.wait_until_ready(timeout),
            None => sync,
        };
        let report = sync.sync().await.map_err(|e| sync_error(&collection, e))?;
        if !report.needs_repair.is_empty() {
            return Err(Error::new(
                ErrorKind::Backend,
                format!(
                    "Firestore reports {} index(es) of {collection} as NEEDS_REPAIR; \
                     delete and create them again",
                    report.needs_repair.len()
                ),
            ));
        }
        tracing::info!(
            collection = collection.as_str(),
            created = report.created_indexes.len(),
            building = report.pending.len(),
            ready = report.unchanged.len(),
            skipped = ?report.skipped,
            "kvs: Firestore composite indexes ensured"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_found_by_their_debug_names() {
        assert_eq!(code_named("PermissionDenied"), Code::PermissionDenied);
        assert_eq!(code_named("Unauthenticated"), Code::Unauthenticated);
        assert_eq!(code_named("ResourceExhausted"), Code::ResourceExhausted);
        assert_eq!(code_named("CONNECTION_CLOSED"), Code::Unavailable);
        assert_eq!(code_named("whatever"), Code::Unknown);
    }

    #[test]
    fn definitions_keep_their_fields_and_directions() {
        let def = IndexDefinition {
            collection_group: "orders".into(),
            fields: vec![
                ("user".into(), IndexOrder::Ascending),
                ("at".into(), IndexOrder::Descending),
            ],
        };
        let c = composite(&def);
        assert_eq!(c.fields.len(), 2);
        assert_eq!(c.fields[1].field_path, "at");
        assert_eq!(
            c.fields[1].mode,
            FirestoreIndexFieldMode::Order(FirestoreQueryDirection::Descending)
        );
    }
}
