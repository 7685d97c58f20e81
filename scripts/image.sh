#!/usr/bin/env bash
# Builds the container image (deploy/Dockerfile) when a container engine can; otherwise says why it
# skips. CI runs it; it never fails for lack of an engine, only for a broken build.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v docker >/dev/null 2>&1 || { echo "image: skipped: no docker command on this machine"; exit 0; }
docker info >/dev/null 2>&1 || { echo "image: skipped: the docker daemon is not running"; exit 0; }
for base in rust:1.95-slim-bookworm debian:bookworm-slim; do
  docker image inspect "$base" >/dev/null 2>&1 || docker pull -q "$base" >/dev/null 2>&1 \
    || { echo "image: skipped: base image $base is not available (no registry access)"; exit 0; }
done
docker build -f deploy/Dockerfile -t tessera:ci .
docker run --rm tessera:ci config show >/dev/null
echo "image: built tessera:ci, and it runs"
