//! The forward-auth matcher: host canonicalisation, path normalisation and first-match rule lookup on
//! arbitrary host, URI and method. A normalised path must be stable, free of dot-segments, `//` and the
//! refused characters. The matcher itself also gets the path repeated far past the normaliser's bounds,
//! against rules with several `**`: it must neither recurse (a 30 KB path once overflowed the stack) nor
//! backtrack exponentially (libFuzzer's -timeout catches that).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tessera_core::ScopeCatalog;
use tessera_service::forward_auth::{canonical_host, normalize_path, Policy, RuleSet, RuleSpec};

const RULES: &str = r#"
[[rules]]
path = "/public/**"
policy = "bypass"
[[rules]]
path = "/api/roms/*/files/**"
methods = ["GET", "HEAD"]
policy = "scopes"
scopes = ["roms.read"]
[[rules]]
host = "*.example.com"
path = "/app/**"
policy = "authenticated"
login_redirect = true
[[rules]]
host = "admin.example.com"
path = "/**"
policy = "scopes"
scopes = ["users.write"]
[[rules]]
path = "/**/a/**/*/b/**/a/**/c/**/d"
policy = "deny"
[[rules]]
path = "/x/**/**/**/**/**/**/**/**/never"
policy = "bypass"
"#;

#[derive(serde::Deserialize)]
struct File {
    rules: Vec<RuleSpec>,
}

fn rules() -> &'static RuleSet {
    static R: OnceLock<RuleSet> = OnceLock::new();
    R.get_or_init(|| {
        let file: File = toml::from_str(RULES).expect("rules");
        RuleSet::compile(&file.rules, Policy::Deny, &ScopeCatalog::romm_default()).expect("compile")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut fields = text.splitn(3, '\n');
    let (host, uri, method) = (
        fields.next().unwrap_or(""),
        fields.next().unwrap_or(""),
        fields.next().unwrap_or("GET"),
    );
    let host = match canonical_host(host) {
        Ok(h) => {
            assert!(!h.name.ends_with('.') && h.name == h.name.to_ascii_lowercase(), "{h:?}");
            h.name.into_owned()
        }
        Err(_) => String::new(),
    };
    if let Ok(path) = normalize_path(uri) {
        assert!(path.starts_with('/'), "{path:?}");
        assert!(
            !path.contains("//") && !path.contains('\\') && !path.contains('\0'),
            "{path:?}"
        );
        assert!(!path.split('/').any(|s| s == "." || s == ".."), "{path:?}");
        let _ = rules().find(&host, &path, method);
        // Long and deep: up to ~64 thousand segments straight into the matcher.
        let times = 1 + data.first().map_or(0, |b| usize::from(*b)) * 16;
        let long = format!("/x{}", path.repeat(times));
        let _ = rules().find(&host, &long, method);
    }
    let _ = rules().first_step(&host, uri, method);
});
