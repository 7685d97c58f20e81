// oidc-provider with one confidential client allowed client_credentials and introspection:
// the peer `make bench` measures Tessera's introspection against.
import Provider from 'oidc-provider';

const port = Number(process.argv[2] || 18300);
const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: 'bench',
    client_secret: 'bench-secret-bench-secret-bench-secret',
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
  }],
  features: {
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    devInteractions: { enabled: false },
  },
});
provider.listen(port, '127.0.0.1');
