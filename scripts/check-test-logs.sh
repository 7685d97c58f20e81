#!/usr/bin/env bash
# Run by `make test` after the suite: the server logs of the whole suite (target/test-logs, written by
# the testkit) and of the real-binary tests must hold no panic.
set -euo pipefail
dir=${1:-target/test-logs}
[ -d "$dir" ] || { echo "check-test-logs: $dir is missing (did the suite run?)"; exit 1; }
files=$(find "$dir" -name '*.log' | wc -l)
[ "$files" -gt 0 ] || { echo "check-test-logs: no logs in $dir"; exit 1; }
if grep -rn "panicked" "$dir"; then
  echo "check-test-logs: the server panicked during the suite (above)"
  exit 1
fi
echo "check-test-logs: $files log file(s), no panics"
