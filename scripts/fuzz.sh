#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for FUZZ_SECONDS each (default 45; CI runs this bounded).
# A longer hunt: FUZZ_SECONDS=3600 scripts/fuzz.sh, or one target: cargo fuzz run jwt -s none.
# A crash leaves its input in fuzz/artifacts/<target>/ and fails the run.
#
# -s none: Tessera has no unsafe code (forbidden workspace-wide), so AddressSanitizer would only watch
# dependencies while doubling the build; panics, hangs and runaway memory are what these targets find.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-45}
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
# cargo-fuzz passes -Z flags to rustc; these machines have one stable toolchain, which accepts them so.
export RUSTC_BOOTSTRAP=1
cargo fuzz build -s none
for target in $(cargo fuzz list); do
  corpus=$(mktemp -d)
  echo "fuzz: $target for ${secs}s"
  log="$corpus.log"
  if ! cargo fuzz run "$target" -s none "$corpus" "fuzz/seeds/$target" -- \
      -max_total_time="$secs" -timeout=5 -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1; then
    tail -60 "$log"
    echo "fuzz: $target crashed; the input is in fuzz/artifacts/$target"
    exit 1
  fi
  grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb)" "$log" || true
  rm -rf "$corpus" "$log"
done
echo "fuzz: every target ran ${secs}s without a crash"
