#!/usr/bin/env bash
# Smoke test of the real binary, as a new user meets it: start with no configuration, answer /healthz,
# stop cleanly on SIGTERM; and refuse bad configuration with one line naming the key.
set -euo pipefail
bin=${1:-target/debug/tessera}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

( cd "$work" && TESSERA_LISTEN=127.0.0.1:$port exec "$OLDPWD/$bin" serve ) >"$work/log" 2>&1 &
pid=$!
ok=
for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then ok=1; break; fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$ok" ]; then echo "smoke: tessera did not answer /healthz"; cat "$work/log"; kill "$pid" 2>/dev/null || true; exit 1; fi
curl -fsS "http://127.0.0.1:$port/readyz" | grep -q '"database":"ok"'
test -f "$work/data/tessera.db" || { echo "smoke: no SQLite file in ./data"; exit 1; }
kill -TERM "$pid"
wait "$pid" || { echo "smoke: tessera did not exit cleanly on SIGTERM"; cat "$work/log"; exit 1; }
# Its log joins the suite's, which scripts/check-test-logs.sh searches for panics.
mkdir -p target/test-logs && cp "$work/log" target/test-logs/smoke-serve.log

# explain reads the credential from standard input.
explained=$(cd "$work" && echo not-a-token | "$OLDPWD/$bin" explain --url http://romm.example.com/api 2>/dev/null)
grep -q '^decision *403 denied' <<<"$explained" || { echo "smoke: explain said: $explained"; exit 1; }

check_refused() { # env assignment, expected key
  local out rc=0
  out=$(cd "$work" && env "$1" "$OLDPWD/$bin" serve 2>&1) || rc=$?
  [ "$rc" -ne 0 ] || { echo "smoke: $1 was accepted"; exit 1; }
  [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || { echo "smoke: $1 printed more than one line: $out"; exit 1; }
  grep -q "$2" <<<"$out" || { echo "smoke: $1 did not name $2: $out"; exit 1; }
}
check_refused TESSERA_AUTH__KISOK=true auth.kisok
check_refused TESSERA_DATABASE_URL=mysql://db database.url
check_refused TESSERA_DATA_DIR=/proc/tessera server.data_dir
# --no-auth only ever on loopback (bounded: were it accepted, it would serve).
rc=0; out=$(cd "$work" && TESSERA_LISTEN=0.0.0.0:0 timeout 10 "$OLDPWD/$bin" serve --no-auth 2>&1) || rc=$?
{ [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && grep -q loopback <<<"$out"; } || { echo "smoke: --no-auth off loopback was not refused ($rc): $out"; exit 1; }
echo "smoke: 6 passed, 0 failed"
