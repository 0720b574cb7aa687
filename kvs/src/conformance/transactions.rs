//! Conformance cases: transactions.

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases_transactions {
    ($cb:path, $make:path) => {};
}
