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

step "go vet"
go vet ./...

step "go test -race"
go test -race -count=1 -timeout 20m ./...

step "benchmarks (short, no timing assertions)"
go test -run '^$' -bench . -benchtime 100x -timeout 20m ./...
