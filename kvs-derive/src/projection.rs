//! `#[derive(Projection)]`: a struct that reads some fields of a model.
//!
//! The derive reads `#[kvs(model = Order)]` and the struct's fields (their stored names
//! after serde's renames), refuses what a projection cannot be, and generates the
//! `Projection` impl with checks that only the compiler can make, each spanned at the
//! projection's field: the model has a field of that name (its typed path accessor),
//! of the same type (`TypedPath::Value`), stored under the same name (the model's
//! hidden table of stored names, `Model::__KVS_STORED_NAMES`).

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Attribute, DeriveInput, Path};

use crate::ast::{Field, struct_fields};
use crate::errors::Errors;

/// The model named by `#[kvs(model = ..)]`.
fn model_path(attrs: &[Attribute], input: &DeriveInput, errors: &mut Errors) -> Option<Path> {
    let mut model: Option<Path> = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("kvs")) {
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("model") {
                let path: Path = meta.value()?.parse()?;
                if model.is_some() {
                    errors.spanned(&meta.path, "`model` is given twice: a projection has one");
                } else {
                    model = Some(path);
                }
                Ok(())
            } else {
                Err(meta.error("unknown kvs attribute of a projection: expected `model = Model`"))
            }
        });
        if let Err(e) = result {
            errors.push(e);
        }
    }
    if model.is_none() {
        errors.at(
            input.ident.span(),
            "a projection names its model: add `#[kvs(model = YourModel)]`",
        );
    }
    model
}

/// Whether the struct has `#[serde(deny_unknown_fields)]`.
fn denies_unknown_fields(attrs: &[Attribute]) -> Option<proc_macro2::Span> {
    let mut found = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("deny_unknown_fields") {
                found = Some(meta.path.span());
            }
            crate::attr::skip_value(&meta)
        });
    }
    found
}

/// The rules of a projection's fields: each is read by its own name, as itself.
fn check_fields(fields: &[Field<'_>], errors: &mut Errors) {
    for f in fields {
        let what = if let Some(span) = f.attrs.flatten {
            Some((span, "`#[serde(flatten)]`"))
        } else if let Some(span) = f.attrs.skip {
            Some((span, "`#[serde(skip..)]`"))
        } else if let Some(span) = f.attrs.with {
            Some((span, "`#[serde(with = ..)]`"))
        } else if let Some(span) = f.attrs.alias {
            // The backends that project ask only for the declared names, and the others
            // hand serde the whole item: an alias would read another attribute on some.
            Some((span, "`#[serde(alias = ..)]`"))
        } else if let Some(span) = f.attrs.catch_all.or(f.attrs.version) {
            Some((span, "a kvs field attribute"))
        } else if f.attrs.opaque {
            Some((f.ident.span(), "`#[kvs(opaque)]`"))
        } else {
            None
        };
        if let Some((span, what)) = what {
            errors.at(
                span,
                format!(
                    "a projection field cannot have {what}: it reads the model's field of the \
                     same name, as it is stored"
                ),
            );
        }
    }
}

/// `#[derive(Projection)]`.
pub fn derive(input: &DeriveInput) -> TokenStream {
    let mut errors = Errors::default();
    let model = model_path(&input.attrs, input, &mut errors);
    let fields = struct_fields(input, "projection", &mut errors);
    if let Some(fields) = &fields {
        check_fields(fields, &mut errors);
        if fields.is_empty() {
            errors.at(input.ident.span(), "a projection reads at least one field");
        }
    }
    if let Some(span) = denies_unknown_fields(&input.attrs) {
        errors.at(
            span,
            "a projection cannot deny unknown fields: a store without native projections \
             gives it the whole item",
        );
    }
    let items = match (model, fields) {
        (Some(model), Some(fields)) if input.generics.params.is_empty() => {
            Some(expand(input, &model, &fields, errors.is_empty()))
        }
        _ => None,
    };
    let errors = errors.finish().err().map(|e| e.to_compile_error());
    quote! { #errors #items }
}

fn expand(input: &DeriveInput, model: &Path, fields: &[Field<'_>], checked: bool) -> TokenStream {
    let ident = &input.ident;
    let stored: Vec<&String> = fields.iter().map(|f| &f.stored).collect();
    // The checks run only on a projection without errors of its own, so that the
    // derive's errors are not followed by the compiler's.
    let checks = checked.then(|| {
        let types = fields.iter().map(|f| {
            let (name, ty) = (f.ident, f.ty);
            quote_spanned! {f.ty.span()=>
                ::kvs::__private::projected_field::<#model, #ty, _>(&fields.#name());
            }
        });
        let names = fields.iter().map(|f| {
            use syn::ext::IdentExt as _;
            let rust = f.ident.unraw().to_string();
            let stored = &f.stored;
            let message = format!(
                "projection field `{}` of `{ident}` is stored as \"{stored}\", and the model's \
                 field under another name: give it the model's serde name (rename or rename_all)",
                f.ident
            );
            quote_spanned! {f.ident.span()=>
                ::kvs::__private::std::assert!(
                    ::kvs::__private::stored_as(<#model as ::kvs::Model>::__KVS_STORED_NAMES, #rust, #stored),
                    #message
                );
            }
        });
        quote! {
            const _: () = {
                #[allow(dead_code)]
                fn __kvs_projection_fields_match() {
                    let fields = #model::fields();
                    #(#types)*
                }
                #(#names)*
            };
        }
    });
    quote! {
        impl ::kvs::typed::Projection for #ident {
            type Model = #model;
            const ATTRIBUTES: &'static [&'static str] = &[#(#stored),*];
        }
        #checks
    }
}
