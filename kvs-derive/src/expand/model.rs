//! `impl Model`, the model's inherent items (`fields()`, `partition(..)`, one accessor
//! per index), and the key type.

use proc_macro2::TokenStream;
use quote::quote;
use syn::Type;

use super::fields::model_fields;
use super::key::{key_of, key_type};
use crate::ast::{Field, Model, SortKey, option_inner};

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

/// The type a key field's values take in the generated signatures (the partition
/// value of a query accessor, the sort key type): `key_type_of`. In a model with
/// errors, where the field is unknown or the derive refused its type, a stand-in that
/// takes any key value, so that its uses show no follow-on error.
fn key_value_type(model: &Model<'_>, field: Option<usize>, index: bool) -> TokenStream {
    match field.map(|f| key_type_of(&model.fields[f], index)) {
        Some(ty)
            if !model.broken
                || (crate::check::non_key_type(ty).is_none() && option_inner(ty).is_none()) =>
        {
            quote! { #ty }
        }
        _ => quote! { ::kvs::__private::Unknown },
    }
}

fn sort_type(model: &Model<'_>, sort_key: SortKey, index: bool) -> TokenStream {
    match sort_key {
        SortKey::None => quote! { ::kvs::typed::NoSortKey },
        SortKey::Field(s) => key_value_type(model, Some(s), index),
        SortKey::Unknown => key_value_type(model, None, index),
    }
}

fn key_attr(field: &Field<'_>, index: bool) -> TokenStream {
    let name = &field.stored;
    let ty = key_type_of(field, index);
    quote! { ::kvs::KeyAttr::new(#name, <#ty as ::kvs::typed::KeyField>::KEY_TYPE) }
}

/// The body of `Model::schema`. In a model with errors, a stand-in that names no key
/// type, whose check would repeat the derive's errors. (Nothing runs: the crate does
/// not compile.)
fn schema(model: &Model<'_>, store: &TokenStream) -> TokenStream {
    let Some((pk, sk)) = super::key::key_fields(model) else {
        return quote! {
            ::kvs::StoreSchema::new(#store, ::kvs::KeyAttr::new("", ::kvs::KeyType::String))
        };
    };
    let pk_attr = key_attr(pk, false);
    let sk_attr = sk.map(|f| {
        let a = key_attr(f, false);
        quote! { .sort_key(#a) }
    });
    let index_schemas = model.indexes.iter().filter_map(|index| {
        let name = &index.name;
        let p = key_attr(&model.fields[index.partition_key?], true);
        let s = match index.sort_key {
            SortKey::Field(s) => {
                let a = key_attr(&model.fields[s], true);
                Some(quote! { .sort_key(#a) })
            }
            _ => None,
        };
        Some(quote! { .index(::kvs::IndexSchema::new(#name, #p) #s) })
    });
    let ttl = model.ttl.map(|at| {
        let name = &model.fields[at].stored;
        quote! { .ttl(#name) }
    });
    quote! { ::kvs::StoreSchema::new(#store, #pk_attr) #sk_attr #(#index_schemas)* #ttl }
}

/// `Model::EXPIRY`, for a model whose items expire, and the check of its field's type
/// (reported at the type).
fn expiry(model: &Model<'_>) -> (Option<TokenStream>, Option<TokenStream>) {
    let Some(at) = model.ttl else {
        return (None, None);
    };
    let field = &model.fields[at];
    let (ty, name) = (field.ty, &field.stored);
    let check = quote::quote_spanned! {syn::spanned::Spanned::span(ty)=>
        const _: fn() = || {
            fn expiry_field<T: ::kvs::typed::ExpiryField>() {}
            expiry_field::<#ty>();
        };
    };
    (
        Some(quote! {
            const EXPIRY: ::kvs::__private::std::option::Option<&'static str> =
                ::kvs::__private::std::option::Option::Some(#name);
        }),
        Some(check),
    )
}

/// `Model::CATCH_ALL`, for a model with a catch-all field. The field's type is checked
/// here: the function pointer's type names `kvs::Item`, and a mismatch is reported at
/// the field's type.
fn catch_all(model: &Model<'_>) -> Option<TokenStream> {
    let field = &model.fields[model.catch_all?];
    let ident = field.ident;
    let ty = field.ty;
    let ty_span = syn::spanned::Spanned::span(ty);
    let access = quote::quote_spanned! {ty_span=>
        {
            fn catch_all(model: &mut #ty) -> &mut ::kvs::Item {
                model
            }
            catch_all(&mut model.#ident)
        }
    };
    Some(quote! {
        const CATCH_ALL: ::kvs::__private::std::option::Option<fn(&mut Self) -> &mut ::kvs::Item> =
            ::kvs::__private::std::option::Option::Some(|model: &mut Self| #access);
    })
}

/// `Model::VERSION` and `impl VersionedModel`, for a model with a version field. The
/// field's type is checked here, through `VersionField`, at the field's type.
fn version(model: &Model<'_>) -> (Option<TokenStream>, Option<TokenStream>) {
    let Some(at) = model.version else {
        return (None, None);
    };
    let field = &model.fields[at];
    let (ident, ty, name) = (field.ident, field.ty, &field.stored);
    let model_ident = model.ident;
    let ty_span = syn::spanned::Spanned::span(ty);
    let max = quote::quote_spanned! {ty_span=> <#ty as ::kvs::typed::VersionField>::MAX };
    let get = quote::quote_spanned! {ty_span=>
        |model: &Self| <#ty as ::kvs::typed::VersionField>::version(&model.#ident)
    };
    (
        Some(quote! {
            const VERSION: ::kvs::__private::std::option::Option<::kvs::typed::VersionAttr<Self>> =
                ::kvs::__private::std::option::Option::Some(::kvs::typed::VersionAttr {
                    name: #name,
                    get: #get,
                    max: #max,
                });
        }),
        Some(quote! { impl ::kvs::typed::VersionedModel for #model_ident {} }),
    )
}

pub fn model(model: &Model<'_>) -> TokenStream {
    let ident = model.ident;
    let vis = model.vis;
    // A model with errors may have no store name: its own name stands in.
    let store = match &model.store {
        Some(store) => quote! { #store },
        None => {
            let name = ident.to_string();
            quote! { #name }
        }
    };
    let store_name = model
        .store
        .as_ref()
        .map_or_else(|| ident.to_string(), syn::LitStr::value);
    let key_ident = quote::format_ident!("{}Key", ident);
    let fields_ident = quote::format_ident!("{}Fields", ident);

    let pk_ty = key_value_type(model, model.partition_key, false);
    let store_sort = sort_type(model, model.sort_key, false);
    let pk_stored = model
        .partition_key
        .map_or("", |p| model.fields[p].stored.as_str());
    let partition_doc = format!(
        "A query on one partition of the `{store_name}` store: the items whose `{pk_stored}` is `value`."
    );
    let index_accessors = model.indexes.iter().map(|index| {
        let accessor = &index.accessor;
        let name = &index.name;
        let p_ty = key_value_type(model, index.partition_key, true);
        let s_ty = sort_type(model, index.sort_key, true);
        let p_stored = index
            .partition_key
            .map_or("", |p| model.fields[p].stored.as_str());
        let doc = format!(
            "A query on the index `{}`: the items whose `{p_stored}` is `value` (an item without one is not in the index).",
            name.value(),
        );
        quote! {
            #[doc = #doc]
            #vis fn #accessor(value: impl ::kvs::typed::IntoFieldValue<#p_ty>) -> ::kvs::typed::KeyQuery<#ident, #s_ty> {
                ::kvs::typed::KeyQuery::new(::kvs::__private::std::option::Option::Some(#name), &value.into_field())
            }
        }
    });

    let mut key_fields: Vec<usize> = model.partition_key.into_iter().collect();
    if let SortKey::Field(s) = model.sort_key {
        key_fields.push(s);
    }
    let fields_struct = model_fields(ident, vis, &model.fields, &key_fields);
    // Index key fields must be of key types too (or an `Option` of one). In a model with
    // errors, a key type the derive refused is not reported again.
    let index_key_checks = model
        .indexes
        .iter()
        .filter(|_| !model.broken)
        .flat_map(|index| {
            let sort = match index.sort_key {
                SortKey::Field(s) => Some(s),
                _ => None,
            };
            index.partition_key.into_iter().chain(sort).map(|i| {
                let ty = key_type_of(&model.fields[i], true);
                quote::quote_spanned! {syn::spanned::Spanned::span(ty)=>
                    let _ = <#ty as ::kvs::typed::KeyField>::KEY_TYPE;
                }
            })
        });
    let key_type = key_type(model);
    let key_of = key_of(model);
    let schema = schema(model, &store);
    let catch_all = catch_all(model);
    let (version_const, versioned) = version(model);
    let (expiry_const, expiry_check) = expiry(model);
    // The stored name of each field by its Rust name, for `#[derive(Projection)]` to
    // check at compile time that a projection stores its fields under the model's names.
    let stored_names = model.fields.iter().filter(|f| f.addressable()).map(|f| {
        use syn::ext::IdentExt as _;
        let rust = f.ident.unraw().to_string();
        let stored = &f.stored;
        quote! { (#rust, #stored) }
    });
    let stored_names = quote! {
        const __KVS_STORED_NAMES: &'static [(&'static str, &'static str)] = &[#(#stored_names),*];
    };
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
            #catch_all
            #version_const
            #expiry_const
            #stored_names

            fn schema() -> ::kvs::StoreSchema {
                #schema
            }

            fn key(&self) -> #key_ident {
                #key_of
            }
        }

        #versioned
        #expiry_check
    }
}
