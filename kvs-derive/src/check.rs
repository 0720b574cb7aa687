//! The rules a model must keep, checked across fields. Every broken rule is reported,
//! each at the span of what broke it.

use syn::{DeriveInput, Ident};

use crate::ast::{Field, Index, Model};
use crate::attr::ContainerAttrs;
use crate::case::snake_case;
use crate::errors::Errors;

/// Names the derive generates on the model itself, which an index accessor must not take.
const RESERVED_ACCESSORS: &[&str] = &["fields", "partition"];

fn find(fields: &[Field<'_>], name: &Ident, role: &str, errors: &mut Errors) -> Option<usize> {
    let found = fields.iter().position(|f| f.ident == name);
    if found.is_none() {
        let known: Vec<String> = fields.iter().map(|f| f.ident.to_string()).collect();
        errors.at(
            name.span(),
            format!(
                "the {role} names a field `{name}` that the struct does not have (fields: {})",
                known.join(", ")
            ),
        );
    }
    found
}

/// A key field must be stored as itself, under one name.
fn check_key_field(field: &Field<'_>, role: &str, errors: &mut Errors) {
    let name = field.ident;
    if let Some(span) = field.attrs.flatten {
        errors.at(
            span,
            format!("`{name}` is the {role}: kvs cannot honour `#[serde(flatten)]` on a key field"),
        );
    }
    if let Some(span) = field.attrs.skip {
        errors.at(
            span,
            format!("`{name}` is the {role}: a key field cannot be skipped by serde"),
        );
    }
    if let Some(span) = field.attrs.skip_if {
        errors.at(
            span,
            format!("`{name}` is the {role}: a key field cannot be `skip_serializing_if`"),
        );
    }
    if let Some(span) = field.attrs.with {
        errors.at(
            span,
            format!(
                "`{name}` is the {role}: kvs cannot honour a custom serde `with` on a key field"
            ),
        );
    }
    if field.attrs.opaque {
        errors.at(
            name.span(),
            format!("`{name}` is the {role}: a key field cannot be `#[kvs(opaque)]`"),
        );
    }
}

pub fn model<'a>(
    input: &'a DeriveInput,
    attrs: ContainerAttrs,
    fields: Vec<Field<'a>>,
    errors: &mut Errors,
) -> Option<Model<'a>> {
    let store = match attrs.store {
        Some(s) if s.value().is_empty() || s.value().contains('\0') => {
            errors.at(s.span(), "the store name must be non-empty and hold no NUL");
            None
        }
        Some(s) => Some(s),
        None => {
            errors.at(
                input.ident.span(),
                "a kvs model needs `#[kvs(store = \"name\", partition_key = field)]`",
            );
            None
        }
    };
    let partition_key = match &attrs.partition_key {
        Some(name) => find(&fields, name, "partition key", errors),
        None => {
            errors.at(
                input.ident.span(),
                "a kvs model needs a partition key: add `#[kvs(partition_key = field)]`",
            );
            None
        }
    };
    let sort_key = attrs
        .sort_key
        .as_ref()
        .and_then(|name| find(&fields, name, "sort key", errors));
    if let (Some(p), Some(s), Some(name)) = (partition_key, sort_key, &attrs.sort_key)
        && p == s
    {
        {
            errors.at(
                name.span(),
                "the sort key must be another field than the partition key",
            );
        }
    }
    if let Some(p) = partition_key {
        check_key_field(&fields[p], "partition key", errors);
    }
    if let Some(s) = sort_key {
        check_key_field(&fields[s], "sort key", errors);
    }

    let mut indexes: Vec<Index> = Vec::new();
    for index in &attrs.indexes {
        let name = index.name.value();
        let mut ok = true;
        if name.is_empty() || name.contains('\0') {
            errors.at(
                index.name.span(),
                "an index name must be non-empty and hold no NUL",
            );
            ok = false;
        }
        if indexes.iter().any(|i| i.name.value() == name) {
            errors.at(
                index.name.span(),
                format!("the index name \"{name}\" is declared twice"),
            );
            ok = false;
        }
        let accessor = snake_case(&name);
        if RESERVED_ACCESSORS.contains(&accessor.as_str()) {
            errors.at(index.name.span(), format!("the index \"{name}\" would get the accessor `{accessor}`, which kvs uses itself: rename the index"));
            ok = false;
        }
        let accessor = match syn::parse_str::<Ident>(&accessor) {
            Ok(ident) => {
                Some(Ident::new(&accessor, index.name.span())).filter(|_| ident == accessor)
            }
            Err(_) => {
                errors.at(index.name.span(), format!("the index name \"{name}\" does not make a Rust function name (`{accessor}`)"));
                None
            }
        };
        if indexes
            .iter()
            .any(|i| Some(&i.accessor) == accessor.as_ref())
        {
            errors.at(
                index.name.span(),
                format!("two indexes would get the accessor `{}`", snake_case(&name)),
            );
            ok = false;
        }
        let pk = match &index.partition_key {
            Some(field) => find(
                &fields,
                field,
                &format!("partition key of index \"{name}\""),
                errors,
            ),
            None => {
                errors.at(
                    index.span,
                    format!("the index \"{name}\" needs `partition_key = field`"),
                );
                None
            }
        };
        let sk = index.sort_key.as_ref().and_then(|field| {
            find(
                &fields,
                field,
                &format!("sort key of index \"{name}\""),
                errors,
            )
        });
        if let (Some(p), Some(s), Some(field)) = (pk, sk, &index.sort_key)
            && p == s
        {
            {
                errors.at(
                    field.span(),
                    "an index's sort key must be another field than its partition key",
                );
            }
        }
        for k in pk.iter().chain(&sk) {
            check_key_field(&fields[*k], &format!("key of index \"{name}\""), errors);
        }
        if let (true, Some(accessor), Some(partition_key)) = (ok, accessor, pk) {
            indexes.push(Index {
                name: index.name.clone(),
                accessor,
                partition_key,
                sort_key: sk,
            });
        }
    }
    Some(Model {
        ident: &input.ident,
        vis: &input.vis,
        store: store?,
        fields,
        partition_key: partition_key?,
        sort_key,
        indexes,
    })
}
