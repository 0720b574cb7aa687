//! `impl Model`, the model's inherent items (`fields()`, `partition(..)`, one accessor
//! per index), and the key type.

use proc_macro2::TokenStream;
use quote::quote;
use syn::Type;

use super::fields::model_fields;
use super::key::{key_of, key_type};
use crate::ast::{Field, Model, option_inner};

/// The key type of a key field: its own type, or for an index key spelled `Option<K>`
/// (a sparse index), `K`, which the index accessor and its sort conditions take.
///
/// The `Option` is recognised by its spelling rather than through a trait, so that the
/// generated code names `K` itself, with its own spans: a `K` that is no key type is
/// then reported once, at `K` in the source, as for the store's own keys. (A trait
/// projection, `<Option<K> as Trait>::Key`, is reported again at every use, most of
/// them at the derive.) An `Option` behind a type alias is therefore not recognised,
/// and the `KeyField` bound says that it is no key type.
fn key_type_of<'a>(field: &Field<'a>, index: bool) -> &'a Type {
    match option_inner(field.ty) {
        Some(inner) if index => inner,
        _ => field.ty,
    }
}

fn key_attr(field: &Field<'_>, index: bool) -> TokenStream {
    let name = &field.stored;
    let ty = key_type_of(field, index);
    quote! { ::kvs::KeyAttr::new(#name, <#ty as ::kvs::typed::KeyField>::KEY_TYPE) }
}

fn sort_type(field: Option<&Field<'_>>, index: bool) -> TokenStream {
    match field {
        Some(f) => {
            let ty = key_type_of(f, index);
            quote! { #ty }
        }
        None => quote! { ::kvs::typed::NoSortKey },
    }
}

pub fn model(model: &Model<'_>) -> TokenStream {
    let ident = model.ident;
    let vis = model.vis;
    let store = &model.store;
    let pk = &model.fields[model.partition_key];
    let sk = model.sort_key.map(|s| &model.fields[s]);
    let key_ident = quote::format_ident!("{}Key", ident);
    let fields_ident = quote::format_ident!("{}Fields", ident);

    let pk_attr = key_attr(pk, false);
    let sk_attr = sk.map(|f| {
        let a = key_attr(f, false);
        quote! { .sort_key(#a) }
    });
    let index_schemas = model.indexes.iter().map(|index| {
        let name = &index.name;
        let p = key_attr(&model.fields[index.partition_key], true);
        let s = index.sort_key.map(|s| {
            let a = key_attr(&model.fields[s], true);
            quote! { .sort_key(#a) }
        });
        quote! { .index(::kvs::IndexSchema::new(#name, #p) #s) }
    });

    let pk_ty = pk.ty;
    let store_sort = sort_type(sk, false);
    let partition_doc = format!(
        "A query on one partition of the `{}` store: the items whose `{}` is `value`.",
        store.value(),
        pk.stored
    );
    let index_accessors = model.indexes.iter().map(|index| {
        let accessor = &index.accessor;
        let name = &index.name;
        let p = &model.fields[index.partition_key];
        let p_ty = key_type_of(p, true);
        let s_ty = sort_type(index.sort_key.map(|s| &model.fields[s]), true);
        let doc = format!(
            "A query on the index `{}`: the items whose `{}` is `value` (an item without one is not in the index).",
            name.value(),
            p.stored
        );
        quote! {
            #[doc = #doc]
            #vis fn #accessor(value: impl ::kvs::typed::IntoFieldValue<#p_ty>) -> ::kvs::typed::KeyQuery<#ident, #s_ty> {
                ::kvs::typed::KeyQuery::new(::kvs::__private::std::option::Option::Some(#name), &value.into_field())
            }
        }
    });

    let mut key_fields = vec![model.partition_key];
    key_fields.extend(model.sort_key);
    let fields_struct = model_fields(ident, vis, &model.fields, &key_fields);
    // Index key fields must be of key types too (or an `Option` of one).
    let index_key_checks = model.indexes.iter().flat_map(|index| {
        std::iter::once(index.partition_key)
            .chain(index.sort_key)
            .map(|i| {
                let ty = key_type_of(&model.fields[i], true);
                quote::quote_spanned! {syn::spanned::Spanned::span(ty)=>
                    let _ = <#ty as ::kvs::typed::KeyField>::KEY_TYPE;
                }
            })
    });
    let key_type = key_type(model);
    let key_of = key_of(model);
    // A model can also be a field of another model (a cache entry holding a user):
    // within another model its key fields are plain fields.
    let nested = super::fields::nested_paths(
        ident,
        vis,
        &model.fields,
        quote::format_ident!("{}NestedFields", ident),
    );

    quote! {
        #key_type
        #fields_struct
        #nested

        const _: () = { #(#index_key_checks)* };

        // A program need not use every query accessor.
        #[allow(dead_code)]
        impl #ident {
            /// The typed paths of this model's fields.
            #vis fn fields() -> #fields_ident {
                #fields_ident
            }

            #[doc = #partition_doc]
            #vis fn partition(value: impl ::kvs::typed::IntoFieldValue<#pk_ty>) -> ::kvs::typed::KeyQuery<#ident, #store_sort> {
                ::kvs::typed::KeyQuery::new(::kvs::__private::std::option::Option::None, &value.into_field())
            }

            #(#index_accessors)*
        }

        impl ::kvs::Model for #ident {
            type Key = #key_ident;
            type SortKey = #store_sort;
            const STORE: &'static str = #store;

            fn schema() -> ::kvs::StoreSchema {
                ::kvs::StoreSchema::new(#store, #pk_attr) #sk_attr #(#index_schemas)*
            }

            fn key(&self) -> #key_ident {
                #key_of
            }
        }
    }
}
