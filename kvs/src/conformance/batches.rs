//! Conformance cases: batches.

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases_batches {
    ($cb:path, $make:path) => {};
}
