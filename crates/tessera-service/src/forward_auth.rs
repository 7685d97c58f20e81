//! Forward-auth (API.md §5): path normalisation, compiled access rules, and the decision.
//!
//! Rules are compiled once at start; matching walks the normalised path in place and allocates nothing.

use std::borrow::Cow;
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

/// Which proxy asks, and so which headers carry the original request (`forward_auth.proxy`). Decided per
/// deployment: a header family the proxy does not overwrite is the client's own.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProxyFlavor {
    /// `X-Forwarded-Method` / `X-Forwarded-Uri`, which Traefik sets on every auth request.
    Traefik,
    /// `X-Forwarded-Method` / `X-Forwarded-Uri`, which Caddy's `forward_auth` sets.
    Caddy,
    /// `X-Original-Method` / `X-Original-URI`; nginx passes the client's other headers through.
    Nginx,
    /// nginx's family when any `X-Original-*` header is present, else the `X-Forwarded-*` pair; both
    /// present and disagreeing is refused.
    #[default]
    Auto,
}

/// The original-request headers as the proxy's auth request carried them (trimmed, non-empty).
#[derive(Clone, Copy, Debug, Default)]
pub struct OriginHeaders<'a> {
    pub forwarded_method: Option<&'a str>,
    pub forwarded_uri: Option<&'a str>,
    pub original_method: Option<&'a str>,
    pub original_uri: Option<&'a str>,
}

/// The method and URI to decide on (None: not sent; the auth request's own are used).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OriginChoice<'a> {
    pub method: Option<&'a str>,
    pub uri: Option<&'a str>,
    /// The nginx family was read: a login redirect must be a 401 with `X-Auth-Redirect`.
    pub nginx: bool,
}

/// Both header families were sent and say different things: someone added one of them.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("X-Forwarded-{0} and X-Original-{0} disagree")]
pub struct OriginConflict(pub &'static str);

/// Picks the header family per `flavor`. Under `auto` a present `X-Original-*` header means nginx, and then
/// the `X-Forwarded-Uri`/`-Method` pair is never read: sent alongside, it must agree or the request is
/// refused (behind Traefik a client-added `X-Original-URI` meets Traefik's own `X-Forwarded-Uri`).
pub fn choose_origin<'a>(
    flavor: ProxyFlavor,
    h: OriginHeaders<'a>,
) -> Result<OriginChoice<'a>, OriginConflict> {
    let forwarded = OriginChoice {
        method: h.forwarded_method,
        uri: h.forwarded_uri,
        nginx: false,
    };
    let original = OriginChoice {
        method: h.original_method,
        uri: h.original_uri,
        nginx: true,
    };
    match flavor {
        ProxyFlavor::Traefik | ProxyFlavor::Caddy => Ok(forwarded),
        ProxyFlavor::Nginx => Ok(original),
        ProxyFlavor::Auto if h.original_method.is_none() && h.original_uri.is_none() => Ok(forwarded),
        ProxyFlavor::Auto => {
            let agrees = |fwd: Option<&str>, orig: Option<&str>, eq: fn(&str, &str) -> bool| {
                fwd.is_none_or(|f| orig.is_some_and(|o| eq(f, o)))
            };
            if !agrees(h.forwarded_uri, h.original_uri, |a, b| a == b) {
                return Err(OriginConflict("URI"));
            }
            if !agrees(h.forwarded_method, h.original_method, str::eq_ignore_ascii_case) {
                return Err(OriginConflict("Method"));
            }
            Ok(original)
        }
    }
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

    /// The first rule matching the canonical host name ([`canonical_host`]), normalised path and method.
    pub fn find(&self, host: &str, path: &str, method: &str) -> Option<&Rule> {
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

/// The path segment starting at byte `i` of `rest` and where the next one starts; None past the end.
fn segment_at(rest: &str, i: usize) -> Option<(&str, usize)> {
    let tail = rest.get(i..)?;
    // A byte search: `/` is ASCII, so it never splits a character (a char searcher cost ~4 % of a
    // cached forward-auth answer across the path functions).
    let end = memchr::memchr(b'/', tail.as_bytes()).unwrap_or(tail.len());
    Some((&tail[..end], i + end + 1))
}

/// Matches segments against `rest` ("a/b/c", no leading slash; one trailing slash is ignored) without
/// allocating or recursing: a two-pointer glob where `**` is the only backtracking point, so any number of
/// `**` costs at most segments × pattern length steps (the path is bounded before matching).
fn path_matches(segs: &[Seg], rest: &str) -> bool {
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    // An empty path has no segments: start past its end.
    let mut i = if rest.is_empty() { 1 } else { 0 };
    let mut p = 0;
    // After the last `**` seen: the pattern index behind it and where its match currently ends.
    let mut resume: Option<(usize, usize)> = None;
    loop {
        let here = if i > rest.len() { None } else { segment_at(rest, i) };
        match (segs.get(p), here) {
            (None, None) => return true,
            (Some(Seg::Globstar), _) => {
                p += 1;
                resume = Some((p, i));
                continue;
            }
            (Some(Seg::Star), Some((s, next))) if !s.is_empty() => {
                p += 1;
                i = next;
                continue;
            }
            (Some(Seg::Lit(l)), Some((s, next))) if s == l => {
                p += 1;
                i = next;
                continue;
            }
            _ => {}
        }
        // Mismatch: let the last `**` swallow one more segment, or fail.
        let Some((after, from)) = resume else {
            return false;
        };
        let Some((_, next)) = (if from > rest.len() {
            None
        } else {
            segment_at(rest, from)
        }) else {
            return false;
        };
        resume = Some((after, next));
        p = after;
        i = next;
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("refused path")]
pub struct BadPath;

/// A host as rules, redirects and logs see it: lowercase, one trailing dot and the port removed. The
/// name borrows the header it came from when that is already canonical (the common case: no allocation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CanonicalHost<'a> {
    /// A DNS name, a dotted IPv4 address, or a bracketed IPv6 literal.
    pub name: Cow<'a, str>,
    pub port: Option<u16>,
}

impl CanonicalHost<'_> {
    /// `name[:port]`, as a URL authority.
    pub fn authority(&self) -> String {
        match self.port {
            Some(p) => format!("{}:{p}", self.name),
            None => self.name.clone().into_owned(),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("refused host")]
pub struct BadHost;

/// Canonicalises a `Host` / `X-Forwarded-Host` value once, so that `ADMIN.example.com.:443` meets the
/// rule written for `admin.example.com`; anything that is not a host name (or IP literal) is refused.
pub fn canonical_host(raw: &str) -> Result<CanonicalHost<'_>, BadHost> {
    let raw = raw.trim_ascii();
    let port = |p: &str| -> Result<Option<u16>, BadHost> {
        if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(BadHost);
        }
        p.parse().map(Some).map_err(|_| BadHost)
    };
    if let Some(v6) = raw.strip_prefix('[') {
        let (addr, after) = v6.split_once(']').ok_or(BadHost)?;
        let ip: std::net::Ipv6Addr = addr.parse().map_err(|_| BadHost)?;
        let port = match after {
            "" => None,
            p => port(p.strip_prefix(':').ok_or(BadHost)?)?,
        };
        return Ok(CanonicalHost {
            name: Cow::Owned(format!("[{ip}]")),
            port,
        });
    }
    let (name, port) = match memchr::memchr(b':', raw.as_bytes()) {
        Some(colon) => (&raw[..colon], port(&raw[colon + 1..])?),
        None => (raw, None),
    };
    let name = name.strip_suffix('.').unwrap_or(name);
    // Labels of letters, digits, `-` and `_` (not in RFC 1123 but common in container service names),
    // 1 to 63 bytes each, 253 in all: checked in one pass over the bytes.
    let mut label = 0usize;
    for &b in name.as_bytes() {
        match b {
            b'.' if label > 0 => label = 0,
            b if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' => label += 1,
            _ => return Err(BadHost),
        }
        if label > 63 {
            return Err(BadHost);
        }
    }
    if label == 0 || name.len() > 253 {
        return Err(BadHost);
    }
    let name = if name.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(name.to_ascii_lowercase())
    } else {
        Cow::Borrowed(name)
    };
    Ok(CanonicalHost { name, port })
}

/// The longest original path matched against the rules (bytes, before decoding).
pub const MAX_PATH_BYTES: usize = 4096;
/// The most segments an original path may have.
pub const MAX_PATH_SEGMENTS: usize = 256;

/// Decodes once, removes dot-segments and collapses `//`. Refuses what proxies and apps read differently
/// (a raw `#`, encoded slashes or backslashes, double-encoded dots or separators, backslashes, NUL) and
/// paths over [`MAX_PATH_BYTES`] or [`MAX_PATH_SEGMENTS`], before any matching.
pub fn normalize_path(uri: &str) -> Result<Cow<'_, str>, BadPath> {
    let bytes = uri.as_bytes();
    if memchr::memchr(b'#', bytes).is_some() {
        return Err(BadPath);
    }
    let raw = &uri[..memchr::memchr(b'?', bytes).unwrap_or(uri.len())];
    if already_normal(raw) {
        return Ok(Cow::Borrowed(raw));
    }
    normalize_raw(raw).map(Cow::Owned)
}

/// [`normalize_path`] without the shortcut (a path without its query).
fn normalize_raw(raw: &str) -> Result<String, BadPath> {
    if raw.len() > MAX_PATH_BYTES || raw.split('/').count() > MAX_PATH_SEGMENTS + 1 {
        return Err(BadPath);
    }
    let lower = raw.to_ascii_lowercase();
    if ["%2f", "%5c", "%00", "%252e", "%252f", "%255c"]
        .iter()
        .any(|bad| lower.contains(bad))
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

/// The common case, answered without decoding or allocating twice: a path that starts with `/`, has no
/// `%`, `\\`, NUL or control byte, no empty, `.` or `..` segment except a final empty one (a trailing
/// slash), and is within the bounds. Normalizing it would return it unchanged.
fn already_normal(raw: &str) -> bool {
    let b = raw.as_bytes();
    if b.first() != Some(&b'/') || b.len() > MAX_PATH_BYTES {
        return false;
    }
    // One pass over the bytes: `seg` is the length of the segment so far and `dots` how many of its
    // bytes are dots; a segment ends at each `/` (the one at the start opens the first).
    let (mut segments, mut seg, mut dots) = (0usize, 0usize, 0usize);
    for &c in &b[1..] {
        if c == b'/' {
            if seg == 0 || seg == dots && dots <= 2 {
                return false;
            }
            segments += 1;
            (seg, dots) = (0, 0);
            continue;
        }
        if !c.is_ascii_graphic() || c == b'%' || c == b'\\' {
            return false;
        }
        seg += 1;
        dots += usize::from(c == b'.');
    }
    // The last segment: empty is a trailing slash (allowed), `.` or `..` is not.
    if seg > 0 && seg == dots && dots <= 2 {
        return false;
    }
    segments + 1 < MAX_PATH_SEGMENTS
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
    /// The decision before any credential is read: bypass and deny never examine one. `host` is a
    /// canonical name ([`canonical_host`]).
    pub fn first_step<'u>(&self, host: &str, uri: &'u str, method: &str) -> (Step<'_>, Option<Cow<'u, str>>) {
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

    /// The shortcut for already-normal paths answers exactly what the full normalization does.
    #[test]
    fn the_shortcut_agrees_with_the_full_normalization() {
        let parts = [
            "", "/", "a", ".", "..", "%2e", "b c", "x;y", "\\", "é", "~", "//", "?q", "A",
        ];
        let mut checked = 0;
        for a in parts {
            for b in parts {
                for c in parts {
                    let raw = format!("/{a}/{b}{c}");
                    if super::already_normal(&raw) {
                        checked += 1;
                        assert_eq!(super::normalize_raw(&raw), Ok(raw.clone()), "{raw}");
                    }
                }
            }
        }
        assert!(checked > 50, "only {checked} inputs took the shortcut");
        assert!(matches!(
            normalize_path("/api/roms?x=1"),
            Ok(Cow::Borrowed("/api/roms"))
        ));
        let deep = "/a".repeat(MAX_PATH_SEGMENTS + 1);
        assert!(!super::already_normal(&deep));
        assert_eq!(normalize_path(&deep), Err(BadPath));
    }
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
        let host = |h: &str| canonical_host(h).unwrap().name.into_owned();
        assert_eq!(
            r.find(&host("romm.example.com:8443"), "/x", "GET")
                .map(|x| x.index),
            Some(0)
        );
        assert_eq!(
            r.find(&host("ROMM.example.com"), "/x", "head").map(|x| x.index),
            Some(0)
        );
        assert_eq!(r.find("romm.example.com", "/x", "POST").map(|x| x.index), Some(1));
        assert_eq!(r.find("a.b.example.com", "/x", "POST").map(|x| x.index), Some(1));
        assert_eq!(r.find("example.com", "/x", "GET").map(|x| x.index), None);
        assert_eq!(r.find("evilexample.com", "/x", "GET").map(|x| x.index), None);
    }

    #[test]
    fn paths_are_normalised_or_refused() {
        assert_eq!(normalize_path("/a/./b/../c?x=1"), Ok("/a/c".into()));
        assert_eq!(normalize_path("/"), Ok("/".into()));
        assert_eq!(normalize_path("/api/roms/"), Ok("/api/roms/".into()));
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
            Err(BadPath),
            "double-encoded dots"
        );
        assert_eq!(normalize_path("/a%252Fb"), Err(BadPath), "double-encoded slash");
        assert_eq!(normalize_path("/public/x#/../admin"), Err(BadPath), "a raw #");
        assert_eq!(normalize_path("/a%25b"), Ok("/a%b".into()), "decoded once only");
    }

    #[test]
    fn long_and_deep_paths_are_refused_before_matching() {
        let deep = "/a".repeat(MAX_PATH_SEGMENTS + 1);
        assert_eq!(normalize_path(&deep), Err(BadPath));
        assert!(normalize_path(&"/a".repeat(MAX_PATH_SEGMENTS)).is_ok());
        assert_eq!(
            normalize_path(&format!("/{}", "x".repeat(MAX_PATH_BYTES))),
            Err(BadPath)
        );
        assert!(
            normalize_path(&format!("/x?{}", "q".repeat(100_000))).is_ok(),
            "the query is not matched"
        );
        let r = rules(&[("/public/**", None, None, Policy::Bypass, &[])]);
        // What crashed the process: one recursion per segment of a 30 KB path.
        let (step, _) = r.first_step("h", &"/public/x".repeat(3_500), "GET");
        assert!(matches!(step, Step::Done(Decision::BadPath)));
    }

    #[test]
    fn the_matcher_never_recurses_or_backtracks_exponentially() {
        let specs: Vec<Seg> = (0..40)
            .flat_map(|_| [Seg::Globstar, Seg::Lit("a".into())])
            .chain([Seg::Lit("never".into())])
            .collect();
        let path = vec!["a"; 200_000].join("/");
        // Unbounded input straight to the matcher: linear in practice, quadratic at worst, no stack.
        assert!(!path_matches(&specs[..specs.len() - 1][..4], "b"));
        assert!(path_matches(&specs[..specs.len() - 1], &path));
        let short = vec!["a"; 2_000].join("/");
        assert!(!path_matches(&specs, &short));
        let g = [
            Seg::Globstar,
            Seg::Lit("x".into()),
            Seg::Globstar,
            Seg::Lit("y".into()),
            Seg::Globstar,
        ];
        assert!(path_matches(&g, "x/y"));
        assert!(path_matches(&g, "p/x/q/y/r/s"));
        assert!(!path_matches(&g, "y/x"));
        assert!(path_matches(&[Seg::Globstar], ""));
        assert!(path_matches(&[Seg::Lit("a".into()), Seg::Globstar], "a"));
        assert!(!path_matches(&[Seg::Lit("a".into()), Seg::Star], "a/"));
        assert!(path_matches(&[Seg::Lit("a".into()), Seg::Star], "a/b/"));
        assert!(!path_matches(&[], "a"));
    }

    #[test]
    fn hosts_are_canonicalised_once() {
        let c = |h: &str| canonical_host(h).map(|c| (c.name.into_owned(), c.port));
        assert_eq!(c("admin.example.com."), Ok(("admin.example.com".into(), None)));
        assert_eq!(
            c("ADMIN.example.com.:443"),
            Ok(("admin.example.com".into(), Some(443)))
        );
        assert_eq!(c("[::1]:8080"), Ok(("[::1]".into(), Some(8080))));
        assert_eq!(c("[0:0::1]"), Ok(("[::1]".into(), None)));
        assert_eq!(c("127.0.0.1:9"), Ok(("127.0.0.1".into(), Some(9))));
        assert_eq!(c("romm_app"), Ok(("romm_app".into(), None)));
        // An already-canonical name is the header's own text, not a copy (the hot path's common case).
        assert!(matches!(
            canonical_host("romm.example.com:8443").unwrap().name,
            Cow::Borrowed("romm.example.com")
        ));
        assert!(matches!(
            canonical_host("Romm.example.com").unwrap().name,
            Cow::Owned(_)
        ));
        for bad in [
            "",
            ".",
            "a..b",
            "a.b..",
            "a b",
            "a/b",
            "a@b",
            "::1",
            "[::1",
            "[zz]",
            "h:",
            "h:99999",
            "h:1:2",
            "h:+1",
            "\u{e9}.example.com",
            "a\\b",
        ] {
            assert_eq!(canonical_host(bad), Err(BadHost), "{bad:?}");
        }
        assert_eq!(canonical_host(&"a".repeat(64)), Err(BadHost), "a label over 63");
        let r = rules(&[
            (
                "/**",
                Some("admin.example.com"),
                None,
                Policy::Scopes,
                &["users.write"],
            ),
            ("/**", None, None, Policy::Bypass, &[]),
        ]);
        for spoof in [
            "admin.example.com.",
            "ADMIN.example.com.:443",
            "Admin.Example.Com",
        ] {
            let host = canonical_host(spoof).unwrap().name;
            assert_eq!(r.find(&host, "/x", "GET").map(|x| x.index), Some(0), "{spoof}");
        }
    }

    #[test]
    fn the_header_family_is_the_deployments() {
        let spoofed = OriginHeaders {
            forwarded_method: Some("GET"),
            forwarded_uri: Some("/public/x"),
            original_method: Some("POST"),
            original_uri: Some("/admin/users"),
        };
        let nginx = OriginChoice {
            method: Some("POST"),
            uri: Some("/admin/users"),
            nginx: true,
        };
        assert_eq!(choose_origin(ProxyFlavor::Nginx, spoofed), Ok(nginx));
        assert_eq!(
            choose_origin(ProxyFlavor::Auto, spoofed),
            Err(OriginConflict("URI"))
        );
        let method_only = OriginHeaders {
            forwarded_uri: Some("/admin/users"),
            ..spoofed
        };
        assert_eq!(
            choose_origin(ProxyFlavor::Auto, method_only),
            Err(OriginConflict("Method"))
        );
        // Behind Traefik a client adds X-Original-URI equal to the real path, hoping the method falls back.
        let traefik_with_added = OriginHeaders {
            forwarded_method: Some("POST"),
            forwarded_uri: Some("/admin/users"),
            original_method: None,
            original_uri: Some("/admin/users"),
        };
        assert_eq!(
            choose_origin(ProxyFlavor::Auto, traefik_with_added),
            Err(OriginConflict("Method"))
        );
        assert_eq!(
            choose_origin(ProxyFlavor::Traefik, spoofed),
            Ok(OriginChoice {
                method: Some("GET"),
                uri: Some("/public/x"),
                nginx: false
            })
        );
        let honest_nginx = OriginHeaders {
            forwarded_method: None,
            forwarded_uri: None,
            ..spoofed
        };
        assert_eq!(choose_origin(ProxyFlavor::Auto, honest_nginx), Ok(nginx));
        let agreeing = OriginHeaders {
            forwarded_method: Some("post"),
            forwarded_uri: Some("/admin/users"),
            ..spoofed
        };
        assert_eq!(choose_origin(ProxyFlavor::Auto, agreeing), Ok(nginx));
        let honest_traefik = OriginHeaders {
            original_method: None,
            original_uri: None,
            ..spoofed
        };
        assert!(!choose_origin(ProxyFlavor::Auto, honest_traefik).unwrap().nginx);
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
