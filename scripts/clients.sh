#!/usr/bin/env bash
# Builds the third-party RomM clients the integration test `real_clients` drives, pinned and unchanged:
#   target/clients/romm-api/debug/romm-api-harness  romm-api from crates.io (tests/clients/romm-api, own lock)
#   target/clients/mcp-romm/bin/python               a virtualenv with mcp-romm from PyPI (requirements.txt)
# Idempotent. With CI=true a failure fails; locally it is reported and the tests say the clients are missing.
set -uo pipefail
cd "$(dirname "$0")/.."
ci=false; [[ "${CI:-}" == "true" || "${CI:-}" == "1" ]] && ci=true

fail() {
  echo "clients: $1" >&2
  if $ci; then exit 1; fi
}

cargo build --quiet --locked --manifest-path tests/clients/romm-api/Cargo.toml --target-dir target/clients/romm-api \
  || fail "romm-api harness did not build"

venv=target/clients/mcp-romm
req=tests/clients/mcp-romm/requirements.txt
stamp=$venv/.requirements
if ! cmp -s "$req" "$stamp" 2>/dev/null; then
  rm -rf "$venv"
  if python3 -m venv "$venv" \
    && "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$req" \
    && ROMM_USERNAME=probe ROMM_PASSWORD=probe "$venv/bin/python" -c 'import server, httpx' ; then
    cp "$req" "$stamp"
  else
    rm -rf "$venv"
    fail "the mcp-romm virtualenv could not be made (PyPI unreachable?)"
  fi
fi
exit 0
