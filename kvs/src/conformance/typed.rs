//! Conformance cases: typed.

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases_typed {
    ($cb:path, $make:path) => {};
}
