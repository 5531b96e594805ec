#!/usr/bin/env bash
# The project's one test command (README: "Tests"); CI runs it through .ci/run.
# It checks formatting and vet, runs every test with the race detector, and
# runs each benchmark briefly so that none of them rots.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n=== %s\n' "$*"; }

# apt_install installs Debian packages, refreshing the package index the
# first time only, however many steps need packages.
apt_updated=
apt_install() {
  if [ -z "$apt_updated" ]; then
    apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

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
  apt_install "${missing[@]}"
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

step "PostgreSQL for the postgres store's tests (TOKEND_TEST_POSTGRES)"
# With TOKEND_TEST_POSTGRES set (a URL of a role that may create
# databases), the tests use that server. Otherwise a throwaway cluster is
# made: PostgreSQL from Debian's packages when the machine has none, an
# unprivileged user to run it (PostgreSQL refuses to run as root), a data
# directory in /tmp, a free port on 127.0.0.1, and it is stopped and
# removed when this script exits, however it exits. On CI the tests that
# need PostgreSQL fail, not skip, when there is none (internal/pgtest).
pg_dir=""
# Runs a command as the cluster's user, from its directory (the user may
# not be allowed into the current one).
pg_as() { (cd "$pg_dir" && if [ -n "$pg_user" ]; then runuser -u "$pg_user" -- "$@"; else "$@"; fi); }
stop_postgres() {
  if [ -n "$pg_dir" ] && [ -d "$pg_dir" ]; then
    pg_as "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$pg_dir"
  fi
}
if [ -n "${TOKEND_TEST_POSTGRES:-}" ]; then
  echo "using the server TOKEND_TEST_POSTGRES names"
else
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ]; then
    apt_install postgresql
    pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  pg_user=""
  if [ "$(id -u)" = 0 ]; then
    # Debian's package makes the postgres user; a machine without it
    # gets one of its own that cannot log in.
    pg_user=postgres
    id -u "$pg_user" >/dev/null 2>&1 || { pg_user=tokend-pg; id -u "$pg_user" >/dev/null 2>&1 ||
      useradd --system --no-create-home --shell /usr/sbin/nologin "$pg_user"; }
  fi
  pg_dir=$(mktemp -d /tmp/tokend-pg.XXXXXX)
  trap stop_postgres EXIT
  [ -z "$pg_user" ] || chown "$pg_user" "$pg_dir"
  pg_as "$pg_bin/initdb" -D "$pg_dir/data" -U tokend --auth=trust -E UTF8 --no-locale >"$pg_dir/initdb.log" 2>&1 ||
    { cat "$pg_dir/initdb.log"; exit 1; }
  # A port nothing answers on; should another process take it before the
  # server binds, the start fails and the next one is tried. Durability is
  # of no use to a cluster thrown away after the run, so fsync is off.
  pg_port=""
  for _ in 1 2 3 4 5 6 7 8; do
    port=$((20000 + RANDOM % 30000))
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then continue; fi
    if pg_as "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w -t 60 start \
      -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$pg_dir -c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >/dev/null; then
      pg_port=$port
      break
    fi
  done
  if [ -z "$pg_port" ]; then
    echo "PostgreSQL did not start:"; cat "$pg_dir/server.log"; exit 1
  fi
  export TOKEND_TEST_POSTGRES="postgres://tokend@127.0.0.1:$pg_port/postgres?sslmode=disable"
  echo "PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$pg_port, data in $pg_dir (removed at exit)"
fi

step "Chromium for the web console's browser tests (console/browser_test.go)"
# Debian's chromium, installed only when the machine has none. chromedp
# drives it over the DevTools protocol; nothing is downloaded at test time.
# On CI (CI=true) the browser tests fail without it, elsewhere they skip.
if [ -z "${TOKEND_CHROMIUM:-}" ] && ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null; then
  apt_install chromium
fi
command -v chromium || command -v chromium-browser || echo "TOKEND_CHROMIUM=$TOKEND_CHROMIUM"

step "go test -race"
go test -race -count=1 -timeout 20m ./...

step "fuzzing (each target for FUZZTIME, default 5s)"
# A failing input is written to PKG/testdata/fuzz/FuzzX/ and fails this
# step; commit it with the fix, so that every later run replays it.
fuzz() {
  local out
  if ! out=$(go test -run '^$' -fuzz "^$2\$" -fuzztime "${FUZZTIME:-5s}" "$1" 2>&1); then
    # Go's fuzzer sometimes reports "context deadline exceeded" when its
    # time runs out while it handles a new interesting input: no input
    # failed then, and none is written. Anything else is a real failure.
    if grep -q 'context deadline exceeded' <<<"$out" && ! grep -q 'Failing input written' <<<"$out"; then
      echo "$2: time ran out while the fuzzer handled a new input (not a failure)"
      return 0
    fi
    echo "$out"; return 1
  fi
  echo "$2: $(tail -n 1 <<<"$out")"
}
fuzz . FuzzSecretFormat
fuzz . FuzzOAuthParameters
fuzz . FuzzPageToken
fuzz . FuzzAuditPageToken
fuzz ./oauth FuzzDecodeBasic
fuzz ./oauth FuzzEndpoints
fuzz ./api FuzzBodies
fuzz ./authlete FuzzRequests
fuzz ./passport FuzzRequests
fuzz ./kustvakt FuzzForms
fuzz . FuzzDecodeToken
fuzz ./wire FuzzAppendString

step "benchmarks (short, no timing assertions)"
go test -run '^$' -bench . -benchtime 100x -timeout 20m ./...
