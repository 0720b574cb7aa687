//! The traits that make wrong filters, updates and keys fail to compile, each with a
//! sentence for the compiler to say.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::field::{Element, Entry, KeyRole, Plain};
use crate::{Bytes, KeyType, Path, Set, Value};

/// A type a field of a model can have: it says what conditions compare the field with,
/// and what the field's accessor returns (a [`Field`](super::Field) for a plain value,
/// the generated accessors for a nested struct).
///
/// The accessor carries the role of the place it addresses (`R`: a plain field, a map
/// entry, a list position), which decides what an update may do there.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a type kvs knows how to address in a model",
    label = "this field's type has no typed paths",
    note = "derive `kvs::Nested` on your own structs and enums, or mark the field `#[kvs(opaque)]`"
)]
pub trait FieldType: Serialize + 'static {
    /// What conditions compare the field with: the type itself, or `T` for `Option<T>`.
    type Compare: Serialize;
    /// What the accessor of a field of this type returns, for model `M` and role `R`.
    type Fields<M: 'static, R: 'static>: From<Path>;
}

macro_rules! leaf_field_types {
    ($($t:ty),* $(,)?) => {$(
        impl FieldType for $t {
            type Compare = $t;
            type Fields<M: 'static, R: 'static> = super::Field<M, $t, R>;
        }
    )*};
}
leaf_field_types!(
    bool,
    i8,
    i16,
    i32,
    i64,
    u8,
    u16,
    u32,
    u64,
    f32,
    f64,
    String,
    char,
    Bytes,
    Value,
    crate::Decimal
);

impl<T: FieldType> FieldType for Option<T> {
    type Compare = T::Compare;
    type Fields<M: 'static, R: 'static> = super::Field<M, Option<T>, R>;
}

impl<T: FieldType> FieldType for Vec<T> {
    type Compare = Vec<T>;
    type Fields<M: 'static, R: 'static> = super::Field<M, Vec<T>, R>;
}

impl<T: FieldType + Ord> FieldType for Set<T> {
    type Compare = Set<T>;
    type Fields<M: 'static, R: 'static> = super::Field<M, Set<T>, R>;
}

impl<V: FieldType> FieldType for HashMap<String, V> {
    type Compare = HashMap<String, V>;
    type Fields<M: 'static, R: 'static> = super::Field<M, HashMap<String, V>, R>;
}

impl<V: FieldType> FieldType for BTreeMap<String, V> {
    type Compare = BTreeMap<String, V>;
    type Fields<M: 'static, R: 'static> = super::Field<M, BTreeMap<String, V>, R>;
}

impl<T: FieldType> FieldType for Box<T> {
    type Compare = T::Compare;
    type Fields<M: 'static, R: 'static> = T::Fields<M, R>;
}

/// A type a key attribute (of the store or of an index) can have: a string, a number,
/// bytes, or a unit-only enum (stored as its variant name; not one whose serde
/// attributes write it otherwise, as `untagged` or `tag` do).
///
/// An index key field may also be an `Option` of one: the index is then sparse, and an
/// item whose field is `None` (a missing attribute) is not in it. The derive recognises
/// the `Option` by its spelling (`Option<K>`, `std::option::Option<K>`), not through a
/// type alias. The store's own keys cannot be optional: every item has them.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a key attribute",
    label = "key attributes are strings, numbers or bytes",
    note = "use String, an integer up to i64, f64, kvs::Bytes, or a unit-only enum with `#[derive(kvs::Nested)]` that serde writes as its variant names (an index key may also be an `Option` of one, spelled `Option<..>`)"
)]
pub trait KeyField: FieldType {
    /// The key type the schema declares for it.
    const KEY_TYPE: KeyType;
}

// `do_not_recommend`: an error lists none of these impls (the note says what a key may
// be), and the sort key one stays the only error of a sort condition on a query without
// a sort key (see `SortKeyType`).
macro_rules! key_fields {
    ($kind:ident: $($t:ty),*) => {$(
        #[diagnostic::do_not_recommend]
        impl KeyField for $t {
            const KEY_TYPE: KeyType = KeyType::$kind;
        }
        #[diagnostic::do_not_recommend]
        impl super::query::SortKeyType for $t {
            type Value = $t;
        }
    )*};
}
key_fields!(String: String);
key_fields!(Number: i8, i16, i32, i64, u8, u16, u32, f32, f64, crate::Decimal);
key_fields!(Bytes: Bytes);

/// A value that can stand where a `T` is expected: a `T` itself, or a type that widens
/// to it without loss (`&str` for `String`, `i32` for `i64` or `f64`, an array for a
/// `Vec` or a `Set`).
#[diagnostic::on_unimplemented(
    message = "this field takes values of type `{T}`, not `{Self}`",
    label = "expected a value of the field's type"
)]
pub trait IntoFieldValue<T> {
    /// The value as a `T`.
    fn into_field(self) -> T;
}

impl<T> IntoFieldValue<T> for T {
    fn into_field(self) -> T {
        self
    }
}

// Every conversion but the identity is `do_not_recommend`: a value of the wrong type
// gets the one sentence of `IntoFieldValue`, not a listing of every conversion (nor of
// the macros that write them); an array of wrong elements is reported as a whole.
macro_rules! widen {
    ($($from:ty => $($to:ty),+);* $(;)?) => {$($(
        #[diagnostic::do_not_recommend]
        impl IntoFieldValue<$to> for $from {
            fn into_field(self) -> $to {
                <$to>::from(self)
            }
        }
    )+)*};
}
widen!(
    i8 => i16, i32, i64, f32, f64;
    i16 => i32, i64, f32, f64;
    i32 => i64, f64, crate::Decimal;
    u8 => i16, i32, i64, u16, u32, u64, f32, f64;
    u16 => i32, i64, u32, u64, f32, f64;
    u32 => i64, u64, f64;
    f32 => f64;
    i64 => crate::Decimal;
    &str => String;
    &String => String;
    char => String;
    Vec<u8> => Bytes;
);

/// A plain value where an `Option` field is set: `Some(value)`.
macro_rules! into_option {
    ($($from:ty => $to:ty),* $(,)?) => {$(
        #[diagnostic::do_not_recommend]
        impl IntoFieldValue<Option<$to>> for $from {
            fn into_field(self) -> Option<$to> {
                Some(IntoFieldValue::<$to>::into_field(self))
            }
        }
    )*};
}
into_option!(
    String => String, &str => String, &String => String, char => String,
    bool => bool,
    i8 => i8, i16 => i16, i32 => i32, i64 => i64, u8 => u8, u16 => u16, u32 => u32, u64 => u64,
    i8 => i64, i16 => i64, i32 => i64, u8 => i64, u16 => i64, u32 => i64,
    f32 => f32, f64 => f64, i32 => f64, f32 => f64,
    crate::Decimal => crate::Decimal, i64 => crate::Decimal, i32 => crate::Decimal,
    Bytes => Bytes, Vec<u8> => Bytes,
);

#[diagnostic::do_not_recommend]
impl IntoFieldValue<Bytes> for &[u8] {
    fn into_field(self) -> Bytes {
        Bytes(self.to_vec())
    }
}

#[diagnostic::do_not_recommend]
impl<T, V: IntoFieldValue<T>, const N: usize> IntoFieldValue<Vec<T>> for [V; N] {
    fn into_field(self) -> Vec<T> {
        self.into_iter().map(IntoFieldValue::into_field).collect()
    }
}

#[diagnostic::do_not_recommend]
impl<T: Ord, V: IntoFieldValue<T>, const N: usize> IntoFieldValue<Set<T>> for [V; N] {
    fn into_field(self) -> Set<T> {
        self.into_iter().map(IntoFieldValue::into_field).collect()
    }
}

#[diagnostic::do_not_recommend]
impl<T: Ord> IntoFieldValue<Set<T>> for Vec<T> {
    fn into_field(self) -> Set<T> {
        self.into_iter().collect()
    }
}

#[diagnostic::do_not_recommend]
impl<T: Ord> IntoFieldValue<Vec<T>> for Set<T> {
    fn into_field(self) -> Vec<T> {
        self.into_iter().collect()
    }
}

// The impls of the traits below are all `do_not_recommend`: a field an op does not fit
// gets the trait's own sentence, naming the field's whole type (an `Option<String>`
// field is called that, not a `String`), without a listing of the types that fit.

/// Fields ADD works on: numbers (a missing attribute counts as 0) and sets (union).
#[diagnostic::on_unimplemented(
    message = "ADD needs a number or a set field, and this field is a `{Self}`",
    label = "ADD adds to numbers and unions sets"
)]
pub trait Addable {
    /// What is added: the number type, or the set.
    type Operand: Serialize;
}

macro_rules! addable {
    ($($t:ty),*) => {$(
        #[diagnostic::do_not_recommend]
        impl Addable for $t { type Operand = $t; }
    )*};
}
addable!(
    i8,
    i16,
    i32,
    i64,
    u8,
    u16,
    u32,
    u64,
    f32,
    f64,
    crate::Decimal
);

#[diagnostic::do_not_recommend]
impl<T: Ord + Serialize> Addable for Set<T> {
    type Operand = Set<T>;
}

#[diagnostic::do_not_recommend]
impl<T: Addable> Addable for Option<T> {
    type Operand = T::Operand;
}

/// Fields APPEND and PREPEND work on: lists.
#[diagnostic::on_unimplemented(
    message = "APPEND and PREPEND need a list field (a `Vec`), and this field is a `{Self}`",
    label = "only lists can be appended or prepended to"
)]
pub trait ListField {
    /// The element type.
    type Elem: Serialize;
}

#[diagnostic::do_not_recommend]
impl<T: Serialize> ListField for Vec<T> {
    type Elem = T;
}

#[diagnostic::do_not_recommend]
impl<T: ListField> ListField for Option<T> {
    type Elem = T::Elem;
}

/// Fields DELETE (of elements) works on: lists and sets.
#[diagnostic::on_unimplemented(
    message = "DELETE of elements needs a list or set field, and this field is a `{Self}`",
    label = "elements can only be deleted from a `Vec` or a `kvs::Set`",
    note = "to remove the whole attribute, use `remove` on an `Option` field"
)]
pub trait CollectionField {
    /// The element type.
    type Elem: Serialize;
}

#[diagnostic::do_not_recommend]
impl<T: Serialize> CollectionField for Vec<T> {
    type Elem = T;
}

#[diagnostic::do_not_recommend]
impl<T: Ord + Serialize> CollectionField for Set<T> {
    type Elem = T;
}

#[diagnostic::do_not_recommend]
impl<T: CollectionField> CollectionField for Option<T> {
    type Elem = T::Elem;
}

/// Places REMOVE works on, by the role `R` of the path: a field whose absence reads
/// back (`Option`, which reads back as `None`; `kvs::Set`, as an empty set), a map entry
/// (the map reads back without it) or a list position (the list reads back shorter),
/// whatever their type.
#[diagnostic::on_unimplemented(
    message = "REMOVE needs an `Option` or `kvs::Set` field, a map entry or a list position, and this field is a `{Self}`",
    label = "after REMOVE the item could no longer be read back as the model",
    note = "make the field an `Option<_>` if it may be missing"
)]
pub trait Removable<R> {}

#[diagnostic::do_not_recommend]
impl<T> Removable<Plain> for Option<T> {}
#[diagnostic::do_not_recommend]
impl<T: Ord> Removable<Plain> for Set<T> {}
#[diagnostic::do_not_recommend]
impl<T> Removable<Entry> for T {}
#[diagnostic::do_not_recommend]
impl<T> Removable<Element> for T {}
// A key field is refused by `Writable`, whose sentence says why; this impl keeps that
// the only error of a REMOVE of a key field.
#[diagnostic::do_not_recommend]
impl<T> Removable<KeyRole> for T {}

/// String fields, for `begins_with`.
#[diagnostic::on_unimplemented(
    message = "begins_with needs a string field, and this field is a `{Self}`",
    label = "only strings have prefixes"
)]
pub trait StringField {}

#[diagnostic::do_not_recommend]
impl StringField for String {}
#[diagnostic::do_not_recommend]
impl<T: StringField> StringField for Option<T> {}

/// Fields `contains` works on: strings (substring), lists and sets (element).
#[diagnostic::on_unimplemented(
    message = "contains needs a string, list or set field, and this field is a `{Self}`",
    label = "only strings, lists and sets contain things"
)]
pub trait Containable {
    /// What the field may contain.
    type Needle: Serialize;
}

#[diagnostic::do_not_recommend]
impl Containable for String {
    type Needle = String;
}

#[diagnostic::do_not_recommend]
impl<T: Serialize> Containable for Vec<T> {
    type Needle = T;
}

#[diagnostic::do_not_recommend]
impl<T: Ord + Serialize> Containable for Set<T> {
    type Needle = T;
}

#[diagnostic::do_not_recommend]
impl<T: Containable> Containable for Option<T> {
    type Needle = T::Needle;
}

/// Fields whose stored type the model does not fix: a [`Value`] (or an `Option` or
/// `Box` of one). Only these have `type_of`: on any other field it would merely repeat
/// the model (use `exists` / `not_exists` to test presence).
#[diagnostic::on_unimplemented(
    message = "type_of needs a field of type `kvs::Value`, and this field is always a `{Self}`",
    label = "the model already fixes this field's type",
    note = "to test whether the field is there, use `exists` or `not_exists`"
)]
pub trait DynamicField {}

#[diagnostic::do_not_recommend]
impl DynamicField for Value {}
#[diagnostic::do_not_recommend]
impl<T: DynamicField> DynamicField for Option<T> {}
#[diagnostic::do_not_recommend]
impl<T: DynamicField> DynamicField for Box<T> {}
