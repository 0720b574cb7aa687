//! Parsing of `#[kvs(..)]` and of the `#[serde(..)]` attributes that decide stored names.
//!
//! Every problem is collected (not returned at the first), so that the user sees all
//! of them at once.

use syn::meta::ParseNestedMeta;
use syn::{Attribute, Ident, LitStr, Token};

use crate::case::RenameRule;
use crate::errors::Errors;

/// `index(name = "..", partition_key = field, sort_key = field)`.
pub struct IndexAttr {
    pub name: LitStr,
    pub partition_key: Option<Ident>,
    pub sort_key: Option<Ident>,
    pub span: proc_macro2::Span,
}

/// The `#[kvs(..)]` attributes of a model.
#[derive(Default)]
pub struct ContainerAttrs {
    pub store: Option<LitStr>,
    pub partition_key: Option<Ident>,
    pub sort_key: Option<Ident>,
    pub indexes: Vec<IndexAttr>,
    /// `ttl = field`: the field whose time the model's items expire at.
    pub ttl: Option<Ident>,
}

/// What serde says of a container.
#[derive(Default)]
pub struct SerdeContainer {
    pub rename_all: Option<RenameRule>,
}

/// What serde and kvs say of a field.
#[derive(Default)]
pub struct FieldAttrs {
    /// `#[serde(rename = "..")]`.
    pub rename: Option<String>,
    /// `#[serde(flatten)]`, with its span.
    pub flatten: Option<proc_macro2::Span>,
    /// `#[serde(skip)]`, `skip_serializing` or `skip_deserializing`.
    pub skip: Option<proc_macro2::Span>,
    /// `#[serde(skip_serializing_if = ..)]`.
    pub skip_if: Option<proc_macro2::Span>,
    /// `#[serde(with | serialize_with | deserialize_with = ..)]`.
    pub with: Option<proc_macro2::Span>,
    /// `#[serde(alias = ..)]`: another name the field is read from.
    pub alias: Option<proc_macro2::Span>,
    /// `#[kvs(opaque)]`: no typed path for this field.
    pub opaque: bool,
    /// `#[kvs(catch_all)]`, with its span: the field keeps the attributes the model does
    /// not declare.
    pub catch_all: Option<proc_macro2::Span>,
    /// `#[kvs(version)]`, with its span: the field is the model's version attribute.
    pub version: Option<proc_macro2::Span>,
}

pub fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    // Consume `= value` or `(...)` of a serde attribute kvs does not care about.
    if meta.input.peek(Token![=]) {
        let _: syn::Expr = meta.value()?.parse()?;
    } else if meta.input.peek(syn::token::Paren) {
        let content;
        syn::parenthesized!(content in meta.input);
        let _: proc_macro2::TokenStream = content.parse()?;
    }
    Ok(())
}

fn ident_value(meta: &ParseNestedMeta<'_>) -> syn::Result<Ident> {
    meta.value()?.parse()
}

/// Sets a single-valued option, refusing a repeat (in one attribute or across several)
/// with an error at the repeat: the first value is kept.
fn once<T>(slot: &mut Option<T>, value: T, path: &syn::Path, of: &str, errors: &mut Errors) {
    if slot.is_some() {
        let name = path.get_ident().map(Ident::to_string).unwrap_or_default();
        errors.spanned(path, format!("`{name}` is given twice: {of} takes one"));
    } else {
        *slot = Some(value);
    }
}

impl ContainerAttrs {
    pub fn parse(attrs: &[Attribute], errors: &mut Errors) -> Self {
        let mut out = ContainerAttrs::default();
        for attr in attrs.iter().filter(|a| a.path().is_ident("kvs")) {
            let result = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("store") {
                    let lit: LitStr = meta.value()?.parse()?;
                    once(&mut out.store, lit, &meta.path, "a model", errors);
                } else if meta.path.is_ident("partition_key") {
                    let field = ident_value(&meta)?;
                    once(&mut out.partition_key, field, &meta.path, "a model", errors);
                } else if meta.path.is_ident("sort_key") {
                    let field = ident_value(&meta)?;
                    once(&mut out.sort_key, field, &meta.path, "a model", errors);
                } else if meta.path.is_ident("ttl") {
                    let field = ident_value(&meta)?;
                    once(&mut out.ttl, field, &meta.path, "a model", errors);
                } else if meta.path.is_ident("index") {
                    let span = meta.path.get_ident().map_or_else(proc_macro2::Span::call_site, Ident::span);
                    let mut name = None;
                    let mut partition_key = None;
                    let mut sort_key = None;
                    meta.parse_nested_meta(|inner| {
                        if inner.path.is_ident("name") {
                            let lit = inner.value()?.parse::<LitStr>()?;
                            once(&mut name, lit, &inner.path, "an index", errors);
                        } else if inner.path.is_ident("partition_key") {
                            let field = ident_value(&inner)?;
                            once(&mut partition_key, field, &inner.path, "an index", errors);
                        } else if inner.path.is_ident("sort_key") {
                            let field = ident_value(&inner)?;
                            once(&mut sort_key, field, &inner.path, "an index", errors);
                        } else {
                            return Err(inner.error(
                                "unknown index attribute: expected `name`, `partition_key` or `sort_key`",
                            ));
                        }
                        Ok(())
                    })?;
                    match name {
                        Some(name) => out.indexes.push(IndexAttr {
                            name,
                            partition_key,
                            sort_key,
                            span,
                        }),
                        None => errors.push(syn::Error::new(span, "an index needs `name = \"...\"`")),
                    }
                } else {
                    return Err(meta.error(
                        "unknown kvs attribute: expected `store`, `partition_key`, `sort_key`, `index(..)` or `ttl`",
                    ));
                }
                Ok(())
            });
            if let Err(e) = result {
                errors.push(e);
            }
        }
        out
    }
}

/// Whether serde attributes among `attrs` write an enum, or a variant, as something other
/// than its variant's name: `untagged`, `tag`, `content`, a conversion (`from`,
/// `try_from`, `into`), `remote`, `transparent`, or a variant's `skip`,
/// `skip_serializing`, `serialize_with` or `with` (a variant serde cannot write is no
/// key either).
pub fn serde_changes_representation(attrs: &[Attribute]) -> bool {
    const CHANGING: [&str; 12] = [
        "untagged",
        "skip",
        "tag",
        "content",
        "from",
        "try_from",
        "into",
        "remote",
        "transparent",
        "skip_serializing",
        "serialize_with",
        "with",
    ];
    let mut found = false;
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        // An attribute that does not parse is serde's own error to report.
        let _ = attr.parse_nested_meta(|meta| {
            found |= CHANGING.iter().any(|c| meta.path.is_ident(c));
            skip_value(&meta)
        });
    }
    found
}

impl SerdeContainer {
    pub fn parse(attrs: &[Attribute], errors: &mut Errors) -> Self {
        let mut out = SerdeContainer::default();
        for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
            let result = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("rename_all") {
                    if meta.input.peek(Token![=]) {
                        let lit: LitStr = meta.value()?.parse()?;
                        out.rename_all = Some(RenameRule::parse(&lit)?);
                    } else {
                        // rename_all(serialize = "..", deserialize = "..")
                        let mut rules = Vec::new();
                        meta.parse_nested_meta(|inner| {
                            let lit: LitStr = inner.value()?.parse()?;
                            rules.push(RenameRule::parse(&lit)?);
                            Ok(())
                        })?;
                        if rules.len() != 2 || rules[0] != rules[1] {
                            return Err(meta.error(
                                "kvs needs one stored name per field: give rename_all the same rule for serialize and deserialize",
                            ));
                        }
                        out.rename_all = rules.first().copied();
                    }
                } else if ["transparent", "from", "try_from", "into", "remote"]
                    .iter()
                    .any(|p| meta.path.is_ident(p))
                {
                    let name = meta.path.get_ident().map(Ident::to_string).unwrap_or_default();
                    errors.push(meta.error(format!(
                        "kvs cannot honour `#[serde({name})]` on a model: an item must be stored as the struct's own fields"
                    )));
                    skip_value(&meta)?;
                } else {
                    skip_value(&meta)?;
                }
                Ok(())
            });
            if let Err(e) = result {
                errors.push(e);
            }
        }
        out
    }
}

impl FieldAttrs {
    pub fn parse(attrs: &[Attribute], errors: &mut Errors) -> Self {
        let mut out = FieldAttrs::default();
        for attr in attrs {
            if attr.path().is_ident("kvs") {
                let result = attr.parse_nested_meta(|meta| {
                    let span = meta
                        .path
                        .get_ident()
                        .map_or_else(proc_macro2::Span::call_site, Ident::span);
                    if meta.path.is_ident("opaque") {
                        let mut opaque = out.opaque.then_some(());
                        once(&mut opaque, (), &meta.path, "a field", errors);
                        out.opaque = true;
                        Ok(())
                    } else if meta.path.is_ident("catch_all") {
                        once(&mut out.catch_all, span, &meta.path, "a field", errors);
                        Ok(())
                    } else if meta.path.is_ident("version") {
                        once(&mut out.version, span, &meta.path, "a field", errors);
                        Ok(())
                    } else {
                        Err(meta.error(
                            "unknown kvs field attribute: expected `opaque`, `catch_all` or `version`",
                        ))
                    }
                });
                if let Err(e) = result {
                    errors.push(e);
                }
            } else if attr.path().is_ident("serde") {
                let result = attr.parse_nested_meta(|meta| {
                    let span = meta.path.get_ident().map_or_else(proc_macro2::Span::call_site, Ident::span);
                    if meta.path.is_ident("rename") {
                        if meta.input.peek(Token![=]) {
                            out.rename = Some(meta.value()?.parse::<LitStr>()?.value());
                        } else {
                            let mut names = Vec::new();
                            meta.parse_nested_meta(|inner| {
                                names.push(inner.value()?.parse::<LitStr>()?.value());
                                Ok(())
                            })?;
                            if names.len() != 2 || names[0] != names[1] {
                                return Err(meta.error(
                                    "kvs needs one stored name per field: give rename the same name for serialize and deserialize",
                                ));
                            }
                            out.rename = names.into_iter().next();
                        }
                    } else if meta.path.is_ident("flatten") {
                        out.flatten = Some(span);
                    } else if meta.path.is_ident("skip")
                        || meta.path.is_ident("skip_serializing")
                        || meta.path.is_ident("skip_deserializing")
                    {
                        out.skip = Some(span);
                    } else if meta.path.is_ident("skip_serializing_if") {
                        out.skip_if = Some(span);
                        skip_value(&meta)?;
                    } else if meta.path.is_ident("with")
                        || meta.path.is_ident("serialize_with")
                        || meta.path.is_ident("deserialize_with")
                    {
                        out.with = Some(span);
                        skip_value(&meta)?;
                    } else if meta.path.is_ident("alias") {
                        out.alias = Some(span);
                        skip_value(&meta)?;
                    } else {
                        skip_value(&meta)?;
                    }
                    Ok(())
                });
                if let Err(e) = result {
                    errors.push(e);
                }
            }
        }
        out
    }
}
