#!/usr/bin/env bash
# API fuzzing: schemathesis against /openapi.json of a running Tessera (SQLite, memory store), as an
# admin, with bounded examples. Fails on any server error or any response that does not match the spec.
# Usage: scripts/api-fuzz.sh [path/to/tessera]   (MAX_EXAMPLES, default 20 per operation)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-target/debug/tessera}")
examples=${MAX_EXAMPLES:-20}
python3 -c 'import schemathesis' 2>/dev/null || python3 -m pip install --quiet schemathesis
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
export TESSERA_DATA_DIR=$work/data TESSERA_LISTEN=127.0.0.1:$port TESSERA_SECURITY__BCRYPT_COST=4 TESSERA_LOG__LEVEL=warn
# Generous budgets: the fuzzer guesses on purpose, and a 429 would only hide the operation behind it.
cat >"$work/tessera.toml" <<'TOML'
[rate_limits]
login_user = { limit = 100000, period_secs = 60 }
login_ip = { limit = 100000, period_secs = 60 }
device_init = { limit = 100000, period_secs = 60 }
user_code = { limit = 100000, period_secs = 60 }
pair_exchange = { limit = 100000, period_secs = 60 }
forgot_password_ip = { limit = 100000, period_secs = 60 }
oidc_start = { limit = 100000, period_secs = 60 }
TOML
export TESSERA_CONFIG=$work/tessera.toml
password="api fuzz password 1"
echo "$password" | "$bin" users create fuzzadmin --admin >/dev/null
"$bin" serve >"$work/log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
login() {
  curl -fs "http://127.0.0.1:$port/oauth/token" -d grant_type=password -d username=fuzzadmin \
    --data-urlencode "password=$password" "$@" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}
# The run's token comes through a client of its own with an unguessable id: access tokens are capped by
# their client's current scopes, and the fuzzer does narrow the built-in client it can name.
first=$(login)
scopes=$(curl -fs -H "Authorization: Bearer $first" "http://127.0.0.1:$port/api/permissions/catalog" \
  | python3 -c 'import json,sys; d=json.load(sys.stdin); d=d.get("scopes", d) if isinstance(d, dict) else d; print(" ".join("--scope " + (s["name"] if isinstance(s, dict) else s) for s in d))')
fuzz_client="fuzz-$(python3 -c 'import secrets; print(secrets.token_hex(8))')"
# shellcheck disable=SC2086
"$bin" clients create fuzz --client-id "$fuzz_client" --grant password $scopes >/dev/null
token=$(login -d "client_id=$fuzz_client")
# The admin's own password and account stay out of reach (changing them would end the run's credential);
# logout and key rotation likewise. Everything else is fuzzed.
# Authenticate through the bearer scheme only: the session-cookie alternative would make every write a
# CSRF refusal (403), and Basic or the service key would stand in for the token under test.
cat >"$work/schemathesis.toml" <<'TOML'
[auth.openapi.bearer]
bearer = "${TESSERA_FUZZ_TOKEN}"
TOML
export TESSERA_FUZZ_TOKEN=$token
status=0
fuzz() {
  schemathesis --config-file "$work/schemathesis.toml" run "http://127.0.0.1:$port/openapi.json" \
    --checks not_a_server_error,response_schema_conformance \
    --max-examples "$examples" --seed 7 --workers 1 --no-color \
    --phases examples,coverage,fuzzing \
    -H "Authorization: Bearer $token" \
    --exclude-path-regex '^/api/users/me$' \
    --exclude-path-regex '^/api/(logout|auth/logout)$' \
    "$@" || status=$?
}
# Editing or deleting an OAuth client reaches every token issued through it, the run's own included (the
# fuzzer learns client ids from the list): those operations run last, on their own.
one_client='^/api/oauth-clients/\{client_id\}$'
fuzz --exclude-path-regex "$one_client"
fuzz --include-path-regex "$one_client"
if grep -n "panicked" "$work/log"; then echo "api-fuzz: the server panicked"; status=1; fi
[ "$status" -eq 0 ] && echo "api-fuzz: no server errors, responses match the spec"
exit "$status"
