//! The derive's own view of a model, read from the input once.

use syn::{
    Data, DeriveInput, Fields, GenericArgument, Ident, LitStr, PathArguments, Type, Visibility,
};

use crate::attr::{ContainerAttrs, FieldAttrs, SerdeContainer};
use crate::errors::Errors;

/// A field of a model or nested struct.
pub struct Field<'a> {
    pub ident: &'a Ident,
    pub ty: &'a Type,
    /// The attribute name it is stored under (after serde's rename and rename_all).
    pub stored: String,
    pub attrs: FieldAttrs,
}

impl Field<'_> {
    /// Whether the field gets a typed path: it is stored as itself, under its own name
    /// (the catch-all is not, even when it lacks the `flatten` it needs).
    pub fn addressable(&self) -> bool {
        !self.attrs.opaque
            && self.attrs.catch_all.is_none()
            && self.attrs.flatten.is_none()
            && self.attrs.skip.is_none()
            && self.attrs.with.is_none()
    }
}

/// The type inside `Option<..>`, if `ty` is spelled as an `Option` (`Option<T>`,
/// `std::option::Option<T>`, ...).
pub fn option_inner(ty: &Type) -> Option<&Type> {
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if p.qself.is_some() || last.ident != "Option" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first() {
        Some(GenericArgument::Type(inner)) if args.args.len() == 1 => Some(inner),
        _ => None,
    }
}

/// The sort key of a store or an index.
#[derive(Clone, Copy)]
pub enum SortKey {
    /// None is declared.
    None,
    /// This field.
    Field(usize),
    /// One is declared, naming no field of the struct (only in a model with errors).
    Unknown,
}

/// A secondary index, checked: in a model with errors, only the indexes whose accessor
/// can be generated are kept, and their keys may be unknown.
pub struct Index {
    pub name: LitStr,
    /// The accessor: `byUser` -> `by_user`.
    pub accessor: Ident,
    /// `None` only in a model with errors.
    pub partition_key: Option<usize>,
    pub sort_key: SortKey,
}

/// A `#[derive(KeyValueStore)]` model, as far as it could be read.
///
/// Without errors, everything is known (`store` and `partition_key` are `Some`, no key
/// is `Unknown`). With errors, the derive still generates the model's items from what
/// is known, with stand-ins for the rest, so that the user sees the derive's errors and
/// not a follow-on error at every use of a generated item.
pub struct Model<'a> {
    pub ident: &'a Ident,
    pub vis: &'a Visibility,
    pub store: Option<LitStr>,
    pub fields: Vec<Field<'a>>,
    pub partition_key: Option<usize>,
    pub sort_key: SortKey,
    pub indexes: Vec<Index>,
    /// The `#[kvs(catch_all)]` field, if there is one and it keeps the rules.
    pub catch_all: Option<usize>,
    /// The `#[kvs(version)]` field, if there is one and it keeps the rules (its type is
    /// checked by the generated code).
    pub version: Option<usize>,
    /// The expiry field (`ttl = field`), if the model names one and it keeps the rules
    /// (its type is checked by the generated code).
    pub ttl: Option<usize>,
    /// Whether a rule is broken: the generated code is then a stand-in, which skips the
    /// type checks that would repeat the derive's errors.
    pub broken: bool,
}

/// The named fields of a struct, with their stored names.
pub fn struct_fields<'a>(
    input: &'a DeriveInput,
    what: &str,
    errors: &mut Errors,
) -> Option<Vec<Field<'a>>> {
    if !input.generics.params.is_empty() {
        errors.at(
            input
                .generics
                .params
                .first()
                .map_or(input.ident.span(), syn::spanned::Spanned::span),
            format!("a {what} cannot be generic"),
        );
    }
    let named = match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(named) => named,
            _ => {
                errors.at(
                    input.ident.span(),
                    format!("a {what} must be a struct with named fields"),
                );
                return None;
            }
        },
        _ => {
            errors.at(
                input.ident.span(),
                format!("a {what} must be a struct with named fields"),
            );
            return None;
        }
    };
    let serde = SerdeContainer::parse(&input.attrs, errors);
    Some(
        named
            .named
            .iter()
            .filter_map(|f| {
                let ident = f.ident.as_ref()?;
                let attrs = FieldAttrs::parse(&f.attrs, errors);
                let rust_name = ident.to_string();
                let rust_name = rust_name.strip_prefix("r#").unwrap_or(&rust_name);
                let stored = match (&attrs.rename, serde.rename_all) {
                    (Some(name), _) => name.clone(),
                    (None, Some(rule)) => rule.apply_to_field(rust_name),
                    (None, None) => rust_name.to_owned(),
                };
                Some(Field {
                    ident,
                    ty: &f.ty,
                    stored,
                    attrs,
                })
            })
            .collect(),
    )
}

impl<'a> Model<'a> {
    /// Reads and checks a model. Every problem is reported at once; the model comes
    /// back with them, as far as it could be read, unless it cannot be named in
    /// generated code (not a struct with named fields, or generic).
    pub fn from_input(input: &'a DeriveInput) -> (Option<Model<'a>>, syn::Result<()>) {
        let mut errors = Errors::default();
        let attrs = ContainerAttrs::parse(&input.attrs, &mut errors);
        let fields = struct_fields(input, "kvs model", &mut errors)
            .filter(|_| input.generics.params.is_empty());
        let model = fields.map(|fields| crate::check::model(input, attrs, fields, &mut errors));
        (model, errors.finish())
    }
}
