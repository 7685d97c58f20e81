// A relying party built with openid-client (OpenID-certified), signing people in through Tessera as an app
// developer would (issue 20). The twin of tests/e2e/oidc_rp.py (Authlib), with the same pages and events.
//
// Usage: node rp.mjs ISSUER CLIENT_ID
// Prints one JSON line per event: ready {port}, signed_in {...}, signed_out {state}, failed {what}.
import http from 'node:http';
import * as client from 'openid-client';

const [issuer, clientId] = process.argv.slice(2);
const scope = 'openid profile email groups offline_access roms.read';
// Tessera runs on plain http in the tests; the library refuses that unless told.
const config = await client.discovery(new URL(issuer), clientId, undefined, client.None(), {
  execute: [client.allowInsecureRequests],
});
// Verify the ID token's signature with the provider's JWKS even though it came from the token endpoint.
client.enableNonRepudiationChecks(config);
const pending = new Map();
const report = (event) => process.stdout.write(JSON.stringify(event) + '\n');
const escape = (s) => String(s).replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

const server = http.createServer(async (req, res) => {
  const base = `http://127.0.0.1:${server.address().port}`;
  const url = new URL(req.url, base);
  const page = (status, body, location) => {
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', ...(location ? { location } : {}) });
    res.end(`<!doctype html><title>RP</title><body>${body}</body>`);
  };
  try {
    if (url.pathname === '/login') {
      const verifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      const nonce = client.randomNonce();
      pending.set(state, { verifier, nonce });
      const to = client.buildAuthorizationUrl(config, {
        redirect_uri: `${base}/callback`,
        scope,
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      });
      page(302, '', to.href);
    } else if (url.pathname === '/callback') {
      const state = url.searchParams.get('state');
      const { verifier, nonce } = pending.get(state);
      pending.delete(state);
      const tokens = await client.authorizationCodeGrant(config, url, {
        pkceCodeVerifier: verifier,
        expectedState: state,
        expectedNonce: nonce,
        idTokenExpected: true,
      });
      const claims = tokens.claims();
      const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
      const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
      report({
        event: 'signed_in',
        sub: claims.sub,
        username: claims.preferred_username,
        email: claims.email,
        groups: claims.groups,
        has_at_hash: 'at_hash' in claims,
        userinfo_sub: info.sub,
        refreshed: Boolean(refreshed.access_token),
        rotated: Boolean(refreshed.refresh_token) && refreshed.refresh_token !== tokens.refresh_token,
      });
      const logout = client.buildEndSessionUrl(config, {
        id_token_hint: tokens.id_token,
        post_logout_redirect_uri: `${base}/bye`,
        state: 'bye-state',
      });
      page(200, `<h1 id="hello">Hello ${escape(claims.preferred_username)}</h1><a id="logout" href="${escape(logout.href)}">Sign out</a>`);
    } else if (url.pathname === '/bye') {
      report({ event: 'signed_out', state: url.searchParams.get('state') });
      page(200, '<h1 id="bye">Signed out</h1>');
    } else {
      page(404, 'not found');
    }
  } catch (e) {
    report({ event: 'failed', what: `${e.name}: ${e.message}${e.cause ? ' ' + JSON.stringify(e.cause) : ''}` });
    page(500, `<h1 id="failed">${escape(e.message)}</h1>`);
  }
});
server.listen(0, '127.0.0.1', () => report({ event: 'ready', port: server.address().port }));
