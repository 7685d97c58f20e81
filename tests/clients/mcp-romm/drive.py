"""Drives mcp-romm's own client code (its module `server`, unchanged) against Tessera and prints one JSON object.

mcp-romm reads ROMM_URL, ROMM_USERNAME and ROMM_PASSWORD from the environment. Its tools are plain async
functions; an httpx response hook (observation only) records every /api/token exchange it makes, so the test
can tell a refresh from a fallback to the password.
"""

import asyncio
import json
import time
import urllib.parse

import server  # mcp-romm 1.2.1

token_requests = []


async def record(response):
    request = response.request
    if request.url.path == "/api/token":
        form = dict(urllib.parse.parse_qsl(request.content.decode()))
        token_requests.append(
            {
                "grant_type": form.get("grant_type"),
                "scope": form.get("scope"),
                "refresh_token": form.get("refresh_token"),
                "status": response.status_code,
            }
        )


async def main():
    server._get_client().event_hooks["response"].append(record)
    out = {}
    # First use: mcp-romm's password grant with its full scope list.
    out["whoami"] = await server.romm_whoami()
    first = server._token.access_token
    # The access token nears expiry: mcp-romm refreshes, re-sending that scope list.
    server._token.expires_at = 0
    out["whoami_after_refresh"] = await server.romm_whoami()
    out["access_token_changed"] = server._token.access_token != first
    out["devices"] = await server.romm_devices()
    # A 401 (the access token is no longer accepted): mcp-romm drops it and gets another.
    server._token.access_token = "no-longer-valid"
    server._token.expires_at = time.time() + 3600
    out["whoami_after_401"] = await server.romm_whoami()
    out["token_requests"] = token_requests
    print(json.dumps(out))


asyncio.run(main())
