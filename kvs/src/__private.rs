//! What generated code uses. Not public API: no stability promise.

pub use crate::typed::key_value;
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
