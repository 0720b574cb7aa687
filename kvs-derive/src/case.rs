//! serde's `rename_all` rules, applied to field names the way serde applies them.

use syn::LitStr;

/// One of serde's `rename_all` rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RenameRule {
    Lower,
    Upper,
    Pascal,
    Camel,
    Snake,
    ScreamingSnake,
    Kebab,
    ScreamingKebab,
}

impl RenameRule {
    pub fn parse(lit: &LitStr) -> syn::Result<Self> {
        Ok(match lit.value().as_str() {
            "lowercase" => RenameRule::Lower,
            "UPPERCASE" => RenameRule::Upper,
            "PascalCase" => RenameRule::Pascal,
            "camelCase" => RenameRule::Camel,
            "snake_case" => RenameRule::Snake,
            "SCREAMING_SNAKE_CASE" => RenameRule::ScreamingSnake,
            "kebab-case" => RenameRule::Kebab,
            "SCREAMING-KEBAB-CASE" => RenameRule::ScreamingKebab,
            other => {
                return Err(syn::Error::new(
                    lit.span(),
                    format!("unknown serde rename_all rule {other:?}"),
                ));
            }
        })
    }

    /// The stored name of a field named `field` (a snake_case Rust identifier).
    pub fn apply_to_field(self, field: &str) -> String {
        match self {
            RenameRule::Lower | RenameRule::Snake => field.to_owned(),
            RenameRule::Upper | RenameRule::ScreamingSnake => field.to_ascii_uppercase(),
            RenameRule::Pascal => {
                let mut out = String::new();
                let mut capitalize = true;
                for c in field.chars() {
                    if c == '_' {
                        capitalize = true;
                    } else if capitalize {
                        out.push(c.to_ascii_uppercase());
                        capitalize = false;
                    } else {
                        out.push(c);
                    }
                }
                out
            }
            RenameRule::Camel => {
                let pascal = RenameRule::Pascal.apply_to_field(field);
                let mut chars = pascal.chars();
                match chars.next() {
                    Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
                    None => pascal,
                }
            }
            RenameRule::Kebab => field.replace('_', "-"),
            RenameRule::ScreamingKebab => field.to_ascii_uppercase().replace('_', "-"),
        }
    }
}

/// The accessor name of an index: `byUser` -> `by_user`, `by-status` -> `by_status`.
pub fn snake_case(name: &str) -> String {
    let mut out = String::new();
    let mut prev_lower_or_digit = false;
    for c in name.chars() {
        if c == '-' || c == ' ' || c == '.' {
            out.push('_');
            prev_lower_or_digit = false;
        } else if c.is_ascii_uppercase() {
            if prev_lower_or_digit {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower_or_digit = false;
        } else {
            prev_lower_or_digit = c.is_ascii_lowercase() || c.is_ascii_digit();
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_rules_match_serde() {
        let f = "created_at_ms";
        assert_eq!(RenameRule::Camel.apply_to_field(f), "createdAtMs");
        assert_eq!(RenameRule::Pascal.apply_to_field(f), "CreatedAtMs");
        assert_eq!(
            RenameRule::ScreamingKebab.apply_to_field(f),
            "CREATED-AT-MS"
        );
        assert_eq!(RenameRule::Kebab.apply_to_field(f), "created-at-ms");
    }

    #[test]
    fn index_names_become_snake_case() {
        assert_eq!(snake_case("byUser"), "by_user");
        assert_eq!(snake_case("ByStatus"), "by_status");
        assert_eq!(snake_case("by-status"), "by_status");
        assert_eq!(snake_case("byUserId2"), "by_user_id2");
    }
}
