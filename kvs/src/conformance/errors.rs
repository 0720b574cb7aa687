//! Conformance cases: errors.

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases_errors {
    ($cb:path, $make:path) => {};
}
