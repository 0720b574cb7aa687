//! Conformance cases: updates.

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases_updates {
    ($cb:path, $make:path) => {};
}
