//! The key type of a model: `OrderKey`, with conversions from the key values.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use crate::ast::{Field, Model, SortKey};

/// The key fields of a model, if they are known and usable: always, unless the model
/// has errors. (In a model with errors, even a key field that was found may be one the
/// derive refused, whose type the key type's derives would report again.)
pub fn key_fields<'m, 'a>(model: &'m Model<'a>) -> Option<(&'m Field<'a>, Option<&'m Field<'a>>)> {
    if model.broken {
        return None;
    }
    let pk = &model.fields[model.partition_key?];
    match model.sort_key {
        SortKey::None => Some((pk, None)),
        SortKey::Field(s) => Some((pk, Some(&model.fields[s]))),
        SortKey::Unknown => None,
    }
}

/// `struct OrderKey`, `From<OrderKey> for Key` and the `KeyFrom` conversions.
pub fn key_type(model: &Model<'_>) -> TokenStream {
    let ident = model.ident;
    let vis = model.vis;
    let key_ident = format_ident!("{}Key", ident);
    let Some((pk, sk)) = key_fields(model) else {
        return stand_in_key_type(model);
    };
    let pk_ident = pk.ident;
    let pk_ty = pk.ty;
    let doc = format!("The key of a [`{ident}`]: its key fields, as the store addresses it.");
    // The fields are public, so they are documented: a crate with
    // `#![deny(missing_docs)]` can have a public model.
    let pk_doc = format!(
        "The partition key: the `{pk_ident}` of the [`{ident}`] (stored as `{}`).",
        pk.stored
    );

    let (fields, to_key, conversions) = match sk {
        None => (
            quote! { #[doc = #pk_doc] pub #pk_ident: #pk_ty, },
            quote! { ::kvs::Key::new(::kvs::__private::into_key_value(key.#pk_ident)) },
            quote! {
                #[diagnostic::do_not_recommend]
                impl<V0: ::kvs::typed::IntoFieldValue<#pk_ty>> ::kvs::typed::KeyFrom<V0> for #key_ident {
                    fn key_from(value: V0) -> Self {
                        #key_ident { #pk_ident: value.into_field() }
                    }
                }
            },
        ),
        Some(sk) => {
            let sk_ident = sk.ident;
            let sk_ty = sk.ty;
            let sk_doc = format!(
                "The sort key: the `{sk_ident}` of the [`{ident}`] (stored as `{}`).",
                sk.stored
            );
            (
                quote! {
                    #[doc = #pk_doc] pub #pk_ident: #pk_ty,
                    #[doc = #sk_doc] pub #sk_ident: #sk_ty,
                },
                quote! {
                    ::kvs::Key::with_sort(
                        ::kvs::__private::into_key_value(key.#pk_ident),
                        ::kvs::__private::into_key_value(key.#sk_ident),
                    )
                },
                quote! {
                    #[diagnostic::do_not_recommend]
                    impl<V0, V1> ::kvs::typed::KeyFrom<(V0, V1)> for #key_ident
                    where
                        V0: ::kvs::typed::IntoFieldValue<#pk_ty>,
                        V1: ::kvs::typed::IntoFieldValue<#sk_ty>,
                    {
                        fn key_from((v0, v1): (V0, V1)) -> Self {
                            #key_ident { #pk_ident: v0.into_field(), #sk_ident: v1.into_field() }
                        }
                    }
                },
            )
        }
    };
    let key_checks = std::iter::once(pk).chain(sk).map(|f| {
        let ty = f.ty;
        quote_spanned! {ty.span()=>
            let _ = <#ty as ::kvs::typed::KeyField>::KEY_TYPE;
        }
    });
    quote! {
        #[doc = #doc]
        #[derive(Debug, Clone, PartialEq)]
        #[allow(dead_code)]
        #vis struct #key_ident {
            #fields
        }

        impl ::kvs::__private::std::convert::From<#key_ident> for ::kvs::Key {
            fn from(key: #key_ident) -> ::kvs::Key {
                #to_key
            }
        }

        impl ::kvs::__private::std::convert::From<&#key_ident> for ::kvs::Key {
            fn from(key: &#key_ident) -> ::kvs::Key {
                ::kvs::__private::std::convert::From::from(::kvs::__private::std::clone::Clone::clone(key))
            }
        }

        impl ::kvs::typed::KeyFrom<#key_ident> for #key_ident {
            fn key_from(key: #key_ident) -> Self {
                key
            }
        }

        impl ::kvs::typed::KeyFrom<&#key_ident> for #key_ident {
            fn key_from(key: &#key_ident) -> Self {
                ::kvs::__private::std::clone::Clone::clone(key)
            }
        }

        #conversions

        // Key fields must be of key types; the error points at the field's type.
        const _: () = { #(#key_checks)* };
    }
}

/// The key type of a model with errors: it takes any key value, so that the model's uses type-check and only the derive's errors show.
/// (Nothing runs: the crate does not compile.)
fn stand_in_key_type(model: &Model<'_>) -> TokenStream {
    let ident = model.ident;
    let vis = model.vis;
    let key_ident = format_ident!("{}Key", ident);
    let doc = format!(
        "The key of a [`{ident}`] (its key fields are not known: see the errors of its derive)."
    );
    quote! {
        #[doc = #doc]
        #[derive(Debug, Clone, PartialEq)]
        #vis struct #key_ident {}

        impl ::kvs::__private::std::convert::From<#key_ident> for ::kvs::Key {
            fn from(_: #key_ident) -> ::kvs::Key {
                ::kvs::Key::new(::kvs::Value::Null)
            }
        }

        impl ::kvs::__private::std::convert::From<&#key_ident> for ::kvs::Key {
            fn from(_: &#key_ident) -> ::kvs::Key {
                ::kvs::Key::new(::kvs::Value::Null)
            }
        }

        impl<V> ::kvs::typed::KeyFrom<V> for #key_ident {
            fn key_from(_: V) -> Self {
                #key_ident {}
            }
        }
    }
}

/// The body of `Model::key`.
pub fn key_of(model: &Model<'_>) -> TokenStream {
    let key_ident = format_ident!("{}Key", model.ident);
    let Some((pk, sk)) = key_fields(model) else {
        return quote! { #key_ident {} };
    };
    let clone_fields = std::iter::once(pk).chain(sk).map(|f| {
        let i = f.ident;
        quote! { #i: ::kvs::__private::std::clone::Clone::clone(&self.#i) }
    });
    quote! { #key_ident { #(#clone_fields),* } }
}
