//! Store schemas as DynamoDB tables: the `CreateTable` input, and `ensure_store`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::operation::create_table::builders::CreateTableInputBuilder;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, GlobalSecondaryIndexUpdate,
    IndexStatus, KeySchemaElement, KeyType as DynamoKeyType, Projection, ProjectionType,
    ScalarAttributeType, TableDescription, TableStatus, TimeToLiveSpecification, TimeToLiveStatus,
};

use super::error::sdk_error;
use crate::{Error, ErrorKind, IndexSchema, KeyAttr, KeyType, Result, StoreSchema};

fn scalar(ty: KeyType) -> ScalarAttributeType {
    match ty {
        KeyType::String => ScalarAttributeType::S,
        KeyType::Number => ScalarAttributeType::N,
        KeyType::Bytes => ScalarAttributeType::B,
    }
}

fn build_error(e: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::backend(format!("building a DynamoDB request: {e}"), e)
}

fn key_schema(partition: &KeyAttr, sort: Option<&KeyAttr>) -> Result<Vec<KeySchemaElement>> {
    let mut out = vec![
        KeySchemaElement::builder()
            .attribute_name(&partition.name)
            .key_type(DynamoKeyType::Hash)
            .build()
            .map_err(build_error)?,
    ];
    if let Some(sort) = sort {
        out.push(
            KeySchemaElement::builder()
                .attribute_name(&sort.name)
                .key_type(DynamoKeyType::Range)
                .build()
                .map_err(build_error)?,
        );
    }
    Ok(out)
}

fn gsi(index: &IndexSchema) -> Result<GlobalSecondaryIndex> {
    GlobalSecondaryIndex::builder()
        .index_name(&index.name)
        .set_key_schema(Some(key_schema(
            &index.partition_key,
            index.sort_key.as_ref(),
        )?))
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::All)
                .build(),
        )
        .build()
        .map_err(build_error)
}

fn attribute_definitions<'a>(
    attrs: impl Iterator<Item = &'a KeyAttr>,
) -> Result<Vec<AttributeDefinition>> {
    // One definition per attribute (the schema checks that each has one type).
    let unique: BTreeMap<&str, KeyType> = attrs.map(|a| (a.name.as_str(), a.ty)).collect();
    unique
        .into_iter()
        .map(|(name, ty)| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(scalar(ty))
                .build()
                .map_err(build_error)
        })
        .collect()
}

/// Checks a table name against DynamoDB's rules: 3 to 255 of `[A-Za-z0-9_.-]`.
pub fn check_table_name(name: &str) -> Result<()> {
    let ok = (3..=255).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(Error::validation(format!(
            "{name:?} is not a DynamoDB table name (3 to 255 letters, digits, '_', '.' or '-')"
        )))
    }
}

/// The `CreateTable` input of a store: its keys, their attribute definitions, one GSI
/// per index with the whole item projected, and on-demand billing. Usable from
/// infrastructure code: `create_table_input("prod-orders", &Order::schema())?.send_with(&client)`.
pub fn create_table_input(
    table_name: &str,
    schema: &StoreSchema,
) -> Result<CreateTableInputBuilder> {
    schema.validate()?;
    check_table_name(table_name)?;
    let mut attrs = vec![&schema.partition_key];
    attrs.extend(&schema.sort_key);
    for index in &schema.indexes {
        attrs.push(&index.partition_key);
        attrs.extend(&index.sort_key);
    }
    let gsis = schema.indexes.iter().map(gsi).collect::<Result<Vec<_>>>()?;
    Ok(
        aws_sdk_dynamodb::operation::create_table::CreateTableInput::builder()
            .table_name(table_name)
            .billing_mode(BillingMode::PayPerRequest)
            .set_attribute_definitions(Some(attribute_definitions(attrs.into_iter())?))
            .set_key_schema(Some(key_schema(
                &schema.partition_key,
                schema.sort_key.as_ref(),
            )?))
            .set_global_secondary_indexes((!gsis.is_empty()).then_some(gsis)),
    )
}

async fn describe(client: &Client, table: &str) -> Result<Option<TableDescription>> {
    match client.describe_table().table_name(table).send().await {
        Ok(out) => Ok(out.table),
        Err(e) => {
            let e = sdk_error("DescribeTable", table, e);
            if e.is(&ErrorKind::StoreNotFound) {
                Ok(None)
            } else {
                Err(e)
            }
        }
    }
}

fn key_names(elements: &[KeySchemaElement]) -> (Option<&str>, Option<&str>) {
    let find = |t: DynamoKeyType| {
        elements
            .iter()
            .find(|e| e.key_type == t)
            .map(|e| e.attribute_name.as_str())
    };
    (find(DynamoKeyType::Hash), find(DynamoKeyType::Range))
}

/// Refuses a table that exists with other keys than the schema declares: the table's
/// key names and types, and those of every index of the schema that the table has (a
/// query must never read an index that sorts or partitions by something else).
fn check_existing(table: &str, desc: &TableDescription, schema: &StoreSchema) -> Result<()> {
    let type_of = |name: &str| {
        desc.attribute_definitions()
            .iter()
            .find(|d| d.attribute_name() == name)
            .map(|d| d.attribute_type().clone())
    };
    let differs = |elements: &[KeySchemaElement], partition: &KeyAttr, sort: Option<&KeyAttr>| {
        let (p, s) = key_names(elements);
        let typed = |a: &KeyAttr| type_of(&a.name) == Some(scalar(a.ty));
        (p != Some(partition.name.as_str())
            || s != sort.map(|k| k.name.as_str())
            || !typed(partition)
            || !sort.is_none_or(typed))
        .then(|| {
            let described = |name: Option<&str>| match name {
                Some(n) => format!(
                    "{n:?} ({})",
                    type_of(n).map_or("?".into(), |t| t.as_str().to_owned())
                ),
                None => "none".to_owned(),
            };
            format!("partition {}, sort {}", described(p), described(s))
        })
    };
    if let Some(found) = differs(
        desc.key_schema(),
        &schema.partition_key,
        schema.sort_key.as_ref(),
    ) {
        return Err(Error::validation(format!(
            "table {table:?} exists with another key schema ({found})"
        )));
    }
    for index in &schema.indexes {
        let existing = desc
            .global_secondary_indexes()
            .iter()
            .find(|g| g.index_name() == Some(index.name.as_str()));
        if let Some(found) = existing.and_then(|g| {
            differs(
                g.key_schema(),
                &index.partition_key,
                index.sort_key.as_ref(),
            )
        }) {
            return Err(Error::validation(format!(
                "table {table:?} has an index {:?} with other keys ({found})",
                index.name
            )));
        }
    }
    Ok(())
}

/// Creates the table if missing (and any missing GSI), then waits until the table and
/// every index are ACTIVE, polling every `poll` (not the SDK waiter's 20 s minimum).
pub(crate) async fn ensure(
    client: &Client,
    table: &str,
    schema: &StoreSchema,
    poll: Duration,
    timeout: Duration,
) -> Result<()> {
    let existing = describe(client, table).await?;
    match &existing {
        None => {
            let created = create_table_input(table, schema)?.send_with(client).await;
            match created {
                Ok(_) => {}
                // Another process created it meanwhile: wait for it like for ours.
                Err(e) if e.code() == Some("ResourceInUseException") => {}
                Err(e) => return Err(sdk_error("CreateTable", table, e)),
            }
        }
        Some(desc) => {
            check_existing(table, desc, schema)?;
            // Add the indexes the table lacks, one at a time as DynamoDB requires.
            for index in &schema.indexes {
                if desc
                    .global_secondary_indexes()
                    .iter()
                    .any(|g| g.index_name() == Some(index.name.as_str()))
                {
                    continue;
                }
                let attrs = std::iter::once(&index.partition_key).chain(&index.sort_key);
                let create = aws_sdk_dynamodb::types::CreateGlobalSecondaryIndexAction::builder()
                    .index_name(&index.name)
                    .set_key_schema(Some(key_schema(
                        &index.partition_key,
                        index.sort_key.as_ref(),
                    )?))
                    .projection(
                        Projection::builder()
                            .projection_type(ProjectionType::All)
                            .build(),
                    )
                    .build()
                    .map_err(build_error)?;
                client
                    .update_table()
                    .table_name(table)
                    .set_attribute_definitions(Some(attribute_definitions(attrs)?))
                    .global_secondary_index_updates(
                        GlobalSecondaryIndexUpdate::builder().create(create).build(),
                    )
                    .send()
                    .await
                    .map_err(|e| sdk_error("UpdateTable", table, e))?;
                wait_active(client, table, poll, timeout).await?;
            }
        }
    }
    wait_active(client, table, poll, timeout).await?;
    ensure_ttl(client, table, schema).await
}

/// Turns DynamoDB's TTL on for the store's expiry attribute, if it has one and TTL is
/// not on for it already (DynamoDB then deletes expired items, days late at most;
/// reads never rely on it). TTL on another attribute is a validation error: a table
/// has one TTL attribute, and changing it is for its owner to do.
async fn ensure_ttl(client: &Client, table: &str, schema: &StoreSchema) -> Result<()> {
    let Some(attribute) = &schema.ttl else {
        return Ok(());
    };
    match ttl_attribute(client, table).await? {
        Some(a) if a == *attribute => return Ok(()),
        Some(a) => {
            return Err(Error::validation(format!(
                "table {table:?} has TTL on attribute {a:?}, and the store's expiry attribute \
                 is {attribute:?}: a table has one TTL attribute"
            )));
        }
        None => {}
    }
    let specification = TimeToLiveSpecification::builder()
        .enabled(true)
        .attribute_name(attribute)
        .build()
        .map_err(build_error)?;
    match client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(specification)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        // Another process turned it on meanwhile (DynamoDB refuses a second enable):
        // fine if it is on for this attribute, which describing it again tells.
        Err(e) if e.code() == Some("ValidationException") => {
            match ttl_attribute(client, table).await? {
                Some(a) if a == *attribute => Ok(()),
                _ => Err(sdk_error("UpdateTimeToLive", table, e)),
            }
        }
        Err(e) => Err(sdk_error("UpdateTimeToLive", table, e)),
    }
}

/// The attribute the table's TTL is on (enabled or being enabled), if it is on.
async fn ttl_attribute(client: &Client, table: &str) -> Result<Option<String>> {
    let described = client
        .describe_time_to_live()
        .table_name(table)
        .send()
        .await
        .map_err(|e| sdk_error("DescribeTimeToLive", table, e))?;
    Ok(described.time_to_live_description().and_then(|d| {
        let on = matches!(
            d.time_to_live_status(),
            Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
        );
        d.attribute_name().filter(|_| on).map(str::to_owned)
    }))
}

async fn wait_active(
    client: &Client,
    table: &str,
    poll: Duration,
    timeout: Duration,
) -> Result<()> {
    let start = Instant::now();
    loop {
        if let Some(desc) = describe(client, table).await? {
            let table_ready = desc.table_status() == Some(&TableStatus::Active);
            let indexes_ready = desc
                .global_secondary_indexes()
                .iter()
                .all(|g| g.index_status().is_none_or(|s| *s == IndexStatus::Active));
            if table_ready && indexes_ready {
                return Ok(());
            }
        }
        if start.elapsed() > timeout {
            return Err(Error::new(
                ErrorKind::Unavailable,
                format!("table {table:?} did not become ACTIVE within {timeout:?}"),
            ));
        }
        tokio::time::sleep(poll).await;
    }
}

/// The store schema a table describes: its keys, one index per GSI (with the key types
/// of the table's attribute definitions) and the attribute its TTL is on. `None` if the
/// table does not exist. The store is named `store`; `table` is its table's name.
pub(crate) async fn describe_store(
    client: &Client,
    table: &str,
    store: &str,
) -> Result<Option<StoreSchema>> {
    let Some(desc) = describe(client, table).await? else {
        return Ok(None);
    };
    let key_attr = |name: &str| -> Result<KeyAttr> {
        let ty = desc
            .attribute_definitions()
            .iter()
            .find(|d| d.attribute_name() == name)
            .map(|d| d.attribute_type().clone());
        let ty = match ty {
            Some(ScalarAttributeType::S) => KeyType::String,
            Some(ScalarAttributeType::N) => KeyType::Number,
            Some(ScalarAttributeType::B) => KeyType::Bytes,
            other => {
                return Err(Error::new(
                    ErrorKind::Backend,
                    format!(
                        "table {table:?}: key attribute {name:?} has no known type \
                         ({other:?} in its attribute definitions)"
                    ),
                ));
            }
        };
        Ok(KeyAttr::new(name, ty))
    };
    let (Some(partition), sort) = key_names(desc.key_schema()) else {
        return Err(Error::new(
            ErrorKind::Backend,
            format!("table {table:?} describes no partition (HASH) key"),
        ));
    };
    let mut schema = StoreSchema::new(store, key_attr(partition)?);
    if let Some(sort) = sort {
        schema = schema.sort_key(key_attr(sort)?);
    }
    let mut gsis: Vec<_> = desc.global_secondary_indexes().iter().collect();
    gsis.sort_by_key(|g| g.index_name().unwrap_or_default().to_owned());
    for g in gsis {
        let (Some(name), (Some(p), s)) = (g.index_name(), key_names(g.key_schema())) else {
            continue;
        };
        let mut index = IndexSchema::new(name, key_attr(p)?);
        if let Some(s) = s {
            index = index.sort_key(key_attr(s)?);
        }
        schema = schema.index(index);
    }
    if let Some(attribute) = ttl_attribute(client, table).await? {
        schema = schema.ttl(attribute);
    }
    Ok(Some(schema))
}

/// The names of every table whose name starts with `prefix`, sorted.
pub(crate) async fn list_tables(client: &Client, prefix: &str) -> Result<Vec<String>> {
    let mut names = Vec::new();
    let mut start: Option<String> = None;
    loop {
        let out = client
            .list_tables()
            .set_exclusive_start_table_name(start.take())
            .send()
            .await
            .map_err(|e| sdk_error("ListTables", "(every table)", e))?;
        names.extend(
            out.table_names()
                .iter()
                .filter(|n| n.starts_with(prefix))
                .cloned(),
        );
        match out.last_evaluated_table_name() {
            Some(last) => start = Some(last.to_owned()),
            None => break,
        }
    }
    names.sort();
    Ok(names)
}
