//! `[jwt]`: the signing algorithm, audience, lifetimes and the key-encryption key.

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use tessera_crypto::jwt::SigningAlg;
use tessera_service::settings::JwtSettings;

use super::{err, positive, ConfigError};

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct JwtFile {
    /// ES256 (default), EdDSA, RS256; HS256 only for apps that need a shared secret.
    algorithm: Option<String>,
    /// `aud` of access tokens (default: public_url); a list is allowed.
    audience: Option<Audience>,
    access_ttl_secs: Option<i64>,
    leeway_secs: Option<i64>,
    /// 64 hex digits; replicas must share it. Generated into the data dir when unset.
    key_encryption_key: Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(untagged)]
pub(super) enum Audience {
    One(String),
    Many(Vec<String>),
}

pub(super) fn settings(f: JwtFile, public_url: &str) -> Result<JwtSettings, ConfigError> {
    let name = f.algorithm.unwrap_or_else(|| "ES256".to_owned());
    let algorithm = SigningAlg::parse(&name)
        .ok_or_else(|| err("jwt.algorithm", "expected ES256, EdDSA, RS256 or HS256"))?;
    let audience = match f.audience {
        None => vec![public_url.to_owned()],
        Some(Audience::One(a)) => vec![a],
        Some(Audience::Many(list)) => list,
    };
    if audience.is_empty() || audience.iter().any(|a| a.trim().is_empty()) {
        return Err(err("jwt.audience", "must name at least one non-empty audience"));
    }
    let leeway_secs = f.leeway_secs.unwrap_or(60);
    if !(0..=60).contains(&leeway_secs) {
        return Err(err("jwt.leeway_secs", "must be between 0 and 60"));
    }
    let key_encryption_key = match f.key_encryption_key {
        Some(k) => {
            parse_kek(&k).map_err(|m| err("jwt.key_encryption_key", m))?;
            Some(SecretString::from(k))
        }
        None => None,
    };
    Ok(JwtSettings {
        algorithm,
        audience,
        access_ttl_secs: positive("jwt.access_ttl_secs", f.access_ttl_secs, 1800)?,
        leeway_secs,
        key_encryption_key,
    })
}

/// A key-encryption key is 32 bytes written as 64 hex digits.
pub fn parse_kek(text: &str) -> Result<[u8; 32], String> {
    let bytes = hex::decode(text.trim()).map_err(|_| "must be 64 hex digits".to_owned())?;
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| "must be 64 hex digits (32 bytes)".to_owned())
}
