"""A relying party built with Authlib, signing people in through Tessera as an app developer would (issue 20).

Usage: oidc_rp.py ISSUER CLIENT_ID
Serves on 127.0.0.1 (a free port), prints one JSON line per event on stdout:
  {"event": "ready", "port": N}          listening; register http://127.0.0.1:N/callback and /bye
  {"event": "signed_in", ...}           the code came back; Authlib redeemed it with PKCE, validated the
                                        ID token with its own JWKS handling, called userinfo and refreshed
  {"event": "signed_out", "state": ...} RP-initiated logout came back to /bye
  {"event": "backchannel_logout", ...}  Tessera posted a logout token to /backchannel; Authlib verified it
  {"event": "failed", "what": ...}      something did not hold; the page says so too
Pages: /login starts the sign-in, /callback finishes it (with a "Sign out" link), /bye ends.
"""
import html
import json
import secrets
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt
from authlib.oidc.core import CodeIDToken

ISSUER, CLIENT_ID = sys.argv[1], sys.argv[2]
SCOPE = "openid profile email groups offline_access roms.read"
META = requests.get(f"{ISSUER}/.well-known/openid-configuration", timeout=10).json()
PENDING = {}


REPORT_LOCK = threading.Lock()


def report(**event):
    # Requests are served on threads (the back-channel POST races the browser's redirect): one locked
    # write per line, since print() writes the text and its newline separately and lines could interleave.
    with REPORT_LOCK:
        sys.stdout.write(json.dumps(event) + "\n")
        sys.stdout.flush()


class RelyingParty(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    @property
    def base(self):
        return f"http://127.0.0.1:{self.server.server_port}"

    def answer(self, status, body="", location=None):
        self.send_response(status)
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(f"<!doctype html><title>RP</title><body>{body}</body>".encode())

    def session(self, **kw):
        return OAuth2Session(
            CLIENT_ID,
            token_endpoint_auth_method="none",
            redirect_uri=f"{self.base}/callback",
            code_challenge_method="S256",
            **kw,
        )

    def do_GET(self):
        url = urlparse(self.path)
        try:
            if url.path == "/login":
                self.login()
            elif url.path == "/callback":
                self.callback(parse_qs(url.query))
            elif url.path == "/bye":
                state = parse_qs(url.query).get("state", [None])[0]
                report(event="signed_out", state=state)
                self.answer(200, '<h1 id="bye">Signed out</h1>')
            else:
                self.answer(404, "not found")
        except Exception as e:  # reported to the test, which fails with the reason
            report(event="failed", what=f"{type(e).__name__}: {e}")
            self.answer(500, f'<h1 id="failed">{html.escape(str(e))}</h1>')

    def do_POST(self):
        try:
            if urlparse(self.path).path != "/backchannel":
                return self.answer(404, "not found")
            length = int(self.headers.get("Content-Length", "0"))
            form = parse_qs(self.rfile.read(length).decode())
            token = form["logout_token"][0]
            keys = JsonWebKey.import_key_set(requests.get(META["jwks_uri"], timeout=10).json())
            claims = jwt.decode(
                token,
                keys,
                claims_options={
                    "iss": {"essential": True, "value": ISSUER},
                    "aud": {"essential": True, "value": CLIENT_ID},
                    "iat": {"essential": True},
                },
            )
            claims.validate(leeway=5)
            event = "http://schemas.openid.net/event/backchannel-logout"
            if claims.header.get("typ") != "logout+jwt" or event not in claims.get("events", {}):
                raise AssertionError("not a logout token")
            if "nonce" in claims:
                raise AssertionError("a logout token must not carry a nonce")
            report(event="backchannel_logout", sid=claims.get("sid"), sub=claims.get("sub"))
            self.answer(200)
        except Exception as e:
            report(event="failed", what=f"backchannel: {type(e).__name__}: {e}")
            self.answer(400, "bad logout token")

    def login(self):
        verifier = secrets.token_urlsafe(48)
        nonce = secrets.token_urlsafe(16)
        client = self.session(scope=SCOPE)
        location, state = client.create_authorization_url(
            META["authorization_endpoint"], code_verifier=verifier, nonce=nonce
        )
        PENDING[state] = (verifier, nonce)
        self.answer(302, location=location)

    def callback(self, query):
        if "error" in query:
            raise AssertionError(f"authorization error {query['error'][0]}")
        state = query["state"][0]
        verifier, nonce = PENDING.pop(state)
        if query.get("iss", [None])[0] != ISSUER:
            raise AssertionError("the response lacks RFC 9207 iss")
        client = self.session(state=state)
        token = client.fetch_token(
            META["token_endpoint"],
            authorization_response=f"{self.base}{self.path}",
            code_verifier=verifier,
        )
        keys = JsonWebKey.import_key_set(requests.get(META["jwks_uri"], timeout=10).json())
        claims = jwt.decode(
            token["id_token"],
            keys,
            claims_cls=CodeIDToken,
            claims_options={"iss": {"essential": True, "value": ISSUER}},
            claims_params={"nonce": nonce, "client_id": CLIENT_ID, "access_token": token["access_token"]},
        )
        claims.validate(leeway=5)
        info = client.get(META["userinfo_endpoint"], timeout=10).json()
        refreshed = client.refresh_token(META["token_endpoint"], refresh_token=token["refresh_token"])
        report(
            event="signed_in",
            sub=claims["sub"],
            sid=claims.get("sid"),
            username=claims.get("preferred_username"),
            email=claims.get("email"),
            groups=claims.get("groups"),
            has_at_hash="at_hash" in claims,
            userinfo_sub=info.get("sub"),
            refreshed=bool(refreshed.get("access_token")),
            rotated=refreshed.get("refresh_token") not in (None, token["refresh_token"]),
        )
        logout = META["end_session_endpoint"] + "?" + urlencode(
            {"id_token_hint": token["id_token"], "post_logout_redirect_uri": f"{self.base}/bye", "state": "bye-state"}
        )
        self.answer(
            200,
            f'<h1 id="hello">Hello {html.escape(str(claims.get("preferred_username")))}</h1>'
            f'<a id="logout" href="{html.escape(logout)}">Sign out</a>',
        )


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), RelyingParty)
    report(event="ready", port=server.server_port)
    server.serve_forever()


if __name__ == "__main__":
    main()
