//! A DNS label: 1 to 63 letters, digits and inner hyphens (for example the `acme` of
//! `acme.twingate.com`).

/// The rule as a regular expression, for JSON Schemas (the length is checked apart).
pub const PATTERN: &str = r"^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$";

/// Most characters a label may have.
pub const MAX_LEN: usize = 63;

/// Whether `s` is one DNS label.
pub fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_LEN
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_not_labels() {
        for ok in ["acme", "a", "acme-corp", "a1", &"x".repeat(63)] {
            assert!(is_dns_label(ok), "{ok}");
        }
        for bad in [
            "",
            "-acme",
            "acme-",
            "acme.twingate.com",
            "ac me",
            "äcme",
            &"x".repeat(64),
        ] {
            assert!(!is_dns_label(bad), "{bad}");
        }
    }
}
