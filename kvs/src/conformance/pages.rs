//! Conformance cases: pages.

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases_pages {
    ($cb:path, $make:path) => {};
}
