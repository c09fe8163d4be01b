//! The rule for a C1 object id (an app, a connector, a user) as it may appear in a request path:
//! a letter or digit, then letters, digits, `-` and `_`.
//!
//! C1's own ids are 27-character base62 KSUIDs (`2G8Wk6xIkBU5qJ1O4wlz4mD8ef0`); the rule is
//! wider so that readable ids (the simulator's seeded `app1`, `demo-twingate`) pass, and narrow
//! enough that no id can be a path trick: no `.` or `..`, no `/`, `?`, `#`, `%`, white space or
//! control characters, never empty.

/// The rule as a regular expression, for JSON Schemas.
pub const PATTERN: &str = "^[A-Za-z0-9][A-Za-z0-9_-]*$";

/// The rule in words, for messages ("must be a C1 id (...)").
pub const CHARACTERS: &str = "letters, digits, `-` and `_`, starting with a letter or digit";

/// Whether `s` meets [`PATTERN`].
pub fn is_object_id(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphanumeric())
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_not_ids() {
        for ok in [
            "app1",
            "demo-twingate",
            "2G8Wk6xIkBU5qJ1O4wlz4mD8ef0",
            "a_b",
            "7",
        ] {
            assert!(is_object_id(ok), "{ok}");
        }
        for bad in [
            "", ".", "..", "a/b", "a?b", "a#b", "a%2e", " a", "a ", "a b", "a\tb", "a\nb", "-a",
            "_a", "é", "a.b",
        ] {
            assert!(!is_object_id(bad), "{bad:?}");
        }
    }
}
