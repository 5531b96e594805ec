#!/usr/bin/env bash
# The project's one test command (README: "Tests"); CI runs it through .ci/run.
# It checks formatting and vet, runs every test with the race detector, and
# runs each benchmark briefly so that none of them rots.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n=== %s\n' "$*"; }

step "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

step "tools the walk-through tests drive (curl, jq, openssl)"
missing=()
for tool in curl jq openssl; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  # Debian's packages, installed only when the machine lacks them.
  apt-get update -qq && apt-get install -y -qq "${missing[@]}"
fi

step "go vet"
go vet ./...

step "node packages for e2e/node (the OAuth client tests in e2e/)"
# Installed exactly from the lock file, and only when node_modules is
# missing or older than the lock (npm ci deletes and rewrites it, which
# costs seconds even when nothing changed). The e2e test fails on CI
# without them, so a missing npm is an error here, not a skip later.
for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "$tool is required: e2e/ runs the Node.js OAuth client tests (Node.js 20 or later, with npm)"; exit 1; }
done
if [ ! -d e2e/node/node_modules ] || [ e2e/node/package-lock.json -nt e2e/node/node_modules/.package-lock.json ]; then
  npm ci --prefix e2e/node --no-audit --no-fund
else
  echo "up to date"
fi

step "go test -race"
go test -race -count=1 -timeout 20m ./...

step "benchmarks (short, no timing assertions)"
go test -run '^$' -bench . -benchtime 100x -timeout 20m ./...
