//! Token-endpoint bodies, form and JSON, as `OAuthParams` parses them: errors, never panics; a
//! parameter the parser reports exists exactly once.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_http::extract::OAuthParams;

fuzz_target!(|data: &[u8]| {
    let (json, body) = match data.split_first() {
        Some((flag, rest)) => (flag & 1 == 1, rest),
        None => (false, data),
    };
    if let Ok(params) = OAuthParams::parse(json, body) {
        for name in [
            "grant_type",
            "username",
            "password",
            "refresh_token",
            "scope",
            "client_id",
            "token",
        ] {
            let _ = params.get(name);
            let _ = params.require(name);
        }
    }
});
