// The upstream OpenID provider of the integration tests: oidc-provider with one confidential client
// (Tessera) and a few accounts whose claims exercise linking, registration and role/group mapping.
// Usage: node provider.mjs PORT REDIRECT_URI POST_LOGOUT_REDIRECT_URI
import Provider from 'oidc-provider';

const [port, redirectUri, postLogoutUri] = [Number(process.argv[2]), process.argv[3], process.argv[4]];

const accounts = {
  alice: { email: 'alice@example.org', email_verified: true, preferred_username: 'alice', roles: ['admin'], groups: ['family'] },
  bob: { email: 'bob@example.org', email_verified: true, preferred_username: 'bobby', roles: ['user'], groups: [] },
  carol: { email: 'carol@example.org', email_verified: false, preferred_username: 'carol', roles: ['viewer'], groups: [] },
  dave: { email: 'dave@example.org', email_verified: true, preferred_username: 'dave', groups: ['family'] },
  erin: { email: 'erin@example.org', email_verified: true, preferred_username: 'erin', roles: ['editor'], groups: ['family'] },
};

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: 'tessera',
    client_secret: 'tessera-test-secret-tessera-test-secret',
    redirect_uris: [redirectUri],
    post_logout_redirect_uris: [postLogoutUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
  }],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['preferred_username'],
    roles: ['roles'],
    groups: ['groups'],
  },
  scopes: ['openid', 'email', 'profile', 'roles', 'groups'],
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
  async findAccount(ctx, id) {
    const claims = accounts[id];
    if (!claims) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...claims }; } };
  },
});
provider.listen(port, '127.0.0.1', () => console.log(`listening on ${port}`));
