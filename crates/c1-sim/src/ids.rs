//! Identifiers and opaque tokens in C1's shapes (27-character base62 ids).

use rand::Rng;

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Length of every C1 object id (KSUID-like, base62).
pub const ID_LEN: usize = 27;

/// A random string of `len` base62 characters.
pub fn random_base62(len: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| BASE62[rng.gen_range(0..BASE62.len())] as char)
        .collect()
}

/// A new object id: 27 base62 characters.
pub fn new_object_id() -> String {
    random_base62(ID_LEN)
}

/// A new opaque access token.
pub fn new_access_token() -> String {
    random_base62(48)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_ids_are_27_base62_characters() {
        for _ in 0..100 {
            let id = new_object_id();
            assert!(
                id.len() == ID_LEN && id.bytes().all(|b| b.is_ascii_alphanumeric()),
                "{id}"
            );
        }
    }
}
