//! Property tests on untrusted input: page tokens and paths. Random input gives a clear
//! error, never a panic, and never another query's data.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use kvs::{ErrorKind, KeyAttr, Kvs, PageToken, Path, Segment, StoreSchema, item};
use proptest::prelude::*;

/// A store with 20 items in partition "p", and the token of its first page of 5.
fn setup(kvs: &Kvs, rt: &tokio::runtime::Runtime) -> PageToken {
    rt.block_on(async {
        kvs.ensure_store(
            StoreSchema::new("s", KeyAttr::string("pk")).sort_key(KeyAttr::number("sk")),
        )
        .await
        .unwrap();
        for i in 0..20 {
            kvs.upsert("s", item! { "pk" => "p", "sk" => i })
                .await
                .unwrap();
        }
        let page = kvs.query("s", "p").limit(5).await.unwrap();
        page.next_page_token.unwrap()
    })
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

/// One store and one genuine token, shared by every case.
struct Fixture {
    rt: tokio::runtime::Runtime,
    kvs: Kvs,
    token: PageToken,
}

static FIXTURE: std::sync::LazyLock<Fixture> = std::sync::LazyLock::new(|| {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let kvs = Kvs::memory();
    let token = setup(&kvs, &rt);
    Fixture { rt, kvs, token }
});

fn assert_invalid(result: kvs::Result<kvs::Page>) {
    match result {
        Err(e) => assert_eq!(e.kind(), &ErrorKind::InvalidPageToken, "{e}"),
        Ok(page) => panic!(
            "a bad token was accepted and gave {} items",
            page.items.len()
        ),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_text_is_never_a_token(text in ".{0,80}") {
        let Fixture { rt, kvs, .. } = &*FIXTURE;
        assert_invalid(rt.block_on(kvs.query("s", "p").page_token(PageToken::from(text.as_str())).into_future()));
        assert_invalid(rt.block_on(kvs.scan("s").page_token(PageToken::from(text.as_str())).into_future()));
    }

    #[test]
    fn random_bytes_are_never_a_token(bytes in proptest::collection::vec(any::<u8>(), 0..120)) {
        let Fixture { rt, kvs, .. } = &*FIXTURE;
        let token = PageToken::from(URL_SAFE_NO_PAD.encode(&bytes));
        assert_invalid(rt.block_on(kvs.query("s", "p").page_token(token).into_future()));
    }

    #[test]
    fn a_tampered_token_is_rejected(position in any::<prop::sample::Index>(), flip in 1u8..=255) {
        let Fixture { rt, kvs, token } = &*FIXTURE;
        let mut bytes = URL_SAFE_NO_PAD.decode(token.as_str()).unwrap();
        let i = position.index(bytes.len());
        bytes[i] ^= flip;
        let token = PageToken::from(URL_SAFE_NO_PAD.encode(&bytes));
        assert_invalid(rt.block_on(kvs.query("s", "p").page_token(token).into_future()));
    }

    #[test]
    fn a_truncated_token_is_rejected(cut in any::<prop::sample::Index>()) {
        let Fixture { rt, kvs, token } = &*FIXTURE;
        let text = token.as_str();
        let cut = cut.index(text.len());
        assert_invalid(rt.block_on(kvs.query("s", "p").page_token(PageToken::from(&text[..cut])).into_future()));
    }

    #[test]
    fn any_text_parses_or_fails_cleanly(text in ".{0,40}") {
        if let Ok(p) = Path::parse(&text) {
            // Whatever parses prints back to text that parses to the same path.
            prop_assert_eq!(Path::parse(&p.to_string()).unwrap(), p);
        }
    }

    #[test]
    fn paths_print_and_parse_back(first in ".{1,8}", rest in proptest::collection::vec(
        prop_oneof![".{1,8}".prop_map(Segment::Attr), (0usize..1000).prop_map(Segment::Index)], 0..5)) {
        let mut segments = vec![Segment::Attr(first)];
        segments.extend(rest);
        let p = Path::from_segments(segments).unwrap();
        prop_assert_eq!(Path::parse(&p.to_string()).unwrap(), p);
    }
}

use std::future::IntoFuture;

#[test]
fn tokens_signed_with_one_key_fail_under_another() {
    let rt = runtime();
    let backend = kvs::local::LocalBackend::memory();
    let a = Kvs::builder(backend.clone())
        .page_token_signing_key(*b"key-a")
        .build()
        .unwrap();
    let b = Kvs::builder(backend.clone())
        .page_token_signing_key(*b"key-b")
        .build()
        .unwrap();
    let unsigned = Kvs::new(backend);
    let token = setup(&a, &rt);
    for kvs in [&a, &b, &unsigned] {
        kvs.register_store(
            StoreSchema::new("s", KeyAttr::string("pk")).sort_key(KeyAttr::number("sk")),
        )
        .unwrap();
    }
    // The signer accepts its own token and goes on where the page ended.
    let next = rt
        .block_on(
            a.query("s", "p")
                .limit(5)
                .page_token(token.clone())
                .into_future(),
        )
        .unwrap();
    assert_eq!(next.items[0]["sk"], 5.into());
    assert_invalid(rt.block_on(b.query("s", "p").page_token(token.clone()).into_future()));
    assert_invalid(rt.block_on(unsigned.query("s", "p").page_token(token).into_future()));
    let unsigned_token = rt
        .block_on(unsigned.query("s", "p").limit(5).into_future())
        .unwrap()
        .next_page_token
        .unwrap();
    assert_invalid(rt.block_on(a.query("s", "p").page_token(unsigned_token).into_future()));
}
