#!/usr/bin/env bash
# make bench: Tessera's hot path against a bare actix-web hello world on this machine, with wrk on
# loopback. Writes BENCHMARKS.md (medians of five runs, ratios, the commands, the machine).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
DURATION=${DURATION:-6s}
for tool in wrk taskset sqlite3 curl python3; do
  command -v "$tool" >/dev/null || { apt-get install -y -qq wrk util-linux sqlite3 curl >/dev/null; break; }
done
cargo build --release -q -p tessera-server --bin tessera -p tessera-bench-hello --bin hello-actix
# The peer: oidc-provider from the npm registry (introspection of a client-credentials token).
command -v node >/dev/null || { echo "bench: node is required for the oidc-provider comparison"; exit 1; }
[ -d bench/oidc/node_modules/oidc-provider ] || npm install --silent --no-audit --no-fund --prefix bench/oidc

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
# Two cores: the servers on core 0, the load generator on core 1.
SERVER_CPU=0; LOAD_CPU=1
[ "$(nproc)" -ge 2 ] || { SERVER_CPU=0; LOAD_CPU=0; }

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 1 200); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.05; done; echo "bench: $1 never answered"; exit 1; }

HELLO=$(port); TESSERA=$(port); OIDC=$(port)
taskset -c $SERVER_CPU node bench/oidc/server.mjs $OIDC >/dev/null 2>&1 & pids+=($!)
taskset -c $SERVER_CPU target/release/hello-actix 127.0.0.1:$HELLO >/dev/null 2>&1 & pids+=($!)
cp bench/rules.toml "$work/tessera.toml"
# Default settings, as a user runs them: log level info, one worker per core it may use (pinned: one).
(cd "$work" && TESSERA_LISTEN=127.0.0.1:$TESSERA \
  exec taskset -c $SERVER_CPU "$OLDPWD/target/release/tessera" --config tessera.toml serve) >/dev/null 2>&1 & pids+=($!)
TPID=${pids[-1]}
wait_up "http://127.0.0.1:$HELLO/"; wait_up "http://127.0.0.1:$TESSERA/healthz"; wait_up "http://127.0.0.1:$OIDC/.well-known/openid-configuration"

PASSWORD="bench password 123"
(cd "$work" && echo "$PASSWORD" | "$OLDPWD/target/release/tessera" --config tessera.toml users create bench >/dev/null 2>&1)
JWT=$(curl -fs "http://127.0.0.1:$TESSERA/oauth/token" -d grant_type=password -d username=bench --data-urlencode "password=$PASSWORD" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
CT=$(cd "$work" && "$OLDPWD/target/release/tessera" --config tessera.toml tokens create --user bench --name bench --scope me.read 2>/dev/null \
  | sed -n 's/^token: \([^ ]*\).*/\1/p')
KEY=$(cat "$work/data/service-key")
SESSION=$(curl -fs -D - -o /dev/null "http://127.0.0.1:$TESSERA/api/auth/login" -H 'content-type: application/json' \
  -d "{\"username\":\"bench\",\"password\":\"$PASSWORD\"}" | sed -n 's/^[Ss]et-[Cc]ookie: tessera_session=\([^;]*\).*/\1/p')
BASIC_BENCH=$(printf 'bench:%s' "$PASSWORD" | base64 -w0)
RP_SECRET=$(cd "$work" && "$OLDPWD/target/release/tessera" --config tessera.toml clients create "Bench app" --client-id bench-rp \
  --confidential --grant client_credentials --scope me.read --introspect 2>/dev/null | sed -n 's/^client_secret: \([^ ]*\).*/\1/p')
BAD="tsr_$(printf '0%.0s' $(seq 1 56))00000000"

# req/s of one wrk run: $1 connections, rest = wrk args.
rps() { local c=$1; shift; taskset -c $LOAD_CPU wrk -t1 -c"$c" -d"$DURATION" "$@" | awk '/Requests\/sec/ {print $2}'; }
p99() { local c=$1; shift; taskset -c $LOAD_CPU wrk -t1 -c"$c" -d"$DURATION" --latency "$@" | awk '$1=="99%" {print $2}'; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
to_ms() { python3 -c 'import sys,re; v=sys.argv[1]; n=float(re.sub("[a-z]+","",v)); u=re.sub("[0-9.]+","",v); print(round(n*{"us":0.001,"ms":1,"s":1000}[u],3))' "$1"; }
measure() { # name, connections, wrk args...: the median req/s of the case. Each of its runs is paired with a
  # hello-world run made just before it, and the median of those ratios goes to $work/ratio.<name>: the
  # machines are noisy over minutes, so a ratio against a baseline measured minutes earlier says little.
  local name=$1 c=$2; shift 2; local vals=() ratios=() h v
  for _ in $(seq 1 "$RUNS"); do
    h=$(rps 64 "http://127.0.0.1:$HELLO/")
    v=$(rps "$c" "$@")
    vals+=("$v"); ratios+=("$(python3 -c "print($v / $h)")")
  done
  printf '%s\n' "${ratios[@]}" | median > "$work/ratio.$name"
  echo "$name: paired ratios ${ratios[*]}" >&2
  printf '%s\n' "${vals[@]}" | median
}
# The paired ratio of a measured case to the hello world.
# Three decimals: a ratio that sits on its target must not read as met by rounding.
paired() { python3 -c "print(f'{$(cat "$work/ratio.$1"):.3f}')"; }

FA="http://127.0.0.1:$TESSERA/auth/forward"
H=(-H "X-Forwarded-Uri: /bench/x" -H "X-Forwarded-Host: romm")
# Warm-up, not recorded: both servers' first seconds under load (allocator arenas growing, the identity
# cache filling, the CPU leaving its idle state) would otherwise fall on whichever case is measured first.
taskset -c $LOAD_CPU wrk -t1 -c64 -d3s "http://127.0.0.1:$HELLO/" >/dev/null
taskset -c $LOAD_CPU wrk -t1 -c64 -d3s "${H[@]}" -H "Authorization: Bearer $JWT" "$FA" >/dev/null
hello=$(for _ in $(seq 1 "$RUNS"); do rps 64 "http://127.0.0.1:$HELLO/"; done | median)
fa_jwt=$(measure fa_jwt 64 "${H[@]}" -H "Authorization: Bearer $JWT" "$FA")
fa_ct=$(measure fa_ct 64 "${H[@]}" -H "Authorization: Bearer $CT" "$FA")
fa_bad=$(measure fa_bad 64 "${H[@]}" -H "Authorization: Bearer $BAD" "$FA")
fa_session=$(measure fa_session 64 "${H[@]}" -H "Cookie: tessera_session=$SESSION" "$FA")
fa_basic=$(measure fa_basic 64 "${H[@]}" -H "Authorization: Basic $BASIC_BENCH" "$FA")
fa_apikey=$(measure fa_apikey 64 "${H[@]}" -H "X-Api-Key: $CT" "$FA")
healthz=$(measure healthz 64 "http://127.0.0.1:$TESSERA/healthz")
intro=$(KEY=$KEY TOKEN=$JWT measure intro 64 -s bench/introspect.lua "http://127.0.0.1:$TESSERA/oauth/introspect")
# Introspection by a confidential client with can_introspect, called exactly as the oidc-provider peer is.
intro_client=$(BASIC=$(printf 'bench-rp:%s' "$RP_SECRET" | base64 -w0) TOKEN=$JWT measure intro_client 64 -s bench/oidc_introspect.lua "http://127.0.0.1:$TESSERA/oauth/introspect")
OIDC_SECRET=bench-secret-bench-secret-bench-secret
OIDC_TOKEN=$(curl -fs -u "bench:$OIDC_SECRET" "http://127.0.0.1:$OIDC/token" -d grant_type=client_credentials \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
oidc=$(BASIC=$(printf 'bench:%s' "$OIDC_SECRET" | base64 -w0) TOKEN=$OIDC_TOKEN measure oidc 64 -s bench/oidc_introspect.lua "http://127.0.0.1:$OIDC/token/introspection")
# A p99 of one run swings by 2× on these machines: the median of $RUNS runs, as for every other figure.
p99_idle=$(for _ in $(seq 1 "$RUNS"); do to_ms "$(p99 2 "${H[@]}" -H "Authorization: Bearer $CT" "$FA")"; done | median)

# A flood of distinct garbage credentials: the identity cache's database loads before and after.
loads() { curl -fs "http://127.0.0.1:$TESSERA/metrics" -H "X-Tessera-Key: $KEY" \
  | awk '/^tessera_cache_lookups_total/ && /cache="identity"/ && /result="load"/ {s+=$2} END {print s+0}'; }
loads_before=$(loads)
garbage=$(rps 64 -s bench/garbage.lua "$FA")
garbage_loads=$(( $(loads) - loads_before ))
ready_ms=$(python3 bench/ready.py target/release/tessera 5)

# 100,000 live tokens: inserted straight into SQLite (the 25-per-user limit is an API rule, not a storage one).
sqlite3 "$work/data/tessera.db" "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c LIMIT 100000)
  INSERT INTO client_tokens (user_id, name, digest, scopes, created_at) SELECT 1, 'bulk' || x, randomblob(32), 'me.read', 0 FROM c;"
fa_100k=$(measure fa_100k 64 "${H[@]}" -H "Authorization: Bearer $CT" "$FA")
rss_kb=$(awk '/VmRSS/ {print $2}' /proc/$TPID/status)

# p99 at 2 connections while another load hammers the password grant.
storm_p99() {
  PASSWORD=$PASSWORD taskset -c $LOAD_CPU wrk -t1 -c4 -d"$DURATION" -s bench/login.lua "http://127.0.0.1:$TESSERA/oauth/token" >/dev/null &
  local storm=$!
  to_ms "$(p99 2 "${H[@]}" -H "Authorization: Bearer $CT" "$FA")"
  wait $storm || true
}
# Paired like the throughput cases: each storm run right after an idle run, the median of those ratios.
storm_vals=(); storm_ratios=()
for _ in $(seq 1 "$RUNS"); do
  i=$(to_ms "$(p99 2 "${H[@]}" -H "Authorization: Bearer $CT" "$FA")")
  v=$(storm_p99)
  storm_vals+=("$v"); storm_ratios+=("$(python3 -c "print($v / $i)")")
done
p99_storm=$(printf '%s\n' "${storm_vals[@]}" | median)
printf '%s\n' "${storm_ratios[@]}" | median > "$work/ratio.storm"
echo "storm: p99s ${storm_vals[*]} ms, paired ratios to idle ${storm_ratios[*]}" >&2

ratio() { python3 -c "print(f'{$1/$2:.3f}')"; }
# Two cases measured minutes apart compared through their paired ratios to the hello world, so that the
# machine's drift between them (the hello world moves as much as the case) cancels out.
ratio_of_paired() { python3 -c "print(f'{$(cat "$work/ratio.$1") / $(cat "$work/ratio.$2"):.3f}')"; }
cat > BENCHMARKS.md <<MD
# Benchmarks

Made by \`make bench\` (\`bench/run.sh\`; peer: oidc-provider $(node -e 'console.log(require("./bench/oidc/node_modules/oidc-provider/package.json").version)') on Node $(node --version)) on $(date -u +%Y-%m-%d): $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)),
$(free -g | awk '/Mem:/ {print $2}') GiB. Servers pinned to core $SERVER_CPU, wrk to core $LOAD_CPU; Tessera in release
mode on SQLite and the memory store at default settings (log level info; the default worker count, one
per core it may use: one, as pinned); each figure is the median of $RUNS runs of
\`wrk -t1 -d$DURATION\`, and each ratio to the hello world the median of $RUNS paired runs (a hello-world run
right before each run of the case; the p99s likewise, each storm run right after an idle one), after an
unrecorded 3 s warm-up of both servers. The machines are noisy: the ratios are the claims, not the absolute numbers.

| measurement | result | ratio | target |
|---|---|---|---|
| hello world, 64 connections | $hello req/s | 1.00 | baseline |
| forward-auth, valid JWT, 64 connections | $fa_jwt req/s | $(paired fa_jwt) × hello | ≥ 0.5 × hello |
| forward-auth, valid client token, 64 connections | $fa_ct req/s | $(paired fa_ct) × hello | ≥ 0.5 × hello |
| forward-auth, invalid token, 64 connections | $fa_bad req/s | $(paired fa_bad) × hello | (negative cache) |
| forward-auth, session cookie, 64 connections | $fa_session req/s | $(paired fa_session) × hello | ≥ 0.5 × hello |
| forward-auth, HTTP Basic (cached after the first), 64 connections | $fa_basic req/s | $(paired fa_basic) × hello | ≥ 0.5 × hello |
| forward-auth, client token in X-Api-Key, 64 connections | $fa_apikey req/s | $(paired fa_apikey) × hello | ≥ 0.5 × hello |
| /healthz, 64 connections | $healthz req/s | $(paired healthz) × hello | ≥ 0.8 × hello |
| oidc-provider introspection, 64 connections | $oidc req/s | | peer |
| introspection of a JWT (service key), 64 connections | $intro req/s | $(ratio "$intro" "$oidc") × oidc-provider, $(paired intro) × hello | ≥ 0.4 × hello |
| introspection by a confidential client, 64 connections | $intro_client req/s | $(ratio "$intro_client" "$oidc") × oidc-provider, $(paired intro_client) × hello | ≥ 0.4 × hello |
| forward-auth p99, 2 connections | $p99_idle ms | | < 1 ms |
| forward-auth with 100,000 live tokens | $fa_100k req/s | $(ratio_of_paired fa_100k fa_ct) × before (paired) | ≥ 0.9 × |
| forward-auth p99, 2 connections, during a login storm | $p99_storm ms | $(paired storm) × idle (paired) | ≤ 2 × |
| forward-auth, a flood of distinct garbage credentials, 64 connections | $garbage req/s, $garbage_loads database loads | | 0 loads |
| Tessera RSS after 100,000 tokens | $((rss_kb / 1024)) MB | | ≤ 64 MB |
| start to ready on SQLite (fresh data dir, median of 5) | $ready_ms ms | | ≤ 100 ms |

Commands (see \`bench/run.sh\` for the exact invocations):

\`\`\`
taskset -c $LOAD_CPU wrk -t1 -c64 -d$DURATION http://127.0.0.1:PORT/                                # hello world
taskset -c $LOAD_CPU wrk -t1 -c64 -d$DURATION -H 'X-Forwarded-Uri: /bench/x' -H 'Authorization: Bearer JWT' http://127.0.0.1:PORT/auth/forward
taskset -c $LOAD_CPU wrk -t1 -c64 -d$DURATION -s bench/introspect.lua http://127.0.0.1:PORT/oauth/introspect
taskset -c $LOAD_CPU wrk -t1 -c64 -d$DURATION -s bench/oidc_introspect.lua http://127.0.0.1:PORT/token/introspection   # oidc-provider
taskset -c $LOAD_CPU wrk -t1 -c2 -d$DURATION --latency ... /auth/forward                           # p99
taskset -c $LOAD_CPU wrk -t1 -c4 -d$DURATION -s bench/login.lua http://127.0.0.1:PORT/oauth/token    # login storm
taskset -c $LOAD_CPU wrk -t1 -c64 -d$DURATION -s bench/garbage.lua http://127.0.0.1:PORT/auth/forward  # garbage flood
python3 bench/ready.py target/release/tessera 5                                     # start to ready
\`\`\`
MD
cat bench/notes.md >> BENCHMARKS.md
cat BENCHMARKS.md
