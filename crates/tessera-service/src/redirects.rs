//! Where a browser may be sent after signing in (`rd` on `/login` and `/login/oidc`): back to Tessera's own
//! origin, or to a host that forward-auth protects (`forward_auth.allowed_redirect_hosts`). Anything else is
//! an open redirect.

use url::Url;

/// `rd` carries bytes no honest redirect has: control characters (a browser drops a tab in `/\t/evil` and
/// goes to `//evil`; CR/LF would split the `Location` header) or a backslash (read as `/`).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the return URL (rd) has control characters or a backslash")]
pub struct BadRedirect;

/// The longest return URL kept (longer ones are dropped, not refused: the sign-in still works). An
/// OpenID authorization request with its `state`, `nonce` and PKCE challenge must fit.
const MAX_RD_BYTES: usize = 6144;

/// The validated return URL, or "" when `rd` is absent, too long or points elsewhere. It is parsed against
/// `public_url` the way a browser would resolve it, so the comparison is on the origin a browser would
/// visit, never on text. A path stays a path; an absolute URL comes back re-serialised.
pub fn safe_redirect(
    public_url: &str,
    allowed_hosts: &[String],
    rd: Option<&str>,
) -> Result<String, BadRedirect> {
    let Some(rd) = rd.filter(|r| !r.is_empty()) else {
        return Ok(String::new());
    };
    if rd.chars().any(|c| c.is_control() || c == '\\') {
        return Err(BadRedirect);
    }
    let Ok(base) = Url::parse(public_url) else {
        return Ok(String::new());
    };
    if rd.len() > MAX_RD_BYTES {
        return Ok(String::new());
    }
    let Ok(target) = base.join(rd) else {
        return Ok(String::new());
    };
    if !matches!(target.scheme(), "http" | "https")
        || !target.username().is_empty()
        || target.password().is_some()
    {
        return Ok(String::new());
    }
    let relative = rd.starts_with('/') && !rd.starts_with("//");
    if target.origin() == base.origin() {
        return Ok(if relative {
            target[url::Position::BeforePath..].to_owned()
        } else {
            target.to_string()
        });
    }
    let allowed = target
        .host_str()
        .is_some_and(|h| allowed_hosts.iter().any(|a| a.eq_ignore_ascii_case(h)));
    Ok(if allowed {
        target.to_string()
    } else {
        String::new()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "https://auth.example.com";

    fn rd(r: &str) -> Result<String, BadRedirect> {
        safe_redirect(BASE, &["romm.example.com".to_owned()], Some(r))
    }

    #[test]
    fn own_paths_and_allowed_hosts_pass() {
        assert_eq!(rd("/device?user_code=ABCD"), Ok("/device?user_code=ABCD".into()));
        assert_eq!(
            rd("https://auth.example.com/x"),
            Ok("https://auth.example.com/x".into())
        );
        assert_eq!(
            rd("https://romm.example.com:8443/a?b=c"),
            Ok("https://romm.example.com:8443/a?b=c".into())
        );
        assert_eq!(
            rd("http://ROMM.example.com/"),
            Ok("http://romm.example.com/".into())
        );
        assert_eq!(safe_redirect(BASE, &[], None), Ok(String::new()));
    }

    #[test]
    fn elsewhere_is_dropped() {
        for r in [
            "//evil.example",
            "https://evil.example",
            "https://auth.example.com.evil.example/",
            "https://auth.example.com@evil.example/",
            "https://user@romm.example.com/",
            "javascript:alert(1)",
            "data:text/html,x",
            "http://auth.example.com/",
            "https://auth.example.com:444/",
        ] {
            let out = rd(r).unwrap();
            assert!(
                !out.contains("evil") && !out.starts_with("javascript") && !out.starts_with("data"),
                "{r} -> {out}"
            );
            assert!(out.is_empty() || out.starts_with('/'), "{r} -> {out}");
        }
        // A path is resolved as a browser would: its result stays on the origin.
        assert_eq!(rd("/%2F/evil.example/x"), Ok("/%2F/evil.example/x".into()));
    }

    #[test]
    fn control_characters_and_backslashes_are_refused() {
        for r in [
            "/\t/evil.example",
            "/\n/x",
            "/x\r\nSet-Cookie: a=b",
            "/\\evil.example",
            "\u{7f}/x",
            "/\u{85}x",
        ] {
            assert_eq!(rd(r), Err(BadRedirect), "{r:?}");
        }
    }
}
