//! Conformance cases of the typed layer, in two suites: serde types through the dynamic
//! API (`to_item`, `from_item`; the `serde_*` files), and models declared with
//! `#[derive(KeyValueStore)]` through `Store<M>` (the `store_*` files). Each file is named
//! for what its cases check.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Debug;

use futures::{StreamExt, TryStreamExt};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::errors::assert_mentions;
use super::values::{
    assert_mentions_any, assert_same_float, assert_same_number, assert_unstorable, storable_int,
    storable_stand_in, stores_int,
};
use super::{expect_kind, fresh_name, fresh_store};
use crate::typed::KeyFrom;
use crate::{
    Bytes, ErrorKind, IndexSchema, Item, Key, KeyAttr, Kvs, Model, Number, Set, SortCondition,
    Store, StoreSchema, Value, ValueType, attr, from_item, item, to_item,
};

/// A store keyed by the string attribute `id`.
async fn records(kvs: &Kvs) -> String {
    fresh_store(kvs, StoreSchema::new("records", KeyAttr::string("id"))).await
}

/// Writes `value` with `to_item`, reads it back with `get` and `from_item`, asserts it
/// equals the original, and returns the stored item.
async fn round_trip<T>(kvs: &Kvs, store: &str, value: &T) -> Item
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let it = to_item(value).expect("to_item");
    let id = it["id"].clone();
    kvs.upsert(store, it).await.unwrap();
    let stored = kvs.get(store, id).await.unwrap().expect("the item");
    let back: T = from_item(stored.clone()).expect("from_item");
    assert_eq!(&back, value);
    stored
}

mod serde_collections;
mod serde_enums_and_renames;
mod serde_options;
mod serde_queries;
mod serde_scalars;
mod store_collections;
mod store_enums_and_renames;
mod store_expiry;
mod store_keys_and_queries;
mod store_options;
mod store_projections;
mod store_scalars;
mod store_shape_mismatch;
mod store_updates_and_conditions;
mod store_versions;

pub use serde_collections::{
    typed_bytes_round_trip, typed_collections_and_nested_structs_round_trip,
    typed_empty_set_is_missing, typed_map_non_string_keys_round_trip,
    typed_map_none_values_round_trip, typed_maps_round_trip, typed_sets_round_trip,
};
pub use serde_enums_and_renames::{
    typed_data_enum_round_trip, typed_renamed_fields_round_trip, typed_tagged_enums_round_trip,
    typed_unit_enum_stored_as_string,
};
pub use serde_options::{typed_flattened_none_is_missing, typed_option_none_is_missing};
pub use serde_queries::typed_query_results_convert;
pub use serde_scalars::{
    typed_float_field_stays_float, typed_non_finite_field_rejected, typed_scalars_round_trip,
    typed_u64_above_i64_max_rejected,
};
pub use store_collections::{
    typed_rt_conditions_on_empty_sets, typed_rt_maps, typed_rt_nested_structs,
    typed_rt_remove_entries_and_positions, typed_rt_set_absent_in_lists_and_maps, typed_rt_sets,
    typed_rt_vecs,
};
pub use store_enums_and_renames::{
    typed_rt_serde_renames, typed_rt_unit_enum_as_string_and_index_key,
};
pub use store_expiry::typed_rt_expiry;
pub use store_keys_and_queries::{
    typed_rt_composite_key_number_string, typed_rt_composite_key_string_number, typed_rt_counts,
    typed_rt_query_results, typed_rt_sparse_index,
};
pub use store_options::{typed_rt_empty_set_is_missing, typed_rt_option_none_is_missing};
pub use store_projections::typed_rt_projections;
pub use store_scalars::{
    typed_rt_bytes, typed_rt_floats_and_bools, typed_rt_small_integer_extremes, typed_rt_strings,
    typed_rt_wide_integers, typed_rt_wider_integers_read_exactly,
};
pub use store_shape_mismatch::typed_rt_shape_mismatch_is_serialization;
pub use store_updates_and_conditions::{
    typed_rt_conditional_puts_and_consistent_queries, typed_rt_type_of_and_exists,
    typed_rt_update_results,
};
pub use store_versions::{
    typed_rt_version_checked_on_every_write, typed_rt_version_in_transactions,
    typed_rt_version_no_lost_update, typed_rt_version_upsert_many_checks_before_writing,
    typed_rt_version_upsert_many_names_stale_keys,
};

// Models that cases in more than one file use.

/// A nested struct of the serde cases.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Inner {
    name: String,
    score: f64,
}

/// A nested struct with an optional field, of the `Store<M>` cases. Its accessors are not
/// all used (dead code otherwise).
#[allow(dead_code)]
#[derive(crate::Nested, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
struct RtNote {
    text: String,
    stars: Option<u8>,
}

/// A unit enum with renamed variants, of the `Store<M>` cases. Its accessors are not all
/// used (dead code otherwise).
#[allow(dead_code)]
#[derive(crate::Nested, serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq)]
#[serde(rename_all = "kebab-case")]
enum RtPhase {
    Draft,
    InReview,
    #[serde(rename = "done!")]
    Done,
}

// ---------------------------------------------------------------------------------------
// Helpers of the `Store<M>` cases. The derive fixes a model's store name; a case keeps its
// models under fresh names (`Kvs::store_named`), so cases and runs can share a server.

/// The typed store of `M` under a fresh name (the model's store name, the process id
/// and a counter, by [`fresh_name`]), created: so that every case, and every run, has
/// stores of its own on a shared server.
async fn fresh_typed_store<M: Model>(kvs: &Kvs) -> Store<M> {
    let store = kvs.store_named::<M>(fresh_name(M::STORE));
    store.ensure().await.expect("ensure");
    store
}

/// Upserts `value` through the typed store, reads it back with a typed `get`, asserts it
/// equals the original, and returns the item as stored (a dynamic `get`).
async fn typed_round_trip<M>(store: &Store<M>, value: &M) -> Item
where
    M: Model + PartialEq + Debug,
    M::Key: KeyFrom<M::Key>,
{
    store.upsert(value).await.expect("typed upsert");
    let back = store.get(value.key()).await.expect("typed get");
    assert_eq!(
        back.as_ref(),
        Some(value),
        "the typed get must equal what was written"
    );
    store
        .kvs()
        .get(store.name(), value.key())
        .await
        .expect("dynamic get")
        .expect("the stored item")
}

/// Asserts that none of `names` is an attribute of `stored`.
#[track_caller]
fn assert_missing(stored: &Item, names: &[&str]) {
    for name in names {
        assert!(
            !stored.contains_key(*name),
            "{name:?} must be a missing attribute: {stored:?}"
        );
    }
}

/// The ids of a page of typed items, sorted.
fn sorted_ids<M>(items: &[M], id: impl Fn(&M) -> String) -> Vec<String> {
    let mut ids: Vec<String> = items.iter().map(id).collect();
    ids.sort();
    ids
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases_typed {
    ($cb:path, $make:tt) => {
        $cb!($make, typed::typed_scalars_round_trip);
        $cb!($make, typed::typed_map_none_values_round_trip);
        $cb!($make, typed::typed_option_none_is_missing);
        $cb!(
            $make,
            typed::typed_collections_and_nested_structs_round_trip
        );
        $cb!($make, typed::typed_maps_round_trip);
        $cb!($make, typed::typed_sets_round_trip);
        $cb!($make, typed::typed_empty_set_is_missing);
        $cb!($make, typed::typed_bytes_round_trip);
        $cb!($make, typed::typed_unit_enum_stored_as_string);
        $cb!($make, typed::typed_data_enum_round_trip);
        $cb!($make, typed::typed_u64_above_i64_max_rejected);
        $cb!($make, typed::typed_float_field_stays_float);
        $cb!($make, typed::typed_renamed_fields_round_trip);
        $cb!($make, typed::typed_non_finite_field_rejected);
        $cb!($make, typed::typed_query_results_convert);
        $cb!($make, typed::typed_flattened_none_is_missing);
        $cb!($make, typed::typed_tagged_enums_round_trip);
        $cb!($make, typed::typed_map_non_string_keys_round_trip);
        $cb!($make, typed::typed_rt_strings);
        $cb!($make, typed::typed_rt_small_integer_extremes);
        $cb!($make, typed::typed_rt_wide_integers);
        $cb!($make, typed::typed_rt_wider_integers_read_exactly);
        $cb!($make, typed::typed_rt_floats_and_bools);
        $cb!($make, typed::typed_rt_option_none_is_missing);
        $cb!($make, typed::typed_rt_vecs);
        $cb!($make, typed::typed_rt_nested_structs);
        $cb!($make, typed::typed_rt_maps);
        $cb!($make, typed::typed_rt_sets);
        $cb!($make, typed::typed_rt_empty_set_is_missing);
        $cb!($make, typed::typed_rt_bytes);
        $cb!($make, typed::typed_rt_unit_enum_as_string_and_index_key);
        $cb!($make, typed::typed_rt_serde_renames);
        $cb!($make, typed::typed_rt_query_results);
        $cb!($make, typed::typed_rt_counts);
        $cb!($make, typed::typed_rt_projections);
        $cb!($make, typed::typed_rt_expiry);
        $cb!($make, typed::typed_rt_update_results);
        $cb!($make, typed::typed_rt_composite_key_string_number);
        $cb!($make, typed::typed_rt_composite_key_number_string);
        $cb!($make, typed::typed_rt_shape_mismatch_is_serialization);
        $cb!($make, typed::typed_rt_sparse_index);
        $cb!(
            $make,
            typed::typed_rt_conditional_puts_and_consistent_queries
        );
        $cb!($make, typed::typed_rt_remove_entries_and_positions);
        $cb!($make, typed::typed_rt_set_absent_in_lists_and_maps);
        $cb!($make, typed::typed_rt_conditions_on_empty_sets);
        $cb!($make, typed::typed_rt_type_of_and_exists);
        $cb!($make, typed::typed_rt_version_checked_on_every_write);
        $cb!($make, typed::typed_rt_version_upsert_many_names_stale_keys);
        $cb!(
            $make,
            typed::typed_rt_version_upsert_many_checks_before_writing
        );
        $cb!($make, typed::typed_rt_version_in_transactions);
        $cb!($make, typed::typed_rt_version_no_lost_update);
    };
}
