//! Forward-auth (API.md §5): path normalisation, compiled access rules, and the decision.
//!
//! Rules are compiled once at start; matching walks the normalised path in place and allocates nothing.

use tessera_core::{ScopeCatalog, ScopeSet};

use crate::identity::Identity;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    Bypass,
    Authenticated,
    Scopes,
    Deny,
}

/// A rule as written in the config file.
#[derive(Clone, Debug, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub host: Option<String>,
    pub path: String,
    pub methods: Option<Vec<String>>,
    pub policy: Policy,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub login_redirect: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum HostPattern {
    Any,
    Exact(String),
    /// `*.example.com`: any host ending in `.example.com`.
    Suffix(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Seg {
    Lit(String),
    /// One non-empty segment.
    Star,
    /// Zero or more segments.
    Globstar,
}

#[derive(Clone, Debug)]
pub struct Rule {
    pub index: usize,
    pub spec: RuleSpec,
    host: HostPattern,
    segs: Vec<Seg>,
    methods: Option<Vec<String>>,
    pub scopes: ScopeSet,
}

#[derive(Clone, Debug)]
pub struct RuleSet {
    rules: Vec<Rule>,
    pub default_policy: Policy,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("forward_auth.rules[{index}]: {message}")]
pub struct RuleError {
    pub index: usize,
    pub message: String,
}

impl RuleSet {
    /// Compiles and checks rules; an error names the rule.
    pub fn compile(
        specs: &[RuleSpec],
        default_policy: Policy,
        catalog: &ScopeCatalog,
    ) -> Result<RuleSet, RuleError> {
        let mut rules = Vec::with_capacity(specs.len());
        for (index, spec) in specs.iter().enumerate() {
            let err = |message: String| RuleError { index, message };
            let host = match spec.host.as_deref().map(str::to_ascii_lowercase) {
                None => HostPattern::Any,
                Some(h) if h == "*" => HostPattern::Any,
                Some(h) if h.starts_with("*.") && h.len() > 2 && !h[2..].contains('*') => {
                    HostPattern::Suffix(h[1..].to_owned())
                }
                Some(h) if !h.is_empty() && !h.contains('*') && !h.contains('/') => HostPattern::Exact(h),
                Some(h) => return Err(err(format!("host {h:?} must be a name or *.domain"))),
            };
            if !spec.path.starts_with('/') {
                return Err(err(format!("path {:?} must start with /", spec.path)));
            }
            let mut segs = Vec::new();
            for s in spec.path[1..].split('/').filter(|s| !s.is_empty()) {
                segs.push(match s {
                    "**" => Seg::Globstar,
                    "*" => Seg::Star,
                    lit if lit.contains('*') => {
                        return Err(err(format!("path {:?}: '*' must be a whole segment", spec.path)))
                    }
                    lit => Seg::Lit(lit.to_owned()),
                });
            }
            let methods = spec
                .methods
                .as_ref()
                .map(|m| m.iter().map(|x| x.to_ascii_uppercase()).collect::<Vec<_>>());
            if methods.as_ref().is_some_and(|m| {
                m.is_empty()
                    || m.iter()
                        .any(|x| x.is_empty() || !x.bytes().all(|b| b.is_ascii_uppercase()))
            }) {
                return Err(err("methods must be HTTP method names".into()));
            }
            let scopes = catalog
                .parse_names(spec.scopes.iter().map(String::as_str))
                .map_err(|e| err(e.to_string()))?;
            match (spec.policy, scopes.is_empty()) {
                (Policy::Scopes, true) => {
                    return Err(err("policy \"scopes\" needs at least one scope".into()))
                }
                (Policy::Bypass | Policy::Deny | Policy::Authenticated, false) => {
                    return Err(err("scopes are only meaningful with policy \"scopes\"".into()))
                }
                _ => {}
            }
            rules.push(Rule {
                index,
                spec: spec.clone(),
                host,
                segs,
                methods,
                scopes,
            });
        }
        Ok(RuleSet {
            rules,
            default_policy,
        })
    }

    /// The first rule matching host (without port), normalised path and method.
    pub fn find(&self, host: &str, path: &str, method: &str) -> Option<&Rule> {
        let host = host
            .rsplit_once(':')
            .filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit()))
            .map_or(host, |(h, _)| h);
        self.rules.iter().find(|r| {
            host_matches(&r.host, host)
                && r.methods
                    .as_ref()
                    .is_none_or(|m| m.iter().any(|x| x.eq_ignore_ascii_case(method)))
                && path_matches(&r.segs, path.strip_prefix('/').unwrap_or(path))
        })
    }
}

fn host_matches(p: &HostPattern, host: &str) -> bool {
    match p {
        HostPattern::Any => true,
        HostPattern::Exact(h) => host.eq_ignore_ascii_case(h),
        // `get`, not indexing: the host comes from a header and may split a multi-byte character
        // where the suffix would start (found by the `forward_rules` fuzz target).
        HostPattern::Suffix(s) => {
            host.len() > s.len()
                && host
                    .get(host.len() - s.len()..)
                    .is_some_and(|tail| tail.eq_ignore_ascii_case(s))
        }
    }
}

/// Matches segments against `rest` ("a/b/c", no leading slash) without allocating.
fn path_matches(segs: &[Seg], rest: &str) -> bool {
    let (head, tail) = match rest.split_once('/') {
        Some((h, t)) => (h, Some(t)),
        None => (rest, None),
    };
    let at_end = rest.is_empty();
    match segs.first() {
        None => at_end || (head.is_empty() && tail.is_none()),
        Some(Seg::Globstar) => {
            if path_matches(&segs[1..], rest) {
                return true;
            }
            !at_end && tail.is_some_and(|t| path_matches(segs, t))
                || (!at_end && tail.is_none() && segs.len() == 1)
        }
        Some(Seg::Star) => !at_end && !head.is_empty() && path_matches(&segs[1..], tail.unwrap_or("")),
        Some(Seg::Lit(l)) => !at_end && head == l && path_matches(&segs[1..], tail.unwrap_or("")),
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("refused path")]
pub struct BadPath;

/// Decodes once, refuses encoded slashes, backslashes and NUL, removes dot-segments and collapses `//`.
pub fn normalize_path(uri: &str) -> Result<String, BadPath> {
    let raw = uri.split(['?', '#']).next().unwrap_or("");
    let lower = raw.to_ascii_lowercase();
    if lower.contains("%2f")
        || lower.contains("%5c")
        || lower.contains("%00")
        || raw.contains('\\')
        || raw.contains('\0')
    {
        return Err(BadPath);
    }
    let decoded = percent_decode(raw).ok_or(BadPath)?;
    if decoded.contains('\\') || decoded.contains('\0') {
        return Err(BadPath);
    }
    let mut out: Vec<&str> = Vec::new();
    for seg in decoded.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    let trailing = decoded.ends_with('/') && !out.is_empty();
    let mut path = format!("/{}", out.join("/"));
    if trailing {
        path.push('/');
    }
    Ok(path)
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// What the proxy hears.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// 200 without identity headers.
    Bypass,
    /// 200 with identity headers.
    Allow,
    /// 401; `login_redirect` from the rule.
    Unauthenticated {
        login_redirect: bool,
    },
    Denied,
    MissingScope {
        required: Vec<String>,
        missing: Vec<String>,
    },
    BadPath,
}

/// Which rule applies and whether a credential must be examined at all.
#[derive(Clone, Debug)]
pub enum Step<'a> {
    Done(Decision),
    NeedsIdentity { rule: Option<&'a Rule>, policy: Policy },
}

impl RuleSet {
    /// The decision before any credential is read: bypass and deny never examine one.
    pub fn first_step(&self, host: &str, uri: &str, method: &str) -> (Step<'_>, Option<String>) {
        let Ok(path) = normalize_path(uri) else {
            return (Step::Done(Decision::BadPath), None);
        };
        let rule = self.find(host, &path, method);
        let policy = rule.map_or(self.default_policy, |r| r.spec.policy);
        let step = match policy {
            Policy::Bypass => Step::Done(Decision::Bypass),
            Policy::Deny => Step::Done(Decision::Denied),
            Policy::Authenticated | Policy::Scopes => Step::NeedsIdentity { rule, policy },
        };
        (step, Some(path))
    }
}

/// The decision once the credential is known (None: no credential, or an invalid one).
pub fn decide(
    catalog: &ScopeCatalog,
    rule: Option<&Rule>,
    policy: Policy,
    identity: Option<&Identity>,
) -> Decision {
    let login_redirect = rule.is_some_and(|r| r.spec.login_redirect);
    let Some(id) = identity else {
        return Decision::Unauthenticated { login_redirect };
    };
    match (policy, rule) {
        (Policy::Scopes, Some(r)) if !id.scopes.covers(r.scopes) => Decision::MissingScope {
            required: catalog.names(r.scopes).into_iter().map(str::to_owned).collect(),
            missing: catalog
                .names(r.scopes.minus(id.scopes))
                .into_iter()
                .map(str::to_owned)
                .collect(),
        },
        _ => Decision::Allow,
    }
}

/// Whether `host` (without port) may receive a login redirect: public_url's host or an allowed one.
pub fn redirect_host_allowed(public_url: &str, allowed: &[String], host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    let own = public_url
        .split_once("://")
        .map(|(_, rest)| rest.split(['/', ':']).next().unwrap_or("").to_ascii_lowercase());
    own.as_deref() == Some(host.as_str()) || allowed.contains(&host)
}

/// The host of an absolute http(s) URL, without port.
pub fn url_host(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let authority = rest.split(['/', '?', '#']).next()?;
    if authority.contains('@') {
        return None;
    }
    Some(authority.rsplit_once(':').map_or(authority, |(h, _)| h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_non_ascii_host_never_panics_the_suffix_match() {
        let p = HostPattern::Suffix(".example.com".into());
        assert!(!host_matches(&p, "app\u{65a}xample.com"));
        assert!(!host_matches(&p, "m..*-x/\u{39a}*-x/\u{39a}\u{407}\u{407}/"));
        assert!(host_matches(&p, "\u{e9}t\u{e9}.example.com"));
    }

    type Row<'a> = (
        &'a str,
        Option<&'a str>,
        Option<&'a [&'a str]>,
        Policy,
        &'a [&'a str],
    );

    fn rules(list: &[Row<'_>]) -> RuleSet {
        let specs: Vec<RuleSpec> = list
            .iter()
            .map(|(path, host, methods, policy, scopes)| RuleSpec {
                host: host.map(str::to_owned),
                path: (*path).to_owned(),
                methods: methods.map(|m| m.iter().map(|x| (*x).to_owned()).collect()),
                policy: *policy,
                scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
                login_redirect: false,
            })
            .collect();
        RuleSet::compile(&specs, Policy::Deny, &ScopeCatalog::romm_default()).unwrap()
    }

    #[test]
    fn globs_match_segments() {
        let r = rules(&[
            ("/api/roms/**", None, None, Policy::Scopes, &["roms.read"]),
            ("/assets/*/thumb", None, None, Policy::Bypass, &[]),
            ("/", None, None, Policy::Authenticated, &[]),
        ]);
        let idx = |p: &str| r.find("h", p, "GET").map(|x| x.index);
        assert_eq!(idx("/api/roms"), Some(0));
        assert_eq!(idx("/api/roms/"), Some(0));
        assert_eq!(idx("/api/roms/1/files/a.zip"), Some(0));
        assert_eq!(idx("/api/romsx"), None);
        assert_eq!(idx("/assets/42/thumb"), Some(1));
        assert_eq!(idx("/assets//thumb"), None, "* is one non-empty segment");
        assert_eq!(idx("/assets/1/2/thumb"), None);
        assert_eq!(idx("/"), Some(2));
        assert_eq!(idx("/other"), None);
    }

    #[test]
    fn hosts_and_methods() {
        let r = rules(&[
            (
                "/**",
                Some("romm.example.com"),
                Some(&["GET", "HEAD"]),
                Policy::Bypass,
                &[],
            ),
            ("/**", Some("*.example.com"), None, Policy::Authenticated, &[]),
        ]);
        assert_eq!(
            r.find("romm.example.com:8443", "/x", "GET").map(|x| x.index),
            Some(0)
        );
        assert_eq!(r.find("ROMM.example.com", "/x", "head").map(|x| x.index), Some(0));
        assert_eq!(r.find("romm.example.com", "/x", "POST").map(|x| x.index), Some(1));
        assert_eq!(r.find("a.b.example.com", "/x", "POST").map(|x| x.index), Some(1));
        assert_eq!(r.find("example.com", "/x", "GET").map(|x| x.index), None);
        assert_eq!(r.find("evilexample.com", "/x", "GET").map(|x| x.index), None);
    }

    #[test]
    fn paths_are_normalised_or_refused() {
        assert_eq!(normalize_path("/a/./b/../c?x=1"), Ok("/a/c".into()));
        assert_eq!(normalize_path("//admin"), Ok("/admin".into()));
        assert_eq!(normalize_path("/public/../admin"), Ok("/admin".into()));
        assert_eq!(normalize_path("/public/%2e%2e/admin"), Ok("/admin".into()));
        assert_eq!(normalize_path("/../../etc"), Ok("/etc".into()));
        assert_eq!(normalize_path("/a%20b/"), Ok("/a b/".into()));
        assert_eq!(normalize_path("/public/..%2fadmin"), Err(BadPath));
        assert_eq!(normalize_path("/a%5Cb"), Err(BadPath));
        assert_eq!(normalize_path("/a\\b"), Err(BadPath));
        assert_eq!(normalize_path("/a%00"), Err(BadPath));
        assert_eq!(normalize_path("/a%zz"), Err(BadPath));
        assert_eq!(
            normalize_path("/%252e%252e/x"),
            Ok("/%2e%2e/x".into()),
            "decoded once only"
        );
    }

    #[test]
    fn bad_rules_name_themselves() {
        let c = ScopeCatalog::romm_default();
        let spec = |path: &str, policy: Policy, scopes: &[&str]| RuleSpec {
            host: None,
            path: path.into(),
            methods: None,
            policy,
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            login_redirect: false,
        };
        let e = RuleSet::compile(
            &[
                spec("/ok", Policy::Bypass, &[]),
                spec("/a*b", Policy::Bypass, &[]),
            ],
            Policy::Deny,
            &c,
        )
        .unwrap_err();
        assert_eq!(e.index, 1);
        assert!(RuleSet::compile(&[spec("/x", Policy::Scopes, &["nope"])], Policy::Deny, &c).is_err());
        assert!(RuleSet::compile(&[spec("/x", Policy::Scopes, &[])], Policy::Deny, &c).is_err());
        assert!(RuleSet::compile(&[spec("x", Policy::Bypass, &[])], Policy::Deny, &c).is_err());
    }
}
