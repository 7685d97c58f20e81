//! The one source of randomness: the operating system's CSPRNG.

use rand::RngCore;
use tessera_core::token_format::{self, FormatError, PlainToken, TokenKind, SECRET_BYTES};

pub fn bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b
}

pub fn hex_secret(n_bytes: usize) -> String {
    let mut b = vec![0u8; n_bytes];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

/// A fresh client or refresh token with 224 random bits.
pub fn token(kind: TokenKind, prefix: &str) -> Result<PlainToken, FormatError> {
    token_format::generate(kind, prefix, &bytes::<SECRET_BYTES>())
}
