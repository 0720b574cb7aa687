//! The rules a model must keep, checked across fields. Every broken rule is reported,
//! each at the span of what broke it.

use syn::{DeriveInput, Ident, PathArguments, Type};

use crate::ast::{Field, Index, Model, option_inner};
use crate::attr::ContainerAttrs;
use crate::case::snake_case;
use crate::errors::Errors;

/// Names the derive generates on the model itself, which an index accessor must not take.
const RESERVED_ACCESSORS: &[&str] = &["fields", "partition"];

fn find(fields: &[Field<'_>], name: &Ident, role: &str, errors: &mut Errors) -> Option<usize> {
    let found = fields.iter().position(|f| f.ident == name);
    if found.is_none() {
        let known: Vec<String> = fields.iter().map(|f| f.ident.to_string()).collect();
        errors.at(
            name.span(),
            format!(
                "the {role} names a field `{name}` that the struct does not have (fields: {})",
                known.join(", ")
            ),
        );
    }
    found
}

/// Why `ty` obviously cannot be a key attribute, read from how it is spelled; `None`
/// where it may be one (or only the type checker can tell).
///
/// This lets the commonest mistakes (a `bool`, a `Vec`, a map as a key) be reported with
/// the other macro errors, all at once. It cannot be complete: a macro sees only the
/// tokens of a type, not what they name, so a struct, a type alias or an enum with data
/// is left to the `KeyField` bounds of the generated code, whose messages say the same
/// thing but arrive after the macro errors are fixed. Only names no key type could
/// plausibly take are matched (a primitive spelled bare; a collection with its type
/// arguments), so that a user's own key enum is never refused by name.
fn non_key_type(ty: &Type) -> Option<&'static str> {
    match ty {
        Type::Reference(_) => {
            Some("a reference cannot be a key: use an owned type (`String`, not `&str`)")
        }
        Type::Tuple(_) | Type::Array(_) | Type::Slice(_) => {
            Some("a tuple, array or slice cannot be a key: keys are strings, numbers or bytes")
        }
        Type::Paren(inner) => non_key_type(&inner.elem),
        Type::Group(inner) => non_key_type(&inner.elem),
        Type::Path(p) if p.qself.is_none() => {
            let last = p.path.segments.last()?;
            let bare = p.path.segments.len() == 1 && last.arguments.is_none();
            let generic = matches!(last.arguments, PathArguments::AngleBracketed(_));
            match last.ident.to_string().as_str() {
                "bool" if bare => {
                    Some("a `bool` cannot be a key: keys are strings, numbers or bytes")
                }
                "char" if bare => Some("a `char` cannot be a key: use a `String`"),
                "u64" | "usize" | "i128" | "u128" | "isize" if bare => Some(
                    "this integer type cannot be a key: a key number must fit an `i64` on every backend, so use `i64` (or `u32` and smaller)",
                ),
                "Vec" | "VecDeque" | "LinkedList" if generic => {
                    Some("a list cannot be a key: keys are strings, numbers or bytes")
                }
                "HashMap" | "BTreeMap" if generic => {
                    Some("a map cannot be a key: keys are strings, numbers or bytes")
                }
                "Set" | "HashSet" | "BTreeSet" if generic => {
                    Some("a set cannot be a key: keys are strings, numbers or bytes")
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// A key field must be stored as itself, under one name, and be of a key type. An index
/// key (`index`) may be an `Option` of a key type: the index is then sparse, and `None`
/// may be left out by serde.
fn check_key_field(field: &Field<'_>, role: &str, index: bool, errors: &mut Errors) {
    let name = field.ident;
    let optional = option_inner(field.ty);
    match optional {
        Some(_) if !index => errors.spanned(
            field.ty,
            format!(
                "`{name}` is the {role}, which cannot be an `Option`: every item has its key (only an index key may be an `Option`, for a sparse index)"
            ),
        ),
        Some(inner) => {
            let why = non_key_type(inner).or(option_inner(inner)
                .map(|_| "an `Option` of an `Option` cannot be a key"));
            if let Some(why) = why {
                errors.spanned(inner, format!("`{name}` is the {role}, but {why}"));
            }
        }
        None => {
            if let Some(why) = non_key_type(field.ty) {
                errors.spanned(field.ty, format!("`{name}` is the {role}, but {why}"));
            }
        }
    }
    if let Some(span) = field.attrs.flatten {
        errors.at(
            span,
            format!("`{name}` is the {role}: kvs cannot honour `#[serde(flatten)]` on a key field"),
        );
    }
    if let Some(span) = field.attrs.skip {
        errors.at(
            span,
            format!("`{name}` is the {role}: a key field cannot be skipped by serde"),
        );
    }
    // An optional index key may be left out when it is `None`: that is what a sparse
    // index is for. Any other key must always be written.
    if let (Some(span), false) = (field.attrs.skip_if, index && optional.is_some()) {
        errors.at(
            span,
            format!("`{name}` is the {role}: a key field cannot be `skip_serializing_if`"),
        );
    }
    if let Some(span) = field.attrs.with {
        errors.at(
            span,
            format!(
                "`{name}` is the {role}: kvs cannot honour a custom serde `with` on a key field"
            ),
        );
    }
    if field.attrs.opaque {
        errors.at(
            name.span(),
            format!("`{name}` is the {role}: a key field cannot be `#[kvs(opaque)]`"),
        );
    }
}

pub fn model<'a>(
    input: &'a DeriveInput,
    attrs: ContainerAttrs,
    fields: Vec<Field<'a>>,
    errors: &mut Errors,
) -> Option<Model<'a>> {
    let store = match attrs.store {
        Some(s) if s.value().is_empty() || s.value().contains('\0') => {
            errors.at(s.span(), "the store name must be non-empty and hold no NUL");
            None
        }
        Some(s) => Some(s),
        None => {
            errors.at(
                input.ident.span(),
                "a kvs model needs `#[kvs(store = \"name\", partition_key = field)]`",
            );
            None
        }
    };
    let partition_key = match &attrs.partition_key {
        Some(name) => find(&fields, name, "partition key", errors),
        None => {
            errors.at(
                input.ident.span(),
                "a kvs model needs a partition key: add `#[kvs(partition_key = field)]`",
            );
            None
        }
    };
    let sort_key = attrs
        .sort_key
        .as_ref()
        .and_then(|name| find(&fields, name, "sort key", errors));
    if let (Some(p), Some(s), Some(name)) = (partition_key, sort_key, &attrs.sort_key)
        && p == s
    {
        {
            errors.at(
                name.span(),
                "the sort key must be another field than the partition key",
            );
        }
    }
    if let Some(p) = partition_key {
        check_key_field(&fields[p], "partition key", false, errors);
    }
    if let Some(s) = sort_key {
        check_key_field(&fields[s], "sort key", false, errors);
    }

    let mut indexes: Vec<Index> = Vec::new();
    // The name and accessor of every index declared so far, checked or not, so that a
    // clash is found whatever else is wrong with the earlier index.
    let mut seen: Vec<(String, String)> = Vec::new();
    for index in &attrs.indexes {
        let name = index.name.value();
        let mut ok = true;
        if name.is_empty() || name.contains('\0') {
            errors.at(
                index.name.span(),
                "an index name must be non-empty and hold no NUL",
            );
            ok = false;
        }
        let accessor = snake_case(&name);
        // One mistake, one error: a name declared twice also clashes in its accessor,
        // which is only worth saying for two different names.
        if seen.iter().any(|(n, _)| *n == name) {
            errors.at(
                index.name.span(),
                format!("the index name \"{name}\" is declared twice"),
            );
            ok = false;
        } else if let Some((other, _)) = seen.iter().find(|(_, a)| *a == accessor) {
            errors.at(
                index.name.span(),
                format!("the indexes \"{other}\" and \"{name}\" would both get the accessor `{accessor}`: rename one"),
            );
            ok = false;
        }
        seen.push((name.clone(), accessor.clone()));
        if RESERVED_ACCESSORS.contains(&accessor.as_str()) {
            errors.at(index.name.span(), format!("the index \"{name}\" would get the accessor `{accessor}`, which kvs uses itself: rename the index"));
            ok = false;
        }
        let accessor = match syn::parse_str::<Ident>(&accessor) {
            Ok(ident) => {
                Some(Ident::new(&accessor, index.name.span())).filter(|_| ident == accessor)
            }
            Err(_) => {
                errors.at(index.name.span(), format!("the index name \"{name}\" does not make a Rust function name (`{accessor}`)"));
                None
            }
        };
        let pk = match &index.partition_key {
            Some(field) => find(
                &fields,
                field,
                &format!("partition key of index \"{name}\""),
                errors,
            ),
            None => {
                errors.at(
                    index.span,
                    format!("the index \"{name}\" needs `partition_key = field`"),
                );
                None
            }
        };
        let sk = index.sort_key.as_ref().and_then(|field| {
            find(
                &fields,
                field,
                &format!("sort key of index \"{name}\""),
                errors,
            )
        });
        if let (Some(p), Some(s), Some(field)) = (pk, sk, &index.sort_key)
            && p == s
        {
            {
                errors.at(
                    field.span(),
                    "an index's sort key must be another field than its partition key",
                );
            }
        }
        for k in pk.iter().chain(&sk) {
            check_key_field(
                &fields[*k],
                &format!("key of index \"{name}\""),
                true,
                errors,
            );
        }
        if let (true, Some(accessor), Some(partition_key)) = (ok, accessor, pk) {
            indexes.push(Index {
                name: index.name.clone(),
                accessor,
                partition_key,
                sort_key: sk,
            });
        }
    }
    Some(Model {
        ident: &input.ident,
        vis: &input.vis,
        store: store?,
        fields,
        partition_key: partition_key?,
        sort_key,
        indexes,
    })
}
