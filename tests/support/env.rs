//! What the test servers' harnesses read from the environment.

/// True when the environment variable `name` is set to something other than empty,
/// `0` or `false` (`CI=true`, `KVS_REQUIRE_FIRESTORE=1`).
pub fn flag(name: &str) -> bool {
    std::env::var(name)
        .map(|v| {
            let v = v.trim();
            !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false")
        })
        .unwrap_or(false)
}
