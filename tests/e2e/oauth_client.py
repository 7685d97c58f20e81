"""End-to-end check of Tessera with a third-party OAuth 2.0 library (authlib), as an app developer would.

Usage: oauth_client.py BASE_URL USERNAME PASSWORD CLIENT_ID CLIENT_SECRET
Exits non-zero with a message on the first thing that does not work.
"""
import sys

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt


def check(cond, what):
    if not cond:
        print(f"FAILED: {what}", file=sys.stderr)
        sys.exit(1)
    print(f"ok: {what}")


def main():
    base, username, password, client_id, client_secret = sys.argv[1:6]

    meta = requests.get(f"{base}/.well-known/openid-configuration", timeout=10).json()
    check(meta["issuer"] == base, "discovery names the issuer exactly")

    # A public client (RomM's launchers use the built-in one) logs in with the password grant.
    public = OAuth2Session(client_id="tessera-cli", token_endpoint_auth_method="none", scope="openid me.read roms.read")
    token = public.fetch_token(meta["token_endpoint"], grant_type="password", username=username, password=password)
    check(token["token_type"] == "Bearer" and "refresh_token" in token, "password grant returns a bearer and refresh token")
    check(token["scope"] == "me.read roms.read", "granted scopes are reported without the OIDC ones")

    # The access token verifies against the published JWKS.
    jwks = requests.get(meta["jwks_uri"], timeout=10).json()
    keys = JsonWebKey.import_key_set(jwks)
    claims = jwt.decode(token["access_token"], keys, claims_options={
        "iss": {"essential": True, "value": base},
        "aud": {"essential": True, "value": base},
    })
    claims.validate()
    check(claims["username"] == username, "access token signature and claims verify against the JWKS")

    info = public.get(meta["userinfo_endpoint"]).json()
    check(info["preferred_username"] == username, "userinfo answers for the bearer")

    # Refresh rotates the refresh token.
    refreshed = public.refresh_token(meta["token_endpoint"], refresh_token=token["refresh_token"])
    check(refreshed["refresh_token"] != token["refresh_token"], "refresh rotates the refresh token")

    # A confidential client introspects and revokes.
    service = OAuth2Session(client_id=client_id, client_secret=client_secret, token_endpoint_auth_method="client_secret_basic")
    active = service.introspect_token(meta["introspection_endpoint"], token=refreshed["access_token"]).json()
    check(active["active"] is True and active["username"] == username, "introspection reports the token active")
    check(active["scope"] == "me.read roms.read", "introspection reports the effective scopes")

    resp = service.revoke_token(meta["revocation_endpoint"], token=refreshed["access_token"], token_type_hint="access_token")
    check(resp.status_code == 400 and resp.json()["error"] == "unauthorized_client", "only the token's own client may revoke it")
    resp = public.revoke_token(meta["revocation_endpoint"], token=refreshed["access_token"], token_type_hint="access_token")
    check(resp.status_code == 200, "revocation answers 200")
    gone = service.introspect_token(meta["introspection_endpoint"], token=refreshed["access_token"]).json()
    check(gone == {"active": False}, "a revoked access token is inactive")

    resp = public.revoke_token(meta["revocation_endpoint"], token=refreshed["refresh_token"], token_type_hint="refresh_token")
    check(resp.status_code == 200, "the public client revokes its refresh token")
    gone = service.introspect_token(meta["introspection_endpoint"], token=refreshed["refresh_token"]).json()
    check(gone == {"active": False}, "a revoked refresh token is inactive")

    machine = OAuth2Session(client_id=client_id, client_secret=client_secret, token_endpoint_auth_method="client_secret_post")
    cc = machine.fetch_token(meta["token_endpoint"], grant_type="client_credentials")
    check(jwt.decode(cc["access_token"], keys)["sub"] == f"client:{client_id}", "client credentials with client_secret_post")
    print("e2e: 14 passed, 0 failed")


if __name__ == "__main__":
    main()
