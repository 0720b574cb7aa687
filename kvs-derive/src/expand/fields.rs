//! Typed field paths: `OrderFields` for a model, `AddressFields<M>` for a nested struct,
//! and the `FieldType` impls of nested types.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{DeriveInput, Ident, Visibility};

use crate::ast::Field;

/// One accessor per addressable field. `root` builds the field's path from its stored
/// name; `model` is the model type the paths belong to.
fn accessors(
    fields: &[Field<'_>],
    key_fields: &[usize],
    model: &TokenStream,
    root: impl Fn(&str) -> TokenStream,
    vis: &Visibility,
) -> TokenStream {
    let items = fields
        .iter()
        .enumerate()
        .filter(|(_, f)| f.addressable())
        .map(|(i, f)| {
            let ident = f.ident;
            let ty = f.ty;
            let path = root(&f.stored);
            let doc = format!("The typed path of `{}` (stored as `{}`).", ident, f.stored);
            if key_fields.contains(&i) {
                quote_spanned! {ty.span()=>
                    #[doc = #doc]
                    #vis fn #ident(&self) -> ::kvs::Field<#model, #ty, ::kvs::typed::KeyRole> {
                        ::kvs::__private::std::convert::From::from(#path)
                    }
                }
            } else {
                quote_spanned! {ty.span()=>
                    #[doc = #doc]
                    #vis fn #ident(&self) -> <#ty as ::kvs::typed::FieldType>::Fields<#model, ::kvs::typed::Plain> {
                        ::kvs::__private::std::convert::From::from(#path)
                    }
                }
            }
        });
    quote! { #(#items)* }
}

/// `OrderFields`: the typed paths of a model's fields.
pub fn model_fields(
    model_ident: &Ident,
    vis: &Visibility,
    fields: &[Field<'_>],
    key_fields: &[usize],
) -> TokenStream {
    let fields_ident = format_ident!("{}Fields", model_ident);
    let doc =
        format!("The typed paths of the fields of [`{model_ident}`]: `{model_ident}::fields()`.");
    let model = quote! { #model_ident };
    let accessors = accessors(
        fields,
        key_fields,
        &model,
        |name| quote! { ::kvs::Path::attr(#name) },
        vis,
    );
    quote! {
        #[doc = #doc]
        #[derive(Debug, Clone, Copy, Default)]
        #[allow(dead_code)]
        #vis struct #fields_ident;

        // A program need not use every field's path.
        #[allow(dead_code)]
        impl #fields_ident {
            #accessors
        }
    }
}

/// `#[derive(Nested)]` on a struct: `AddressFields<M>` and `FieldType for Address`.
pub fn nested_struct(input: &DeriveInput, fields: &[Field<'_>]) -> TokenStream {
    nested_paths(
        &input.ident,
        &input.vis,
        fields,
        format_ident!("{}Fields", input.ident),
    )
}

/// The typed paths of a struct's fields within a model `M` (`fields_ident<M, R>`, `R`
/// the role of the place the whole struct is at: a field, a map entry, a list
/// position), and its `FieldType` impl: what makes a struct usable inside a model. A
/// model gets it too (under `{Model}NestedFields`), so that a model can be kept inside
/// another.
pub fn nested_paths(
    ident: &Ident,
    vis: &Visibility,
    fields: &[Field<'_>],
    fields_ident: Ident,
) -> TokenStream {
    let doc = format!(
        "The typed paths of the fields of [`{ident}`], nested in a model `M`, at a place of role `R` (a field, a map entry, a list position). It dereferences to the path of the whole value, for conditions on it."
    );
    let model = quote! { M };
    let accessors = accessors(
        fields,
        &[],
        &model,
        |name| quote! { ::kvs::TypedPath::path(&self.whole).clone().key(#name) },
        vis,
    );
    quote! {
        #[doc = #doc]
        #[allow(dead_code)]
        #vis struct #fields_ident<M, R = ::kvs::typed::Plain> {
            whole: ::kvs::Field<M, #ident, R>,
        }

        impl<M, R> ::kvs::__private::std::convert::From<::kvs::Path> for #fields_ident<M, R> {
            fn from(path: ::kvs::Path) -> Self {
                #fields_ident { whole: ::kvs::__private::std::convert::From::from(path) }
            }
        }

        impl<M, R> ::kvs::__private::std::clone::Clone for #fields_ident<M, R> {
            fn clone(&self) -> Self {
                #fields_ident { whole: ::kvs::__private::std::clone::Clone::clone(&self.whole) }
            }
        }

        impl<M, R> ::kvs::__private::std::ops::Deref for #fields_ident<M, R> {
            type Target = ::kvs::Field<M, #ident, R>;
            fn deref(&self) -> &Self::Target {
                &self.whole
            }
        }

        impl<M, R> ::kvs::TypedPath for #fields_ident<M, R> {
            type Model = M;
            type Value = #ident;
            type Role = R;
            fn path(&self) -> &::kvs::Path {
                ::kvs::TypedPath::path(&self.whole)
            }
        }

        #[allow(dead_code)]
        impl<M: 'static, R> #fields_ident<M, R> {
            #accessors
        }

        impl ::kvs::typed::FieldType for #ident {
            type Compare = #ident;
            type Fields<M: 'static, R: 'static> = #fields_ident<M, R>;
        }
    }
}

/// `#[derive(Nested)]` on an enum: a plain value; a unit-only enum is also a key type
/// (stored as its variant name).
pub fn nested_enum(input: &DeriveInput, unit_only: bool) -> TokenStream {
    let ident = &input.ident;
    let key = unit_only.then(|| {
        quote! {
            #[diagnostic::do_not_recommend]
            impl ::kvs::typed::KeyField for #ident {
                const KEY_TYPE: ::kvs::KeyType = ::kvs::KeyType::String;
            }
            #[diagnostic::do_not_recommend]
            impl ::kvs::typed::SortKeyType for #ident {
                type Value = #ident;
            }
        }
    });
    let ty_span = ident.span();
    quote_spanned! {ty_span=>
        impl ::kvs::typed::FieldType for #ident {
            type Compare = #ident;
            type Fields<M: 'static, R: 'static> = ::kvs::Field<M, #ident, R>;
        }
        #key
    }
}
