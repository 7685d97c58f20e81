//! Key material and secret handling: bcrypt on a bounded pool, digests, constant-time equality, randomness.

pub mod jwt;
pub mod password;
pub mod random;

pub use password::{PasswordError, PasswordHasher};

/// Compares two byte strings in constant time (for equal lengths).
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// SHA-256 of arbitrary bytes.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(data).into()
}

/// HMAC-SHA-256, for values that must be bound to a secret (CSRF tokens).
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    use hmac::{Mac, SimpleHmac};
    // SimpleHmac accepts keys of any length; new_from_slice cannot fail for it.
    match SimpleHmac::<sha2::Sha256>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(data);
            mac.finalize().into_bytes().into()
        }
        Err(_) => [0u8; 32],
    }
}

/// HMAC-SHA-256 under one key for many messages: the key's two blocks are hashed once, here, and each
/// [`KeyedHmac::mac`] clones that state, so a message costs only its own blocks and the outer one.
#[derive(Clone)]
pub struct KeyedHmac(hmac::Hmac<sha2::Sha256>);

impl KeyedHmac {
    pub fn new(key: &[u8; 32]) -> Self {
        // A key shorter than SHA-256's 64-byte block is zero-padded to one (RFC 2104 §2); padded here, it
        // is a block-sized key, which needs no length check.
        let mut block = [0u8; 64];
        block[..32].copy_from_slice(key);
        KeyedHmac(<hmac::Hmac<sha2::Sha256> as hmac::digest::KeyInit>::new(
            &block.into(),
        ))
    }

    /// The MAC of the parts' concatenation.
    pub fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        use hmac::Mac;
        let mut mac = self.0.clone();
        for part in parts {
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn hmac_matches_rfc4231_case_2() {
        let mac = super::hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn a_keyed_hmac_is_hmac_of_the_concatenation() {
        let key = [7u8; 32];
        let keyed = super::KeyedHmac::new(&key);
        let whole = super::hmac_sha256(&key, b"203.0.113.9\nYWRhOnB3");
        assert_eq!(keyed.mac(&[b"203.0.113.9", b"\n", b"YWRhOnB3"]), whole);
        assert_eq!(
            keyed.mac(&[b"203.0.113.9\nYWRhOnB3"]),
            whole,
            "the key state is reused, not consumed"
        );
    }

    #[test]
    fn ct_eq_compares_content_and_length() {
        assert!(super::ct_eq(b"abc", b"abc"));
        assert!(!super::ct_eq(b"abc", b"abd"));
        assert!(!super::ct_eq(b"abc", b"abcd"));
    }
}
