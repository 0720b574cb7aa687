//! `impl Model`, the model's inherent items (`fields()`, `partition(..)`, one accessor
//! per index), and the key type.

use proc_macro2::TokenStream;
use quote::quote;

use super::fields::model_fields;
use super::key::{key_of, key_type};
use crate::ast::{Field, Model};

fn key_attr(field: &Field<'_>) -> TokenStream {
    let name = &field.stored;
    let ty = field.ty;
    quote! { ::kvs::KeyAttr::new(#name, <#ty as ::kvs::typed::KeyField>::KEY_TYPE) }
}

fn sort_type(field: Option<&Field<'_>>) -> TokenStream {
    match field {
        Some(f) => {
            let ty = f.ty;
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

    let pk_attr = key_attr(pk);
    let sk_attr = sk.map(|f| {
        let a = key_attr(f);
        quote! { .sort_key(#a) }
    });
    let index_schemas = model.indexes.iter().map(|index| {
        let name = &index.name;
        let p = key_attr(&model.fields[index.partition_key]);
        let s = index.sort_key.map(|s| {
            let a = key_attr(&model.fields[s]);
            quote! { .sort_key(#a) }
        });
        quote! { .index(::kvs::IndexSchema::new(#name, #p) #s) }
    });

    let pk_ty = pk.ty;
    let store_sort = sort_type(sk);
    let partition_doc = format!(
        "A query on one partition of the `{}` store: the items whose `{}` is `value`.",
        store.value(),
        pk.stored
    );
    let index_accessors = model.indexes.iter().map(|index| {
        let accessor = &index.accessor;
        let name = &index.name;
        let p = &model.fields[index.partition_key];
        let p_ty = p.ty;
        let s_ty = sort_type(index.sort_key.map(|s| &model.fields[s]));
        let doc = format!(
            "A query on the index `{}`: the items whose `{}` is `value`.",
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
    // Index key fields must be of key types too.
    let index_key_checks = model.indexes.iter().flat_map(|index| {
        std::iter::once(index.partition_key)
            .chain(index.sort_key)
            .map(|i| {
                let ty = model.fields[i].ty;
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
