//! The rules a model must keep, checked across fields: one function per rule, named
//! for it. Every broken rule is reported (combined into one `syn::Error`), each at the
//! span of what broke it.

use proc_macro2::Span;
use syn::{DeriveInput, Ident, LitStr, PathArguments, Type};

use crate::ast::{Field, Index, Model, SortKey, option_inner};
use crate::attr::{ContainerAttrs, IndexAttr};
use crate::case::snake_case;
use crate::errors::{self, Errors};

/// Names the derive generates on the model itself, which an index accessor must not take.
const RESERVED_ACCESSORS: &[&str] = &["fields", "partition"];

/// Rule: a key names a field of the struct.
fn key_names_a_field(fields: &[Field<'_>], name: &Ident, role: &str) -> syn::Result<usize> {
    fields.iter().position(|f| f.ident == name).ok_or_else(|| {
        let known: Vec<String> = fields.iter().map(|f| f.ident.to_string()).collect();
        syn::Error::new(
            name.span(),
            format!(
                "the {role} names a field `{name}` that the struct does not have (fields: {})",
                known.join(", ")
            ),
        )
    })
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
pub fn non_key_type(ty: &Type) -> Option<&'static str> {
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

/// Rule: a key field is of a key type. An index key (`index`) may be an `Option` of a
/// key type: the index is then sparse.
fn key_type_fits(field: &Field<'_>, role: &str, index: bool) -> syn::Result<()> {
    let name = field.ident;
    match option_inner(field.ty) {
        Some(_) if !index => Err(syn::Error::new_spanned(
            field.ty,
            format!(
                "`{name}` is the {role}, which cannot be an `Option`: every item has its key (only an index key may be an `Option`, for a sparse index)"
            ),
        )),
        Some(inner) => match non_key_type(inner)
            .or(option_inner(inner).map(|_| "an `Option` of an `Option` cannot be a key"))
        {
            Some(why) => Err(syn::Error::new_spanned(
                inner,
                format!("`{name}` is the {role}, but {why}"),
            )),
            None => Ok(()),
        },
        None => match non_key_type(field.ty) {
            Some(why) => Err(syn::Error::new_spanned(
                field.ty,
                format!("`{name}` is the {role}, but {why}"),
            )),
            None => Ok(()),
        },
    }
}

/// Rule: a key field is not the catch-all. (It is then not also told that it is
/// flattened, which the catch-all must be: one mistake, one error.)
fn key_not_catch_all(field: &Field<'_>, role: &str) -> syn::Result<()> {
    match field.attrs.catch_all {
        Some(span) => Err(syn::Error::new(
            span,
            format!(
                "`{}` is the {role}: a key field cannot be the catch-all",
                field.ident
            ),
        )),
        None => Ok(()),
    }
}

/// Rule: a key field is not `#[serde(flatten)]`.
fn key_not_flattened(field: &Field<'_>, role: &str) -> syn::Result<()> {
    match (field.attrs.flatten, field.attrs.catch_all) {
        (Some(span), None) => Err(syn::Error::new(
            span,
            format!(
                "`{}` is the {role}: kvs cannot honour `#[serde(flatten)]` on a key field",
                field.ident
            ),
        )),
        _ => Ok(()),
    }
}

/// Rule: a key field is not skipped by serde.
fn key_not_skipped(field: &Field<'_>, role: &str) -> syn::Result<()> {
    match field.attrs.skip {
        Some(span) => Err(syn::Error::new(
            span,
            format!(
                "`{}` is the {role}: a key field cannot be skipped by serde",
                field.ident
            ),
        )),
        None => Ok(()),
    }
}

/// Rule: a key field is always written. An optional index key may be left out when it
/// is `None`: that is what a sparse index is for.
fn key_always_written(field: &Field<'_>, role: &str, index: bool) -> syn::Result<()> {
    match field.attrs.skip_if {
        Some(span) if !(index && option_inner(field.ty).is_some()) => Err(syn::Error::new(
            span,
            format!(
                "`{}` is the {role}: a key field cannot be `skip_serializing_if`",
                field.ident
            ),
        )),
        _ => Ok(()),
    }
}

/// Rule: a key field has no custom serde `with`.
fn key_without_custom_serde(field: &Field<'_>, role: &str) -> syn::Result<()> {
    match field.attrs.with {
        Some(span) => Err(syn::Error::new(
            span,
            format!(
                "`{}` is the {role}: kvs cannot honour a custom serde `with` on a key field",
                field.ident
            ),
        )),
        None => Ok(()),
    }
}

/// Rule: a key field has a typed path.
fn key_not_opaque(field: &Field<'_>, role: &str) -> syn::Result<()> {
    if field.attrs.opaque {
        let name = field.ident;
        return Err(syn::Error::new(
            name.span(),
            format!("`{name}` is the {role}: a key field cannot be `#[kvs(opaque)]`"),
        ));
    }
    Ok(())
}

/// The rules of a key field: stored as itself, under one name, of a key type.
fn key_field(field: &Field<'_>, role: &str, index: bool) -> syn::Result<()> {
    errors::all([
        key_type_fits(field, role, index),
        key_not_catch_all(field, role),
        key_not_flattened(field, role),
        key_not_skipped(field, role),
        key_always_written(field, role, index),
        key_without_custom_serde(field, role),
        key_not_opaque(field, role),
    ])
}

/// Rule: a model names its store, with a usable name.
fn store_named(input: &DeriveInput, store: Option<LitStr>) -> syn::Result<LitStr> {
    match store {
        Some(s) if s.value().is_empty() || s.value().contains('\0') => Err(syn::Error::new(
            s.span(),
            "the store name must be non-empty and hold no NUL",
        )),
        Some(s) => Ok(s),
        None => Err(syn::Error::new(
            input.ident.span(),
            "a kvs model needs `#[kvs(store = \"name\", partition_key = field)]`",
        )),
    }
}

/// Rule: a model declares its partition key.
fn partition_key_declared<'i>(
    input: &DeriveInput,
    attr: Option<&'i Ident>,
) -> syn::Result<&'i Ident> {
    attr.ok_or_else(|| {
        syn::Error::new(
            input.ident.span(),
            "a kvs model needs a partition key: add `#[kvs(partition_key = field)]`",
        )
    })
}

/// Rule: the sort key is another field than the partition key (of the store, or of an
/// index: `message` says which).
fn sort_key_differs(
    partition: Option<usize>,
    sort: SortKey,
    name: Option<&Ident>,
    message: &str,
) -> syn::Result<()> {
    match (partition, sort, name) {
        (Some(p), SortKey::Field(s), Some(name)) if p == s => {
            Err(syn::Error::new(name.span(), message))
        }
        _ => Ok(()),
    }
}

/// A declared sort key, resolved to its field (its error kept).
fn sort_key_of(
    fields: &[Field<'_>],
    attr: Option<&Ident>,
    role: &str,
    errors: &mut Errors,
) -> SortKey {
    match attr {
        None => SortKey::None,
        Some(name) => errors
            .check(key_names_a_field(fields, name, role))
            .map_or(SortKey::Unknown, SortKey::Field),
    }
}

/// Rule: an index name is usable.
fn index_name_valid(index: &IndexAttr) -> syn::Result<()> {
    let name = index.name.value();
    if name.is_empty() || name.contains('\0') {
        return Err(syn::Error::new(
            index.name.span(),
            "an index name must be non-empty and hold no NUL",
        ));
    }
    Ok(())
}

/// Rule: index names, and the accessors made of them, are unique. `seen` holds the name
/// and accessor of every earlier index, checked or not, so that a clash is found
/// whatever else is wrong with the earlier index. One mistake, one error: a name
/// declared twice also clashes in its accessor, which is only worth saying for two
/// different names.
fn index_unique(index: &IndexAttr, accessor: &str, seen: &[(String, String)]) -> syn::Result<()> {
    let name = index.name.value();
    if seen.iter().any(|(n, _)| *n == name) {
        return Err(syn::Error::new(
            index.name.span(),
            format!("the index name \"{name}\" is declared twice"),
        ));
    }
    if let Some((other, _)) = seen.iter().find(|(_, a)| a == accessor) {
        return Err(syn::Error::new(
            index.name.span(),
            format!(
                "the indexes \"{other}\" and \"{name}\" would both get the accessor `{accessor}`: rename one"
            ),
        ));
    }
    Ok(())
}

/// Rule: an index accessor is a Rust function name that kvs does not use itself.
fn index_accessor_usable(index: &IndexAttr, accessor: &str) -> syn::Result<Ident> {
    let name = index.name.value();
    if RESERVED_ACCESSORS.contains(&accessor) {
        return Err(syn::Error::new(
            index.name.span(),
            format!(
                "the index \"{name}\" would get the accessor `{accessor}`, which kvs uses itself: rename the index"
            ),
        ));
    }
    match syn::parse_str::<Ident>(accessor) {
        Ok(ident) if ident == accessor => Ok(Ident::new(accessor, index.name.span())),
        _ => Err(syn::Error::new(
            index.name.span(),
            format!("the index name \"{name}\" does not make a Rust function name (`{accessor}`)"),
        )),
    }
}

/// Rule: an index declares its partition key.
fn index_partition_key_declared(index: &IndexAttr) -> syn::Result<&Ident> {
    index.partition_key.as_ref().ok_or_else(|| {
        syn::Error::new(
            index.span,
            format!(
                "the index \"{}\" needs `partition_key = field`",
                index.name.value()
            ),
        )
    })
}

/// An index, checked; `None` if no accessor can be generated for it.
fn index(
    index: &IndexAttr,
    fields: &[Field<'_>],
    seen: &mut Vec<(String, String)>,
    errors: &mut Errors,
) -> Option<Index> {
    let name = index.name.value();
    let accessor_name = snake_case(&name);
    let valid = errors.check(index_name_valid(index)).is_some();
    let unique = errors
        .check(index_unique(index, &accessor_name, seen))
        .is_some();
    seen.push((name.clone(), accessor_name.clone()));
    let accessor = errors.check(index_accessor_usable(index, &accessor_name));
    let role = format!("partition key of index \"{name}\"");
    let partition_key = errors
        .check(index_partition_key_declared(index))
        .and_then(|field| errors.check(key_names_a_field(fields, field, &role)));
    let sort_key = sort_key_of(
        fields,
        index.sort_key.as_ref(),
        &format!("sort key of index \"{name}\""),
        errors,
    );
    errors.check(sort_key_differs(
        partition_key,
        sort_key,
        index.sort_key.as_ref(),
        "an index's sort key must be another field than its partition key",
    ));
    let sort_field = match sort_key {
        SortKey::Field(s) => Some(s),
        _ => None,
    };
    for k in partition_key.iter().chain(&sort_field) {
        errors.check(key_field(
            &fields[*k],
            &format!("key of index \"{name}\""),
            true,
        ));
    }
    Some(Index {
        name: index.name.clone(),
        accessor: accessor.filter(|_| valid && unique)?,
        partition_key,
        sort_key,
    })
}

/// Rule: at most one field is the catch-all.
fn one_catch_all(fields: &[Field<'_>]) -> syn::Result<()> {
    let mut all = fields
        .iter()
        .filter_map(|f| f.attrs.catch_all.map(|span| (f, span)));
    let Some((first, _)) = all.next() else {
        return Ok(());
    };
    errors::all(all.map(|(f, span)| {
        Err(syn::Error::new(
            span,
            format!(
                "`{}` is a second catch-all: `{}` already keeps the attributes the model does not declare",
                f.ident, first.ident
            ),
        ))
    }))
}

/// Rule: the catch-all is `#[serde(flatten)]`, so that serde gives it the attributes no
/// other field takes, and writes them back beside the others.
fn catch_all_flattened(field: &Field<'_>, span: Span) -> syn::Result<()> {
    if field.attrs.flatten.is_none() {
        return Err(syn::Error::new(
            span,
            format!(
                "the catch-all `{}` must also be `#[serde(flatten)]`, so that serde gives it the attributes no other field takes",
                field.ident
            ),
        ));
    }
    Ok(())
}

/// Rule: the catch-all is read and written by serde as itself.
fn catch_all_serialized(field: &Field<'_>) -> syn::Result<()> {
    match field
        .attrs
        .skip
        .or(field.attrs.with)
        .or(field.attrs.skip_if)
    {
        Some(span) => Err(syn::Error::new(
            span,
            format!(
                "the catch-all `{}` must be read and written as itself: no `skip`, `skip_serializing_if` or `with`",
                field.ident
            ),
        )),
        None => Ok(()),
    }
}

/// Rule: the catch-all comes after every other flattened field. serde gives a flattened
/// map what the flattened fields before it left, so an earlier catch-all would also
/// hold (and write twice) the attributes of a flattened struct after it.
fn catch_all_last_flattened(fields: &[Field<'_>], at: usize, span: Span) -> syn::Result<()> {
    match fields[at + 1..].iter().find(|f| f.attrs.flatten.is_some()) {
        Some(later) => Err(syn::Error::new(
            span,
            format!(
                "the catch-all `{}` must come after the flattened field `{}`: serde gives a flattened map what the flattened fields before it leave",
                fields[at].ident, later.ident
            ),
        )),
        None => Ok(()),
    }
}

/// The catch-all field, checked (keys are checked not to be it by [`key_field`]).
fn catch_all(fields: &[Field<'_>], keys: &[usize], errors: &mut Errors) -> Option<usize> {
    errors.check(one_catch_all(fields))?;
    let at = fields.iter().position(|f| f.attrs.catch_all.is_some())?;
    let span = fields[at].attrs.catch_all?;
    let kept = errors
        .check(errors::all([
            catch_all_flattened(&fields[at], span),
            catch_all_serialized(&fields[at]),
            catch_all_last_flattened(fields, at, span),
        ]))
        .is_some();
    (kept && !keys.contains(&at)).then_some(at)
}

/// Rules of the version field: at most one; not a key; stored as itself (serde writes
/// and reads it under its name, as the typed store's conditions and updates name it).
fn version(fields: &[Field<'_>], keys: &[usize], errors: &mut Errors) -> Option<usize> {
    let mut all = fields
        .iter()
        .enumerate()
        .filter_map(|(i, f)| f.attrs.version.map(|span| (i, span)));
    let (at, span) = all.next()?;
    let mut kept = true;
    for (i, span) in all {
        kept = false;
        errors.at(
            span,
            format!(
                "`{}` is a second version field: `{}` already is the model's version",
                fields[i].ident, fields[at].ident
            ),
        );
    }
    let field = &fields[at];
    if keys.contains(&at) {
        kept = false;
        errors.at(
            span,
            format!(
                "`{}` is a key field: a key cannot be the version, which every write changes",
                field.ident
            ),
        );
    }
    let serde_span = field
        .attrs
        .skip
        .or(field.attrs.with)
        .or(field.attrs.skip_if)
        .or(field.attrs.flatten)
        .or(field.attrs.catch_all);
    if let Some(other) = serde_span {
        kept = false;
        errors.at(
            other,
            format!(
                "the version field `{}` must be stored as itself: no `skip`, `skip_serializing_if`, `with`, `flatten` or `catch_all`",
                field.ident
            ),
        );
    }
    kept.then_some(at)
}

/// Rules of the expiry field (`ttl = field`): it names a field; not a key of the store or
/// of an index (a key never changes); stored as itself, and not the version or the
/// catch-all. Its type (`SystemTime` or `Option<SystemTime>`) is checked by the
/// generated code.
fn ttl(
    fields: &[Field<'_>],
    name: Option<&Ident>,
    keys: &[usize],
    index_keys: &[usize],
    errors: &mut Errors,
) -> Option<usize> {
    let name = name?;
    let at = errors.check(key_names_a_field(fields, name, "expiry (ttl)"))?;
    let field = &fields[at];
    if keys.contains(&at) || index_keys.contains(&at) {
        errors.at(
            name.span(),
            format!(
                "`{name}` is a key field: a key cannot be the expiry time, as a key never changes"
            ),
        );
        return None;
    }
    let serde_span = field
        .attrs
        .skip
        .or(field.attrs.with)
        .or(field.attrs.flatten)
        .or(field.attrs.catch_all)
        .or(field.attrs.version);
    if let Some(other) = serde_span {
        errors.at(
            other,
            format!(
                "the expiry field `{}` must be stored as itself: no `skip`, `with`, `flatten`, `catch_all` or `version`",
                field.ident
            ),
        );
        return None;
    }
    Some(at)
}

/// Rule (of `#[derive(Nested)]`): only a model has a version field, which its writes
/// check and advance.
pub fn nested_has_no_version(fields: &[Field<'_>]) -> syn::Result<()> {
    errors::all(fields.iter().map(|f| match f.attrs.version {
        Some(span) => Err(syn::Error::new(
            span,
            "only a model (`#[derive(KeyValueStore)]`) can have a version field",
        )),
        None => Ok(()),
    }))
}

/// Rule (of `#[derive(Nested)]`): only a model has a catch-all, which the typed store
/// fills when it reads the model's own items.
pub fn nested_has_no_catch_all(fields: &[Field<'_>]) -> syn::Result<()> {
    errors::all(fields.iter().map(|f| match f.attrs.catch_all {
        Some(span) => Err(syn::Error::new(
            span,
            "only a model (`#[derive(KeyValueStore)]`) can have a catch-all field; a nested struct is kept whole by the model's catch-all or its own fields",
        )),
        None => Ok(()),
    }))
}

/// Checks a model, reporting every broken rule into `errors`; returns it as far as it
/// could be read.
pub fn model<'a>(
    input: &'a DeriveInput,
    attrs: ContainerAttrs,
    fields: Vec<Field<'a>>,
    errors: &mut Errors,
) -> Model<'a> {
    let store = errors.check(store_named(input, attrs.store));
    let partition_key = errors
        .check(partition_key_declared(input, attrs.partition_key.as_ref()))
        .and_then(|name| errors.check(key_names_a_field(&fields, name, "partition key")));
    let sort_key = sort_key_of(&fields, attrs.sort_key.as_ref(), "sort key", errors);
    errors.check(sort_key_differs(
        partition_key,
        sort_key,
        attrs.sort_key.as_ref(),
        "the sort key must be another field than the partition key",
    ));
    if let Some(p) = partition_key {
        errors.check(key_field(&fields[p], "partition key", false));
    }
    if let SortKey::Field(s) = sort_key {
        errors.check(key_field(&fields[s], "sort key", false));
    }
    let mut seen = Vec::new();
    let indexes: Vec<Index> = attrs
        .indexes
        .iter()
        .filter_map(|i| index(i, &fields, &mut seen, errors))
        .collect();
    let mut keys: Vec<usize> = partition_key.into_iter().collect();
    if let SortKey::Field(s) = sort_key {
        keys.push(s);
    }
    let catch_all = catch_all(&fields, &keys, errors);
    let version = version(&fields, &keys, errors);
    let index_keys: Vec<usize> = indexes
        .iter()
        .flat_map(|i| {
            let sort = match i.sort_key {
                SortKey::Field(s) => Some(s),
                _ => None,
            };
            i.partition_key.into_iter().chain(sort)
        })
        .collect();
    let ttl = ttl(&fields, attrs.ttl.as_ref(), &keys, &index_keys, errors);
    let mut fields = fields;
    // The expiry field has no typed path: it is stored as seconds, not as serde writes
    // a `SystemTime`. (Also where another of its rules is broken, so that its type does
    // not add an error to the derive's.)
    let named = attrs
        .ttl
        .as_ref()
        .and_then(|name| fields.iter().position(|f| f.ident == name));
    if let Some(at) = named {
        fields[at].attrs.opaque = true;
    }
    Model {
        ident: &input.ident,
        vis: &input.vis,
        store,
        fields,
        partition_key,
        sort_key,
        indexes,
        catch_all,
        version,
        ttl,
        broken: !errors.is_empty(),
    }
}
