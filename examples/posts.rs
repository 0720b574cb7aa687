//! Posts under a composite key (userId + postId): get one by both parts, then query one
//! user's posts with a sort key condition, newest first, a page at a time; count them;
//! and list titles through a projection that leaves the bodies out.
//!
//! Post ids start with their date (`2026-02-14-valentines`), so a sort key prefix selects
//! a month and the sort order is the date order.
//!
//! Run it with `cargo run --example posts`.

use futures::TryStreamExt as _;
use kvs::PageToken;
use kvs::prelude::*;
use serde::{Deserialize, Serialize};

/// `defineKeyValueStore('posts', { partitionKey: 'userId', sortKey: 'postId' })`
#[derive(KeyValueStore, Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
#[kvs(store = "posts", partition_key = user_id, sort_key = post_id)]
pub struct Post {
    user_id: String,
    post_id: String,
    title: String,
    likes: i64,
    body: String,
}

/// A listing of posts: the keys and the title, not the body (which is not read from the
/// store where the backend projects natively).
#[derive(Projection, Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
#[kvs(model = Post)]
pub struct PostTitle {
    post_id: String,
    title: String,
}

/// The seed's `getPost`: both parts of the key.
async fn get_post(posts: &Store<Post>, user_id: &str, post_id: &str) -> Result<Option<Post>> {
    posts.get((user_id, post_id)).await
}

/// One page of a user's posts of one month, newest first. The token is plain text, so it
/// can go to a client and come back with its next request.
async fn posts_of_month(
    posts: &Store<Post>,
    user_id: &str,
    month: &str,
    page_token: Option<String>,
) -> Result<(Vec<Post>, Option<String>)> {
    let page = posts
        .query(Post::partition(user_id).sort_begins_with(month))
        .descending()
        .limit(3)
        .page_token(page_token.map(PageToken::from))
        .await?;
    Ok((page.items, page.next_page_token.map(|t| t.to_string())))
}

#[tokio::main]
async fn main() -> kvs::Result<()> {
    // The embedded store in kvs-data/posts.redb, or the backend KVS_BACKEND names. Page
    // tokens go to clients: sealed under a key, they show nothing of the posts they
    // point after (a real service keeps its key in its secrets, at least 16 bytes).
    let key = std::env::var("KVS_PAGE_TOKEN_KEY")
        .unwrap_or_else(|_| "an example key, not a secret".to_owned());
    let kvs = kvs_examples::open_with("posts", kvs::Options::new().page_token_key(key)).await?;
    let posts = kvs.store::<Post>();
    posts.ensure().await?;
    kvs_examples::empty(&posts).await?;

    // Two users; u-1 posts on the 1st, 8th, 15th and 22nd of January to March.
    let mut all = Vec::new();
    for (user_id, months) in [("u-1", 1..=3), ("u-2", 2..=2)] {
        for month in months {
            for day in [1, 8, 15, 22] {
                all.push(Post {
                    user_id: user_id.into(),
                    post_id: format!("2026-{month:02}-{day:02}-post"),
                    title: format!("{user_id} on 2026-{month:02}-{day:02}"),
                    likes: day,
                    body: format!("a long body, day {day} ").repeat(200),
                });
            }
        }
    }
    posts.upsert_many(&all).await?;
    println!("wrote {} posts", all.len());

    // Get by both parts of the key.
    let post = get_post(&posts, "u-1", "2026-02-15-post").await?;
    println!(
        "get (u-1, 2026-02-15-post) -> {:?}",
        post.as_ref().map(|p| &p.title)
    );
    assert_eq!(post.map(|p| p.title), Some("u-1 on 2026-02-15".to_string()));
    // The same post id under another user is another item; a missing one is None.
    assert_eq!(
        get_post(&posts, "u-2", "2026-02-15-post")
            .await?
            .map(|p| p.user_id),
        Some("u-2".into())
    );
    assert_eq!(get_post(&posts, "u-2", "2026-03-01-post").await?, None);

    // u-1's February posts, newest first, three per page, following the page tokens.
    let mut token = None;
    let mut seen = Vec::new();
    for page_no in 1.. {
        let (items, next) = posts_of_month(&posts, "u-1", "2026-02", token).await?;
        let ids: Vec<_> = items.iter().map(|p| p.post_id.as_str()).collect();
        println!("u-1 in 2026-02, page {page_no}: {}", ids.join(" "));
        assert!(
            !items.is_empty() && items.len() <= 3,
            "a page holds 1 to 3 posts"
        );
        seen.extend(items.into_iter().map(|p| p.post_id));
        if let Some(t) = &next {
            // Sealed: no post id, user id or date in it.
            assert!(!t.contains("2026") && !t.contains("u-1"), "{t}");
        }
        token = next;
        if token.is_none() {
            assert_eq!(page_no, 2, "four posts in pages of three");
            break;
        }
    }
    assert_eq!(
        seen,
        [
            "2026-02-22-post",
            "2026-02-15-post",
            "2026-02-08-post",
            "2026-02-01-post"
        ]
    );

    // Other sort key conditions: a date range, and "after a date" with a filter.
    let range = posts
        .query(Post::partition("u-1").sort_between("2026-01-15", "2026-02-09"))
        .await?;
    let ids: Vec<_> = range.items.iter().map(|p| p.post_id.as_str()).collect();
    println!("u-1 between 2026-01-15 and 2026-02-09: {}", ids.join(" "));
    assert_eq!(
        ids,
        [
            "2026-01-15-post",
            "2026-01-22-post",
            "2026-02-01-post",
            "2026-02-08-post"
        ]
    );

    let f = Post::fields();
    let popular = posts
        .query(Post::partition("u-1").sort_gt("2026-03"))
        .filter(f.likes().ge(15))
        .await?;
    let ids: Vec<_> = popular.items.iter().map(|p| p.post_id.as_str()).collect();
    println!("u-1 in March with >= 15 likes: {}", ids.join(" "));
    assert_eq!(ids, ["2026-03-15-post", "2026-03-22-post"]);

    // Counts: every page, the filter applied (natively where the backend counts).
    let in_february = posts
        .query(Post::partition("u-1").sort_begins_with("2026-02"))
        .count()
        .await?;
    let liked = posts.scan().filter(f.likes().ge(15)).count().await?;
    println!("u-1 posted {in_february} times in February; {liked} posts have >= 15 likes");
    assert_eq!((in_february, liked), (4, 8));

    // A listing of titles, without reading the bodies.
    let titles: Vec<PostTitle> = posts
        .query(Post::partition("u-1").sort_begins_with("2026-01"))
        .project::<PostTitle>()
        .stream()
        .try_collect()
        .await?;
    for t in &titles {
        println!("  {}: {}", t.post_id, t.title);
    }
    assert_eq!(titles.len(), 4);
    let one = posts
        .get_projected::<PostTitle>(("u-2", "2026-02-08-post"))
        .await?;
    assert_eq!(one.map(|t| t.title), Some("u-2 on 2026-02-08".to_string()));
    Ok(())
}
