//! JWT compact form against a real key ring: arbitrary text, and a genuine token with fuzzed header or
//! payload segments. Verification must refuse (never panic) anything but the genuine token.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tessera_crypto::jwt::{generate_key, Expectations, KeyRing, LoadedKey, SigningAlg};

struct Fixture {
    ring: KeyRing,
    genuine: String,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let key = generate_key(SigningAlg::Es256).expect("key");
        let loaded = LoadedKey::from_private_jwk(SigningAlg::Es256, &key.kid, &key.private_jwk, None).expect("load");
        let ring = KeyRing::new(vec![loaded], Some(&key.kid));
        let claims = serde_json::json!({"iss": "https://id.example", "aud": "tessera", "sub": "1",
            "exp": 2_000_000_000i64, "iat": 1_700_000_000i64, "nbf": 1_700_000_000i64, "jti": "j", "scope": "me.read"});
        let genuine = ring.sign(claims.as_object().expect("object").clone()).expect("sign");
        Fixture { ring, genuine }
    })
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let expect = Expectations {
        issuer: "https://id.example",
        audience: "tessera",
        now: 1_800_000_000,
        leeway_secs: 60,
    };
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if text != f.genuine {
        assert!(
            f.ring.verify(text, &expect).is_err(),
            "only the genuine token verifies"
        );
    }
    // Splice the input into each segment of the genuine token.
    let parts: Vec<&str> = f.genuine.split('.').collect();
    for i in 0..3 {
        let mut spliced = parts.clone();
        spliced[i] = text;
        let token = spliced.join(".");
        if token != f.genuine {
            assert!(
                f.ring.verify(&token, &expect).is_err(),
                "a changed segment {i} must not verify"
            );
        }
    }
});
