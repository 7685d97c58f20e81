//! Machine credentials: `<prefix>_` (client tokens) or `<prefix>_rt_` (refresh tokens) + 64 lowercase hex,
//! whose last 8 hex digits are the CRC-32 (IEEE) of everything before them.
//!
//! The checksum lets us refuse a mistyped or forged token without a database lookup, and lets secret
//! scanners recognise leaked ones. The prefix is a contract with users' scripts and scanners: pick it once.

use std::fmt;

use sha2::{Digest, Sha256};

/// Random bytes in a credential: 28 bytes = 224 bits, then 4 bytes of checksum = 64 hex digits.
pub const SECRET_BYTES: usize = 28;
const HEX_LEN: usize = 64;
const MAX_PREFIX_LEN: usize = 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    Client,
    Refresh,
}

impl TokenKind {
    fn infix(self) -> &'static str {
        match self {
            TokenKind::Client => "_",
            TokenKind::Refresh => "_rt_",
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FormatError {
    #[error("token prefix must be 1-{MAX_PREFIX_LEN} lowercase letters or digits")]
    BadPrefix,
    #[error("not a token of this kind")]
    Malformed,
    #[error("token checksum does not match")]
    BadChecksum,
}

/// Checks a configured prefix: short, lowercase alphanumerics, and not ending in `_rt` look-alikes.
pub fn validate_prefix(prefix: &str) -> Result<(), FormatError> {
    if prefix.is_empty()
        || prefix.len() > MAX_PREFIX_LEN
        || !prefix
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    {
        return Err(FormatError::BadPrefix);
    }
    Ok(())
}

/// A plaintext credential. It is shown once; `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct PlainToken(String);

impl PlainToken {
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn digest(&self) -> TokenDigest {
        TokenDigest::of(&self.0)
    }
}

impl fmt::Debug for PlainToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PlainToken(..)")
    }
}

/// SHA-256 of a credential: the only form that reaches the database or a cache.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenDigest(pub [u8; 32]);

impl TokenDigest {
    pub fn of(secret: &str) -> Self {
        Self(Sha256::digest(secret.as_bytes()).into())
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub fn from_slice(b: &[u8]) -> Option<Self> {
        <[u8; 32]>::try_from(b).ok().map(Self)
    }
}

impl fmt::Debug for TokenDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenDigest(..)")
    }
}

/// Builds a token from random bytes (the random source lives in tessera-crypto).
pub fn generate(
    kind: TokenKind,
    prefix: &str,
    random: &[u8; SECRET_BYTES],
) -> Result<PlainToken, FormatError> {
    validate_prefix(prefix)?;
    let mut text = format!("{prefix}{}{}", kind.infix(), hex::encode(random));
    let crc = crc32fast::hash(text.as_bytes());
    text.push_str(&format!("{crc:08x}"));
    Ok(PlainToken(text))
}

/// Checks shape and checksum without any lookup.
pub fn parse(kind: TokenKind, prefix: &str, text: &str) -> Result<PlainToken, FormatError> {
    let head_len = prefix.len() + kind.infix().len();
    if text.len() != head_len + HEX_LEN
        || !text.starts_with(prefix)
        // `get`, not indexing: the text is untrusted and may split a multi-byte character here.
        || text.get(prefix.len()..head_len) != Some(kind.infix())
    {
        return Err(FormatError::Malformed);
    }
    let hex_part = &text[head_len..];
    if !hex_part
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(FormatError::Malformed);
    }
    let (body, tail) = text.split_at(text.len() - 8);
    // Compared as numbers (the tail is already known to be lowercase hex): no string formatted per request.
    let expected = crc32fast::hash(body.as_bytes());
    if u32::from_str_radix(tail, 16) != Ok(expected) {
        return Err(FormatError::BadChecksum);
    }
    Ok(PlainToken(text.to_owned()))
}

/// True when the text looks like this kind of token at all (prefix and infix), before the full check.
pub fn has_shape(kind: TokenKind, prefix: &str, text: &str) -> bool {
    text.strip_prefix(prefix).is_some_and(|rest| {
        rest.starts_with(kind.infix()) && (kind == TokenKind::Refresh || !rest.starts_with("_rt_"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_multibyte_character_where_the_infix_goes_is_malformed_not_a_panic() {
        // "tsr" + "é" (2 bytes) + 63 more bytes: the right length, a char boundary inside the infix.
        let text = format!("tsr\u{e9}{}", "a".repeat(HEX_LEN - 1));
        assert_eq!(
            parse(TokenKind::Client, "tsr", &text),
            Err(FormatError::Malformed)
        );
        let text = format!("tsr_rx\u{e9}{}", "a".repeat(HEX_LEN - 1));
        assert_eq!(
            parse(TokenKind::Refresh, "tsr", &text),
            Err(FormatError::Malformed)
        );
    }

    #[test]
    fn generated_tokens_parse_and_have_the_documented_shape() {
        let t = generate(TokenKind::Client, "tsr", &[7u8; SECRET_BYTES]).unwrap();
        let s = t.expose();
        assert!(s.starts_with("tsr_"));
        assert_eq!(s.len(), 4 + 64);
        assert_eq!(parse(TokenKind::Client, "tsr", s), Ok(t.clone()));
        let body = &s[..s.len() - 8];
        assert_eq!(
            &s[s.len() - 8..],
            format!("{:08x}", crc32fast::hash(body.as_bytes()))
        );
        let r = generate(TokenKind::Refresh, "tsr", &[1u8; SECRET_BYTES]).unwrap();
        assert!(r.expose().starts_with("tsr_rt_"));
        assert!(parse(TokenKind::Refresh, "tsr", r.expose()).is_ok());
        assert!(has_shape(TokenKind::Refresh, "tsr", r.expose()));
        assert!(!has_shape(TokenKind::Client, "tsr", r.expose()));
    }

    #[test]
    fn mistyped_or_foreign_tokens_are_refused() {
        let t = generate(TokenKind::Client, "tsr", &[9u8; SECRET_BYTES]).unwrap();
        let s = t.expose().to_owned();
        let mut flipped = s.clone().into_bytes();
        flipped[10] = if flipped[10] == b'a' { b'b' } else { b'a' };
        let flipped = String::from_utf8(flipped).unwrap();
        assert_eq!(
            parse(TokenKind::Client, "tsr", &flipped),
            Err(FormatError::BadChecksum)
        );
        assert_eq!(parse(TokenKind::Client, "rmm", &s), Err(FormatError::Malformed));
        assert_eq!(
            parse(TokenKind::Client, "tsr", &s.to_uppercase()),
            Err(FormatError::Malformed)
        );
        assert_eq!(
            parse(TokenKind::Client, "tsr", &s[..s.len() - 1]),
            Err(FormatError::Malformed)
        );
        assert_eq!(parse(TokenKind::Refresh, "tsr", &s), Err(FormatError::Malformed));
        assert_eq!(
            generate(TokenKind::Client, "Bad_", &[0; SECRET_BYTES]),
            Err(FormatError::BadPrefix)
        );
    }

    #[test]
    fn secrets_do_not_print() {
        let t = generate(TokenKind::Client, "tsr", &[3u8; SECRET_BYTES]).unwrap();
        assert_eq!(format!("{t:?}"), "PlainToken(..)");
        assert_eq!(format!("{:?}", t.digest()), "TokenDigest(..)");
    }
}
