"""JupyterHub (PyPI) signing people in through Tessera with oauthenticator's GenericOAuthenticator (issue 20).

A whole third-party app with OpenID Connect login, configured only through its documented settings. The
test passes the ports, Tessera's URL, the client's secret and the proxy's path in the environment.
"""
import os

env = os.environ
tessera = env["TESSERA_ISSUER"]
hub = f"http://127.0.0.1:{env['HUB_PORT']}"
state_dir = env["HUB_STATE_DIR"]

c = get_config()  # noqa: F821 (JupyterHub's config loader provides it)
c.JupyterHub.bind_url = hub
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{env['HUB_API_PORT']}"
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{env['PROXY_API_PORT']}"
c.ConfigurableHTTPProxy.command = [env["CHP_PATH"]]
c.ConfigurableHTTPProxy.should_start = True
c.JupyterHub.db_url = f"sqlite:///{state_dir}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = f"{state_dir}/cookie_secret"
c.JupyterHub.pid_file = f"{state_dir}/jupyterhub.pid"
c.JupyterHub.default_url = "/hub/home"
c.JupyterHub.implicit_spawn_seconds = 0

c.JupyterHub.authenticator_class = "generic-oauth"
c.GenericOAuthenticator.client_id = "jupyterhub"
c.GenericOAuthenticator.client_secret = env["HUB_CLIENT_SECRET"]
c.GenericOAuthenticator.oauth_callback_url = f"{hub}/hub/oauth_callback"
c.GenericOAuthenticator.authorize_url = f"{tessera}/oauth/authorize"
c.GenericOAuthenticator.token_url = f"{tessera}/oauth/token"
c.GenericOAuthenticator.userdata_url = f"{tessera}/oauth/userinfo"
c.GenericOAuthenticator.scope = ["openid", "profile", "email"]
c.GenericOAuthenticator.username_claim = "preferred_username"
c.GenericOAuthenticator.enable_pkce = True
c.GenericOAuthenticator.allow_all = True
c.Authenticator.auto_login = True
