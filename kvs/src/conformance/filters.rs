//! Conformance cases: filters.

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases_filters {
    ($cb:path, $make:path) => {};
}
