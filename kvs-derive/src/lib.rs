//! The derives of `kvs`: `#[derive(KeyValueStore)]` for models and `#[derive(Nested)]`
//! for the structs and enums inside them. Use them through `kvs` (feature `derive`, on
//! by default); the documentation of the attributes is on `kvs::KeyValueStore`.
//!
//! The macro reads its input into its own view (`ast`), checks every rule and reports
//! all broken ones at once with the span of what broke them (`check`), then generates
//! code (`expand`) that names everything by absolute path through `::kvs`.
//!
//! After an error it still generates the model's items (as serde_derive and thiserror
//! do), from what could be read and with stand-ins for the rest, so that code using the
//! model shows the derive's errors alone, not a follow-on error at every use.

mod ast;
mod attr;
mod case;
mod check;
mod errors;
mod expand;
mod projection;

use proc_macro::TokenStream;
use syn::{Data, DeriveInput, parse_macro_input};

/// See `kvs::KeyValueStore`.
#[proc_macro_derive(KeyValueStore, attributes(kvs))]
pub fn derive_key_value_store(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    let (model, checked) = ast::Model::from_input(&input);
    let items = model.map(|model| expand::model(&model));
    let errors = checked.err().map(|e| e.to_compile_error());
    quote::quote! { #errors #items }.into()
}

/// See `kvs::Projection`.
#[proc_macro_derive(Projection, attributes(kvs))]
pub fn derive_projection(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    projection::derive(&input).into()
}

/// See `kvs::Nested`.
#[proc_macro_derive(Nested, attributes(kvs))]
pub fn derive_nested(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    let mut errors = errors::Errors::default();
    let out = match &input.data {
        Data::Enum(e) => {
            if !input.generics.params.is_empty() {
                errors.at(input.ident.span(), "a nested enum cannot be generic");
            }
            // A key is stored as the variant's name: only a unit-only enum that serde
            // writes so (no representation of its own, no variant written otherwise).
            // `A {}` and `A()` have no fields either, but serde writes them as a map.
            let unit_only = e
                .variants
                .iter()
                .all(|v| matches!(v.fields, syn::Fields::Unit))
                && !attr::serde_changes_representation(&input.attrs)
                && !e
                    .variants
                    .iter()
                    .any(|v| attr::serde_changes_representation(&v.attrs));
            Some(expand::nested_enum(&input, unit_only))
        }
        _ => ast::struct_fields(&input, "nested struct", &mut errors).map(|fields| {
            errors.check(check::nested_has_no_catch_all(&fields));
            errors.check(check::nested_has_no_version(&fields));
            expand::nested_struct(&input, &fields)
        }),
    };
    // As for a model, the items are generated after an error too, unless they cannot
    // name the type (a generic one).
    let out = out.filter(|_| input.generics.params.is_empty());
    let errors = errors.finish().err().map(|e| e.to_compile_error());
    quote::quote! { #errors #out }.into()
}
