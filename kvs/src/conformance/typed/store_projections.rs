//! Conformance cases of projections (`#[derive(Projection)]`): a second struct that reads
//! some fields of a model, by get, get_many, query and scan.

// The derive gives every field an accessor, and a case uses only some of them.
#![allow(dead_code)]

use super::*;

/// A model with a large field, a nested struct, an optional field, a name Cosmos DB
/// keeps for itself and a name full of quotes, brackets and SQL (which must never reach
/// a query's text), and an index.
#[derive(crate::KeyValueStore, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
#[kvs(store = "typed_rt_projections", partition_key = owner, sort_key = seq)]
#[kvs(index(name = "byTopic", partition_key = topic, sort_key = score))]
struct RtArticle {
    owner: String,
    seq: i64,
    topic: String,
    score: f64,
    title: String,
    body: String,
    tags: Set<String>,
    summary: Option<String>,
    #[serde(rename = "id")]
    external_id: String,
    #[serde(rename = "it's \"odd\"] OR 1=1 --\\")]
    odd: i64,
    meta: RtMeta,
}

#[derive(crate::Nested, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
struct RtMeta {
    words: i64,
    data: Bytes,
}

/// The fields a listing shows: keys, a title, a set, an option, the odd names, a nested
/// struct. Not the body.
#[derive(crate::Projection, serde::Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
#[kvs(model = RtArticle)]
struct RtListing {
    owner: String,
    seq: i64,
    title: String,
    tags: Set<String>,
    summary: Option<String>,
    #[serde(rename = "id")]
    external_id: String,
    #[serde(rename = "it's \"odd\"] OR 1=1 --\\")]
    odd: i64,
    meta: RtMeta,
}

/// A projection without the model's keys.
#[derive(crate::Projection, serde::Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
#[kvs(model = RtArticle)]
struct RtScore {
    score: f64,
}

fn article(owner: &str, seq: i64) -> RtArticle {
    RtArticle {
        owner: owner.into(),
        seq,
        topic: if seq % 2 == 0 { "rust" } else { "go" }.into(),
        score: seq as f64 / 2.0,
        title: format!("title {seq}"),
        body: "x".repeat(2_000 + seq as usize),
        tags: if seq % 3 == 0 {
            Set::new()
        } else {
            [format!("t{}", seq % 3)].into()
        },
        summary: (seq % 2 == 1).then(|| format!("summary {seq}")),
        external_id: format!("ext-{seq}"),
        odd: -seq,
        meta: RtMeta {
            words: seq * 100,
            data: Bytes(vec![seq as u8, 0, 255]),
        },
    }
}

fn listing(a: &RtArticle) -> RtListing {
    RtListing {
        owner: a.owner.clone(),
        seq: a.seq,
        title: a.title.clone(),
        tags: a.tags.clone(),
        summary: a.summary.clone(),
        external_id: a.external_id.clone(),
        odd: a.odd,
        meta: a.meta.clone(),
    }
}

/// A projection reads exactly its fields of the item, by get, get_many (in order, with
/// a repeated and a missing key), query (by pages, in both directions, with a filter on
/// a field the projection does not read), an index query and a scan; a projection
/// without the keys reads too.
pub async fn typed_rt_projections(kvs: Kvs) {
    let store = fresh_typed_store::<RtArticle>(&kvs).await;
    let f = RtArticle::fields();
    let articles: Vec<RtArticle> = (0..14)
        .map(|i| article(if i % 2 == 0 { "ann" } else { "bob" }, i))
        .collect();
    store.upsert_many(&articles).await.unwrap();
    let of =
        |owner: &str| -> Vec<&RtArticle> { articles.iter().filter(|a| a.owner == owner).collect() };

    let got = store.get_projected::<RtListing>(("ann", 4)).await.unwrap();
    assert_eq!(got, Some(listing(&articles[4])));
    let got = store.get_projected::<RtListing>(("ann", 5)).await.unwrap();
    assert_eq!(got, None);
    let got = store.get_projected::<RtScore>(("bob", 7)).await.unwrap();
    assert_eq!(got, Some(RtScore { score: 3.5 }));

    let many = store
        .get_many_projected::<RtListing, _>([("bob", 3), ("ann", 99), ("ann", 0), ("bob", 3)])
        .await
        .unwrap();
    let expected = vec![
        Some(listing(&articles[3])),
        None,
        Some(listing(&articles[0])),
        Some(listing(&articles[3])),
    ];
    assert_eq!(many, expected);

    // Page by page (limit 2), the filter on the body, which the projection leaves out.
    let mut paged = Vec::new();
    let mut token = None;
    loop {
        let page = store
            .query(RtArticle::partition("ann"))
            .filter(f.body().begins_with("xx").and(f.seq().ge(2)))
            .limit(2)
            .page_token(token.take())
            .project::<RtListing>()
            .await
            .unwrap();
        assert!(page.items.len() <= 2);
        paged.extend(page.items);
        match page.next_page_token {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    let expected: Vec<RtListing> = of("ann")
        .into_iter()
        .filter(|a| a.seq >= 2)
        .map(listing)
        .collect();
    assert_eq!(paged, expected);

    let descending: Vec<RtListing> = store
        .query(RtArticle::partition("bob"))
        .descending()
        .limit(3)
        .project::<RtListing>()
        .stream()
        .try_collect()
        .await
        .unwrap();
    let mut expected: Vec<RtListing> = of("bob").into_iter().map(listing).collect();
    expected.reverse();
    assert_eq!(descending, expected);

    // An index query, filtered on the nested struct.
    let expected: Vec<RtScore> = {
        let mut rust: Vec<&RtArticle> = articles
            .iter()
            .filter(|a| a.topic == "rust" && a.meta.words >= 400)
            .collect();
        rust.sort_by(|a, b| a.score.total_cmp(&b.score));
        rust.iter().map(|a| RtScore { score: a.score }).collect()
    };
    let index = || {
        store
            .query(RtArticle::by_topic("rust"))
            .filter(f.meta().words().ge(400))
            .limit(2)
            .project::<RtScore>()
    };
    let mut scores: Vec<RtScore> = index().stream().try_collect().await.unwrap();
    let started = std::time::Instant::now();
    while scores != expected
        && !kvs.capabilities().consistent_index_reads
        && started.elapsed().as_secs() < 10
    {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        scores = index().stream().try_collect().await.unwrap();
    }
    assert_eq!(scores, expected);

    // A scan, filtered on the odd name.
    let mut scanned: Vec<RtListing> = store
        .scan()
        .filter(f.odd().le(-10))
        .limit(2)
        .project::<RtListing>()
        .stream()
        .try_collect()
        .await
        .unwrap();
    scanned.sort_by(|a, b| (&a.owner, a.seq).cmp(&(&b.owner, b.seq)));
    let mut expected: Vec<RtListing> = articles
        .iter()
        .filter(|a| a.odd <= -10)
        .map(listing)
        .collect();
    expected.sort_by(|a, b| (&a.owner, a.seq).cmp(&(&b.owner, b.seq)));
    assert_eq!(scanned, expected);

    // The whole model still reads whole.
    assert_eq!(
        store.get(("ann", 4)).await.unwrap(),
        Some(articles[4].clone())
    );
}
