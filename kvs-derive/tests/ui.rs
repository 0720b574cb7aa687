//! The compile-time rules of the typed API: each `tests/ui/fail/*.rs` is one mistake that
//! must not compile, with the message in its `.stderr`; each `tests/ui/pass/*.rs`
//! compiles and runs.
//!
//! After changing a message on purpose: `TRYBUILD=overwrite cargo test --test ui`, then
//! read every changed `.stderr`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
