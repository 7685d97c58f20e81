//! Forward-auth fixtures: the rules the tests and the proxy snippets use.

pub const RULES: &str = r#"
[forward_auth]
default_policy = "deny"
allowed_redirect_hosts = ["romm.example.com"]

[[forward_auth.rules]]
path = "/public/**"
policy = "bypass"

[[forward_auth.rules]]
path = "/api/roms/**"
methods = ["GET", "HEAD"]
policy = "scopes"
scopes = ["roms.read"]

[[forward_auth.rules]]
path = "/api/roms/**"
policy = "scopes"
scopes = ["roms.write"]

[[forward_auth.rules]]
host = "*.example.com"
path = "/app/**"
policy = "authenticated"
login_redirect = true

[[forward_auth.rules]]
path = "/admin/**"
policy = "scopes"
scopes = ["users.write"]

[[forward_auth.rules]]
path = "/me/**"
policy = "authenticated"
login_redirect = true
"#;
