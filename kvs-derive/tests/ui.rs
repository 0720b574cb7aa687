//! The compile-time rules of the typed API: each `tests/ui/fail/*.rs` is one mistake that
//! must not compile, with the message in its `.stderr`; each `tests/ui/pass/*.rs`
//! compiles and runs.
//!
//! After changing a message on purpose: `TRYBUILD=overwrite cargo test --test ui`, then
//! read every changed `.stderr`.
//!
//! Most messages are kvs's own (`#[diagnostic::on_unimplemented]` on the trait a
//! mistake fails, or a macro error). One is the compiler's: `query_undeclared_index`
//! is a call of an associated function the derive did not generate (`Order::by_total`),
//! which rustc reports as E0599 ("no function or associated item named `by_total`
//! found for struct `Order`") during name resolution, before any trait bound a
//! diagnostic attribute could word; no generated code can catch a call of a name it
//! does not know. The message names the missing accessor and the model, which says
//! what is wrong.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
