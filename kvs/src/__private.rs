//! What generated code uses. Not public API: no stability promise.

pub use crate::typed::into_key_value;

/// Checks, in code `#[derive(Projection)]` generates, that a projection field has the
/// type of the model's field (the type of its typed path).
pub fn projected_field<M, T, P>(_: &P)
where
    P: crate::TypedPath<Model = M>,
    P::Value: SameType<T>,
{
}

/// `T` is `Self`: the bound of [`projected_field`], with an error that says what is wrong.
#[diagnostic::on_unimplemented(
    message = "a projection field of type `{T}` reads a model field of type `{Self}`",
    label = "the model's field is a `{Self}`",
    note = "a projection field has the type of the model's field of the same name"
)]
pub trait SameType<T> {}

impl<T> SameType<T> for T {}

/// Whether the model's field `rust` (in its table of Rust and stored names) is stored
/// as `stored`: the stored-name check of a projection, in a const. A field the model
/// lacks passes here (the projection's typed path check reports it).
pub const fn stored_as(names: &[(&str, &str)], rust: &str, stored: &str) -> bool {
    let mut i = 0;
    while i < names.len() {
        if same_str(names[i].0, rust) {
            return same_str(names[i].1, stored);
        }
        i += 1;
    }
    true
}

/// Whether two strings are equal, in a const.
const fn same_str(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}
pub use serde;
pub use std;

/// The stand-in type of a key whose field is not known, in the code the derive
/// generates for a model with errors: it takes the usual key values, so that the
/// model's uses show the derive's errors alone. Nothing of it runs (the crate does not
/// compile). Its impls are `do_not_recommend`: no error lists it among the types that
/// fit.
#[derive(Debug, Clone, Copy)]
pub struct Unknown;

impl serde::Serialize for Unknown {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_unit()
    }
}

#[diagnostic::do_not_recommend]
impl crate::typed::FieldType for Unknown {
    type Compare = Unknown;
    type Fields<M: 'static, R: 'static> = crate::Field<M, Unknown, R>;
}

#[diagnostic::do_not_recommend]
impl crate::typed::KeyField for Unknown {
    const KEY_TYPE: crate::KeyType = crate::KeyType::String;
}

#[diagnostic::do_not_recommend]
impl crate::typed::SortKeyType for Unknown {
    type Value = Unknown;
}

#[diagnostic::do_not_recommend]
impl crate::typed::StringField for Unknown {}

macro_rules! into_unknown {
    ($($t:ty),*) => {$(
        #[diagnostic::do_not_recommend]
        impl crate::typed::IntoFieldValue<Unknown> for $t {
            fn into_field(self) -> Unknown {
                Unknown
            }
        }
    )*};
}
into_unknown!(
    &str,
    String,
    &String,
    char,
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
    crate::Bytes,
    Vec<u8>,
    &[u8]
);
