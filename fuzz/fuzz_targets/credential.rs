//! The Authorization header as the credential extractor reads it: scheme, Basic decoding, and the
//! client- and refresh-token formats (shape, hex, CRC-32 tail), and the same header as OAuth client
//! authentication reads it. Nothing here may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_core::token_format::{self, TokenKind};

fuzz_target!(|data: &[u8]| {
    let client = tessera_service::oauth::PresentedClient {
        authorization: Some(data),
        ..Default::default()
    };
    if let Ok(auth) = client.read() {
        assert_eq!(auth.method, tessera_service::oauth::ClientAuthMethod::Basic);
        assert!(auth.client_id.is_some() && auth.secret.is_some());
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (scheme, credential) = text.split_once(' ').unwrap_or((text, ""));
    let credential = credential.trim();
    if scheme.eq_ignore_ascii_case("basic") {
        if let Some((user, password)) = tessera_service::authn::decode_basic(credential) {
            assert!(!user.contains(':'), "the username ends at the first colon");
            let _ = password;
        }
    }
    for prefix in ["tsr", "rmm"] {
        for kind in [TokenKind::Client, TokenKind::Refresh] {
            let shaped = token_format::has_shape(kind, prefix, credential);
            if let Ok(token) = token_format::parse(kind, prefix, credential) {
                assert!(shaped, "a parsed token has its shape");
                assert_eq!(token.expose(), credential);
                let _ = token.digest();
            }
        }
    }
});
