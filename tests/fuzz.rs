//! Property tests on untrusted input: page tokens and paths. Random input gives a clear
//! error, never a panic, and never another query's data.
//!
//! Random bytes almost never carry a correct check value, so most of these tests forge
//! one: without a page token key it is the first 16 bytes of a SHA-256 of the token's body
//! (`version ‖ query binding ‖ encoded cursor`, kvs/src/page.rs), which anyone can
//! compute. Forged tokens thus reach the version and binding checks and the cursor
//! decoding behind them, and the tests compare every answer with what the token says.

use std::future::IntoFuture;
use std::sync::LazyLock;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use kvs::{
    Condition, ErrorKind, IndexSchema, Item, KeyAttr, Kvs, Number, Page, PageToken, Path, Segment,
    SortCondition, StoreSchema, Value, attr, item,
};
use proptest::prelude::*;
use proptest::sample::Index;

const TOKEN_VERSION: u8 = 1;
const BINDING_LEN: usize = 16;
const CHECK_LEN: usize = 16;

/// SHA-256, as kvs computes the check value of a token in the clear (a prefix of it).
fn sha256(data: &[u8]) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(data).into()
}

/// A token around `body`, closed with the check value of a store without a page token key.
fn close_clear(body: &[u8]) -> PageToken {
    let mut bytes = body.to_vec();
    bytes.extend_from_slice(&sha256(body)[..CHECK_LEN]);
    PageToken::from(URL_SAFE_NO_PAD.encode(bytes))
}

/// A token's body (without its check value).
fn body_of(token: &PageToken) -> Vec<u8> {
    let mut bytes = URL_SAFE_NO_PAD.decode(token.as_str()).unwrap();
    bytes.truncate(bytes.len() - CHECK_LEN);
    bytes
}

/// A query or a scan of the fixture.
#[derive(Debug, Clone)]
enum Spec {
    Query {
        store: &'static str,
        index: Option<&'static str>,
        partition: &'static str,
        sort: Option<SortCondition>,
        filter: Option<Condition>,
        descending: bool,
    },
    Scan {
        store: &'static str,
        filter: Option<Condition>,
    },
}

impl Spec {
    fn query(store: &'static str, partition: &'static str) -> Spec {
        Spec::Query {
            store,
            index: None,
            partition,
            sort: None,
            filter: None,
            descending: false,
        }
    }

    fn index(mut self, name: &'static str) -> Spec {
        if let Spec::Query { index, .. } = &mut self {
            *index = Some(name);
        }
        self
    }

    fn sort(mut self, condition: SortCondition) -> Spec {
        if let Spec::Query { sort, .. } = &mut self {
            *sort = Some(condition);
        }
        self
    }

    fn filter(mut self, condition: Condition) -> Spec {
        match &mut self {
            Spec::Query { filter, .. } | Spec::Scan { filter, .. } => *filter = Some(condition),
        }
        self
    }

    fn descending(mut self) -> Spec {
        if let Spec::Query { descending, .. } = &mut self {
            *descending = true;
        }
        self
    }

    async fn page(&self, kvs: &Kvs, limit: usize, token: Option<PageToken>) -> kvs::Result<Page> {
        match self.clone() {
            Spec::Query {
                store,
                index,
                partition,
                sort,
                filter,
                descending,
            } => {
                let mut q = kvs.query(store, partition).limit(limit).page_token(token);
                if let Some(i) = index {
                    q = q.index(i);
                }
                if let Some(s) = sort {
                    q = q.sort(s);
                }
                if let Some(f) = filter {
                    q = q.filter(f);
                }
                if descending {
                    q = q.descending();
                }
                q.await
            }
            Spec::Scan { store, filter } => {
                let mut s = kvs.scan(store).limit(limit).page_token(token);
                if let Some(f) = filter {
                    s = s.filter(f);
                }
                s.await
            }
        }
    }

    fn on_index(&self) -> bool {
        matches!(self, Spec::Query { index: Some(_), .. })
    }

    /// Whether `cursor` is a position a page of this query could end at: exactly the
    /// key attributes of its order (table key, plus the index key on an index), each of
    /// its declared type, in the query's partition. (All stores have the same keys.)
    fn fits(&self, cursor: &Item) -> bool {
        let string = |name: &str| {
            cursor
                .get(name)
                .and_then(Value::as_str)
                .is_some_and(|s| !s.is_empty())
        };
        let number = |name: &str| {
            cursor
                .get(name)
                .and_then(Value::as_number)
                .is_some_and(|n| n.is_finite())
        };
        let attributes = if self.on_index() { 4 } else { 2 };
        if cursor.len() != attributes || !string("pk") || !number("sk") {
            return false;
        }
        match self {
            Spec::Query {
                index: Some(_),
                partition,
                ..
            } => number("n") && cursor.get("g") == Some(&Value::from(*partition)),
            Spec::Query { partition, .. } => cursor["pk"] == Value::from(*partition),
            Spec::Scan { .. } => true,
        }
    }

    /// Where an item (or a cursor) sits in the order this query reads in, ascending:
    /// by index sort key, then table key, on an index; by table key otherwise (which is
    /// also the order the local engine scans in).
    fn position(&self, it: &Item) -> (Option<Number>, Vec<u8>, Number) {
        let n = self.on_index().then(|| it["n"].as_number().unwrap());
        let pk = it["pk"].as_str().unwrap().as_bytes().to_vec();
        (n, pk, it["sk"].as_number().unwrap())
    }

    /// Whether `it` comes strictly after `cursor` in the direction this query reads.
    fn after(&self, cursor: &Item, it: &Item) -> bool {
        let (c, i) = (self.position(cursor), self.position(it));
        match self {
            Spec::Query {
                descending: true, ..
            } => i < c,
            _ => i > c,
        }
    }
}

/// A query with everything it answers, and every token its pages of one item made.
struct Known {
    spec: Spec,
    answer: Vec<Item>,
    /// The binding of the query, as its tokens carry it.
    binding: Vec<u8>,
    /// Tokens of a store without a page token key: `tokens[k]` follows `answer[k]`.
    tokens: Vec<PageToken>,
    /// The same, from a store with a page token key.
    sealed_tokens: Vec<PageToken>,
}

/// Both handles share one memory store; the sealed one seals its tokens under a key.
struct Fixture {
    rt: tokio::runtime::Runtime,
    kvs: Kvs,
    sealed: Kvs,
    known: Vec<Known>,
}

impl Fixture {
    fn run(&self, kvs: &Kvs, spec: &Spec, limit: usize, token: PageToken) -> kvs::Result<Page> {
        self.rt.block_on(spec.page(kvs, limit, Some(token)))
    }
}

fn schema(name: &str) -> StoreSchema {
    StoreSchema::new(name, KeyAttr::string("pk"))
        .sort_key(KeyAttr::number("sk"))
        .index(IndexSchema::new("byG", KeyAttr::string("g")).sort_key(KeyAttr::number("n")))
}

/// Queries that differ in exactly the things a token is bound to: store, index,
/// partition value, sort condition, filter, direction, query or scan. Each answers at
/// least two items, so each has tokens.
fn specs() -> Vec<Spec> {
    let scan = |store| Spec::Scan {
        store,
        filter: None,
    };
    vec![
        Spec::query("s", "p"),
        Spec::query("s", "p").descending(),
        Spec::query("s", "q"),
        Spec::query("s", "p").sort(SortCondition::between(2, 9)),
        Spec::query("s", "p").sort(SortCondition::between(2, 10)),
        Spec::query("s", "p").sort(SortCondition::gt(3)),
        Spec::query("s", "p").filter(attr("v").ge(4)),
        Spec::query("s", "p").filter(attr("v").lt(8)).descending(),
        Spec::query("s", "x").index("byG"),
        Spec::query("s", "y").index("byG"),
        Spec::query("s", "x").index("byG").descending(),
        Spec::query("s", "x")
            .index("byG")
            .sort(SortCondition::le(1)),
        Spec::query("s", "x")
            .index("byG")
            .filter(attr("pk").eq("q")),
        Spec::query("t", "p"),
        Spec::query("t", "x").index("byG"),
        scan("s"),
        scan("s").filter(attr("v").gt(3)),
        scan("t"),
    ]
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let backend = kvs::local::LocalBackend::memory();
    let kvs = Kvs::new(backend.clone());
    let sealed = Kvs::builder(backend)
        .page_token_key(*b"fuzz page token key")
        .build()
        .unwrap();
    rt.block_on(async {
        for store in ["s", "t"] {
            kvs.ensure_store(schema(store)).await.unwrap();
            sealed.register_store(schema(store)).unwrap();
        }
        for pk in ["p", "q"] {
            for i in 0..12 {
                let mut it = item! { "pk" => pk, "sk" => i, "v" => i, "n" => i % 3 };
                // One item out of the index (it is sparse).
                if i != 5 {
                    it.set("g", if i % 2 == 0 { "x" } else { "y" });
                }
                kvs.upsert("s", it).await.unwrap();
            }
        }
        for i in 0..8 {
            let it = item! { "pk" => "p", "sk" => f64::from(i) / 2.0, "g" => "x", "n" => i % 2 };
            kvs.upsert("t", it).await.unwrap();
        }
    });
    let known = specs()
        .into_iter()
        .map(|spec| {
            let walk = |kvs: &Kvs| {
                let (mut items, mut tokens, mut token) = (Vec::new(), Vec::new(), None);
                loop {
                    let page = rt.block_on(spec.page(kvs, 1, token)).unwrap();
                    items.extend(page.items);
                    match page.next_page_token {
                        Some(t) => tokens.push(t.clone()),
                        None => break,
                    }
                    token = tokens.last().cloned();
                }
                (items, tokens)
            };
            let (answer, tokens) = walk(&kvs);
            let (sealed_answer, sealed_tokens) = walk(&sealed);
            assert_eq!(answer, sealed_answer, "{spec:?}");
            assert!(answer.len() >= 2, "{spec:?} answers too little to test");
            let whole = rt.block_on(spec.page(&kvs, 1000, None)).unwrap();
            assert_eq!(
                whole.items, answer,
                "{spec:?}: one page and pages of one differ"
            );
            // The premise of forging: a real token is its body and that body's checksum.
            let body = body_of(&tokens[0]);
            assert_eq!(
                close_clear(&body),
                tokens[0],
                "the check value is not a SHA-256 prefix"
            );
            Known {
                binding: body[1..=BINDING_LEN].to_vec(),
                spec,
                answer,
                tokens,
                sealed_tokens,
            }
        })
        .collect();
    Fixture {
        rt,
        kvs,
        sealed,
        known,
    }
});

fn assert_invalid(result: kvs::Result<Page>) {
    match result {
        Err(e) => assert_eq!(e.kind(), &ErrorKind::InvalidPageToken, "{e}"),
        Ok(page) => panic!(
            "a bad token was accepted and gave {} items",
            page.items.len()
        ),
    }
}

/// What a token with a correct check value must get: the page that follows its cursor,
/// if the body is this version, bound to this query, and holds a position this query's
/// pages could end at; else `None` (`InvalidPageToken`).
///
/// Without a page token key, a forged token naming such a position cannot be told from
/// one a page made (it is the same token, byte for byte, or an equivalent encoding):
/// it must then continue exactly there, within the query.
fn expected_page(known: &Known, body: &[u8], limit: usize) -> Option<Vec<Item>> {
    let (&version, rest) = body.split_first()?;
    if version != TOKEN_VERSION || rest.get(..BINDING_LEN)? != known.binding {
        return None;
    }
    let cursor = kvs::codec::decode_item(&rest[BINDING_LEN..]).ok()?;
    known.spec.fits(&cursor).then(|| {
        known
            .answer
            .iter()
            .filter(|it| known.spec.after(&cursor, it))
            .take(limit)
            .cloned()
            .collect()
    })
}

/// Runs the query of `known` with a forged token around `body`, and compares.
fn check_forged(known: &Known, body: &[u8], limit: usize) -> Result<(), TestCaseError> {
    let fx = &*FIXTURE;
    let got = fx.run(&fx.kvs, &known.spec, limit, close_clear(body));
    match (got, expected_page(known, body, limit)) {
        (Ok(page), Some(expected)) => {
            for it in &page.items {
                prop_assert!(
                    known.answer.contains(it),
                    "an item this query does not answer: {:?}",
                    it
                );
            }
            prop_assert_eq!(page.items, expected);
        }
        (Err(e), None) => prop_assert_eq!(e.kind(), &ErrorKind::InvalidPageToken, "{}", e),
        (Ok(page), None) => prop_assert!(
            false,
            "a token this query's pages cannot have made was accepted, giving {:?}",
            page.items
        ),
        (Err(e), Some(_)) => prop_assert!(false, "a position of this query was refused: {}", e),
    }
    Ok(())
}

/// Values for the key attributes of a cursor: mostly of the declared type (strings for
/// `pk` and `g`, numbers for `sk` and `n`), so that many cursors get past the type
/// checks to the partition check and the read, with odd ones among them.
fn cursor_value(name: &'static str) -> BoxedStrategy<Value> {
    let strings = prop_oneof![
        Just("p"),
        Just("q"),
        Just("x"),
        Just("y"),
        Just("zz"),
        Just("")
    ]
    .prop_map(Value::from);
    let numbers = prop_oneof![
        4 => (-2i64..14).prop_map(Value::from),
        1 => prop_oneof![
            Just(-0.0),
            Just(3.5),
            Just(-1e300),
            Just(1e300),
            Just(f64::NAN),
            Just(f64::INFINITY)
        ]
        .prop_map(Value::from),
    ];
    let others = prop_oneof![
        Just(Value::Null),
        Just(Value::Bool(true)),
        Just(Value::Bytes(vec![b'p'])),
        Just(Value::list([1])),
        Just(Value::from("3")),
    ];
    match name {
        "pk" | "g" => prop_oneof![8 => strings, 1 => numbers, 1 => others].boxed(),
        _ => prop_oneof![8 => numbers, 1 => strings, 1 => others].boxed(),
    }
}

/// Which attributes a forged cursor has.
#[derive(Debug, Clone)]
enum Shape {
    /// Exactly those of the query's order, with the query's partition value: the
    /// cursors that get furthest, to the read.
    Aimed,
    Table,
    Index,
    Some(Vec<&'static str>),
}

const CURSOR_NAMES: [&str; 5] = ["g", "n", "pk", "sk", "v"];

fn shape() -> impl Strategy<Value = Shape> {
    prop_oneof![
        4 => Just(Shape::Aimed),
        1 => Just(Shape::Table),
        1 => Just(Shape::Index),
        2 => proptest::sample::subsequence(CURSOR_NAMES.to_vec(), 0..=5).prop_map(Shape::Some),
    ]
}

/// A value for each attribute a cursor may have.
fn cursor_values() -> impl Strategy<Value = [Value; 5]> {
    CURSOR_NAMES.map(cursor_value)
}

/// A cursor of `shape` for `spec`, from `values` (by `CURSOR_NAMES`).
fn forge_cursor(spec: &Spec, shape: &Shape, values: &[Value]) -> Item {
    let names: &[&str] = match shape {
        Shape::Aimed if spec.on_index() => &["g", "n", "pk", "sk"],
        Shape::Aimed | Shape::Table => &["pk", "sk"],
        Shape::Index => &["g", "n", "pk", "sk"],
        Shape::Some(names) => names,
    };
    let mut cursor: Item = CURSOR_NAMES
        .iter()
        .zip(values)
        .filter(|(n, _)| names.contains(n))
        .map(|(n, v)| (*n, v.clone()))
        .collect();
    if let (Shape::Aimed, Spec::Query { partition, .. }) = (shape, spec) {
        let name = if spec.on_index() { "g" } else { "pk" };
        cursor.set(name, *partition);
    }
    cursor
}

/// What a forged body carries after its version.
#[derive(Debug, Clone)]
enum Binding {
    /// The binding of the query it is used with.
    Own,
    /// The binding of some query of the fixture (maybe its own).
    Of(Index),
    Random(Vec<u8>),
}

/// A change to a real token's body, before the check value is recomputed.
#[derive(Debug, Clone)]
enum Mutation {
    Flip(Index, u8),
    Insert(Index, u8),
    Remove(Index),
    Truncate(Index),
    /// The cursor replaced with another query's.
    Graft(Index, Index),
}

impl Mutation {
    fn apply(&self, body: &mut Vec<u8>, known: &[Known]) {
        match self {
            Mutation::Flip(at, bits) => {
                let at = at.index(body.len());
                body[at] ^= bits;
            }
            Mutation::Insert(at, byte) => body.insert(at.index(body.len() + 1), *byte),
            Mutation::Remove(at) => {
                body.remove(at.index(body.len()));
            }
            Mutation::Truncate(at) => body.truncate(at.index(body.len())),
            Mutation::Graft(query, token) => {
                let other = &known[query.index(known.len())];
                let other = body_of(&other.tokens[token.index(other.tokens.len())]);
                body.truncate(1 + BINDING_LEN);
                body.extend_from_slice(&other[1 + BINDING_LEN..]);
            }
        }
    }
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => (any::<Index>(), 1u8..=255).prop_map(|(i, b)| Mutation::Flip(i, b)),
        1 => (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        1 => any::<Index>().prop_map(Mutation::Remove),
        1 => any::<Index>().prop_map(Mutation::Truncate),
        2 => (any::<Index>(), any::<Index>()).prop_map(|(q, t)| Mutation::Graft(q, t)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_text_is_never_a_token(text in ".{0,80}") {
        let fx = &*FIXTURE;
        let token = PageToken::from(text.as_str());
        for known in &fx.known {
            assert_invalid(fx.run(&fx.kvs, &known.spec, 5, token.clone()));
        }
    }

    #[test]
    fn random_bytes_are_never_a_token(bytes in proptest::collection::vec(any::<u8>(), 0..120)) {
        let fx = &*FIXTURE;
        let token = PageToken::from(URL_SAFE_NO_PAD.encode(&bytes));
        assert_invalid(fx.run(&fx.kvs, &fx.known[0].spec, 5, token));
    }

    /// A changed byte, without a recomputed check value, is caught by the checksum.
    #[test]
    fn a_tampered_token_is_rejected(query in any::<Index>(), token in any::<Index>(),
                                    position in any::<Index>(), flip in 1u8..=255) {
        let fx = &*FIXTURE;
        let known = &fx.known[query.index(fx.known.len())];
        let token = &known.tokens[token.index(known.tokens.len())];
        let mut bytes = URL_SAFE_NO_PAD.decode(token.as_str()).unwrap();
        let i = position.index(bytes.len());
        bytes[i] ^= flip;
        let token = PageToken::from(URL_SAFE_NO_PAD.encode(&bytes));
        assert_invalid(fx.run(&fx.kvs, &known.spec, 5, token));
    }

    #[test]
    fn a_truncated_token_is_rejected(cut in any::<Index>()) {
        let fx = &*FIXTURE;
        let text = fx.known[0].tokens[0].as_str();
        let cut = cut.index(text.len());
        assert_invalid(fx.run(&fx.kvs, &fx.known[0].spec, 5, PageToken::from(&text[..cut])));
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

proptest! {
    // The cases that reach the read are a fraction of these: run more.
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// Forged bodies with a correct check value: random bytes, or cursors made of key
    /// attributes (right and wrong), behind the right or a wrong version and binding.
    #[test]
    fn a_forged_token_gets_exactly_what_its_contents_say(
        query in any::<Index>(),
        version in prop_oneof![9 => Just(TOKEN_VERSION), 1 => any::<u8>()],
        binding in prop_oneof![
            6 => Just(Binding::Own),
            2 => any::<Index>().prop_map(Binding::Of),
            1 => proptest::collection::vec(any::<u8>(), 0..=BINDING_LEN).prop_map(Binding::Random),
        ],
        payload in proptest::option::weighted(0.8, (shape(), cursor_values())),
        random_payload in proptest::collection::vec(any::<u8>(), 0..48),
        limit in 1usize..5,
    ) {
        let fx = &*FIXTURE;
        let known = &fx.known[query.index(fx.known.len())];
        let payload = match payload {
            Some((shape, values)) => kvs::codec::encode_item(&forge_cursor(&known.spec, &shape, &values)),
            None => random_payload,
        };
        let mut body = vec![version];
        match binding {
            Binding::Own => body.extend_from_slice(&known.binding),
            Binding::Of(other) => body.extend_from_slice(&fx.known[other.index(fx.known.len())].binding),
            Binding::Random(bytes) => body.extend_from_slice(&bytes),
        }
        body.extend_from_slice(&payload);
        check_forged(known, &body, limit)?;
    }

    /// Real tokens of a query, used with it or another, changed (or not) and closed with
    /// a recomputed check value.
    #[test]
    fn a_changed_real_token_gets_exactly_what_its_contents_say(
        query in any::<Index>(),
        from in proptest::option::weighted(0.3, any::<Index>()),
        token in any::<Index>(),
        mutations in proptest::collection::vec(mutation(), 0..3),
        limit in 1usize..5,
    ) {
        let fx = &*FIXTURE;
        let known = &fx.known[query.index(fx.known.len())];
        let source = from.map_or(known, |f| &fx.known[f.index(fx.known.len())]);
        let mut body = body_of(&source.tokens[token.index(source.tokens.len())]);
        for m in &mutations {
            if !body.is_empty() {
                m.apply(&mut body, &fx.known);
            }
        }
        check_forged(known, &body, limit)?;
    }

    /// With a page token key, no token anyone can make without it is accepted: a sealed
    /// token with bytes changed (nonce, ciphertext) and a random or its own tag, or
    /// closed with the plain checksum, or random bytes. (The mutations were made for
    /// tokens in the clear; on a sealed token they land in its nonce and ciphertext,
    /// which is what this needs: any change at all.)
    #[test]
    fn with_a_key_no_forged_or_altered_token_is_accepted(
        query in any::<Index>(),
        token in any::<Index>(),
        mutation in proptest::option::of(mutation()),
        check in prop_oneof![
            Just(None),
            proptest::collection::vec(any::<u8>(), CHECK_LEN).prop_map(Some),
        ],
        keep_real_tail in any::<bool>(),
    ) {
        let fx = &*FIXTURE;
        let known = &fx.known[query.index(fx.known.len())];
        let real = &known.sealed_tokens[token.index(known.sealed_tokens.len())];
        let real_bytes = URL_SAFE_NO_PAD.decode(real.as_str()).unwrap();
        let (body, real_tail) = real_bytes.split_at(real_bytes.len() - CHECK_LEN);
        let mut body = body.to_vec();
        if let Some(m) = &mutation {
            m.apply(&mut body, &fx.known);
        }
        let forged = match check {
            Some(random) => {
                body.extend_from_slice(&random);
                PageToken::from(URL_SAFE_NO_PAD.encode(&body))
            }
            // The real token's tail (tag included), on a changed front.
            None if keep_real_tail && mutation.is_some() => {
                let changed = body != real_bytes[..real_bytes.len() - CHECK_LEN];
                prop_assume!(changed);
                body.extend_from_slice(real_tail);
                PageToken::from(URL_SAFE_NO_PAD.encode(&body))
            }
            None => close_clear(&body),
        };
        prop_assert_ne!(&forged, real);
        assert_invalid(fx.run(&fx.sealed, &known.spec, 3, forged));
    }
}

/// Every query's tokens are refused by every other query, whichever way they differ.
#[test]
fn a_token_of_one_query_is_refused_by_every_other() {
    let fx = &*FIXTURE;
    for (a, from) in fx.known.iter().enumerate() {
        for token in [&from.tokens[0], from.tokens.last().unwrap()] {
            for (b, to) in fx.known.iter().enumerate() {
                if a != b {
                    match fx.run(&fx.kvs, &to.spec, 3, token.clone()) {
                        Err(e) => assert_eq!(e.kind(), &ErrorKind::InvalidPageToken, "{e}"),
                        Ok(page) => panic!(
                            "a token of {:?} was accepted by {:?}, giving {:?}",
                            from.spec, to.spec, page.items
                        ),
                    }
                }
            }
        }
    }
}

/// A real token goes on right after its page, whatever limit the next page asks for,
/// with or without a page token key.
#[test]
fn a_real_token_continues_where_its_page_ended() {
    let fx = &*FIXTURE;
    for known in &fx.known {
        for (kvs, tokens) in [(&fx.kvs, &known.tokens), (&fx.sealed, &known.sealed_tokens)] {
            for (k, token) in tokens.iter().enumerate() {
                let limit = 1 + k % 3;
                let page = fx.run(kvs, &known.spec, limit, token.clone()).unwrap();
                let rest = &known.answer[k + 1..];
                assert_eq!(
                    page.items,
                    rest[..limit.min(rest.len())],
                    "{:?}, after item {k}",
                    known.spec
                );
            }
        }
    }
}

#[test]
fn tokens_sealed_with_one_key_fail_under_another() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let backend = kvs::local::LocalBackend::memory();
    let a = Kvs::builder(backend.clone())
        .page_token_key(*b"key-a, 16 bytes or more")
        .build()
        .unwrap();
    let b = Kvs::builder(backend.clone())
        .page_token_key(*b"key-b, 16 bytes or more")
        .build()
        .unwrap();
    let clear = Kvs::new(backend);
    let token = rt.block_on(async {
        a.ensure_store(schema("s")).await.unwrap();
        for i in 0..20 {
            a.upsert("s", item! { "pk" => "p", "sk" => i })
                .await
                .unwrap();
        }
        let page = a.query("s", "p").limit(5).await.unwrap();
        page.next_page_token.unwrap()
    });
    for kvs in [&b, &clear] {
        kvs.register_store(schema("s")).unwrap();
    }
    // The sealer accepts its own token and goes on where the page ended.
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
    assert_invalid(rt.block_on(clear.query("s", "p").page_token(token).into_future()));
    let clear_token = rt
        .block_on(clear.query("s", "p").limit(5).into_future())
        .unwrap()
        .next_page_token
        .unwrap();
    assert_invalid(rt.block_on(a.query("s", "p").page_token(clear_token).into_future()));
}
