//! Conformance cases: values.

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases_values {
    ($cb:path, $make:path) => {};
}
