#!/usr/bin/env bash
# End-to-end tests of Meridian's MySQL clients against a real MariaDB: the `meridian sql` shell
# (cmd/meridian/shell: -e/-f scripts, \d, formats, a pseudo-terminal session with history,
# \x, \timing, Ctrl-C) and the marketplace (every operation, concurrent purchases, sample
# data, the workload), then the built binary's `sql -e` exit status and a short
# `workload marketplace --load`. Run by .ci/run; installs mariadb-server and mariadb-client
# if missing. MariaDB listens on 127.0.0.1:$MARIADB_PORT (default 33316), user root without
# password, in a temporary directory removed at exit.
set -euo pipefail
cd "$(dirname "$0")/../.."

port=${MARIADB_PORT:-33316}
dir=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT

fail() {
  echo "mariadb-clients.sh: FAIL: $*" >&2
  if [ -s "$dir/mariadbd.log" ]; then
    echo "--- mariadbd.log (tail)" >&2
    tail -n 30 "$dir/mariadbd.log" >&2
  fi
  exit 1
}

if ! command -v mariadbd >/dev/null || ! command -v mariadb-install-db >/dev/null || ! command -v mariadb-admin >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-server mariadb-client >/dev/null
fi

mariadb-install-db --datadir="$dir/data" --user=root >"$dir/install.log" 2>&1 || {
  cat "$dir/install.log" >&2
  fail "mariadb-install-db"
}
# start_mariadb PORT starts mariadbd and waits (at most 60s) until it answers; it fails if the
# server exits, e.g. because another process holds the port.
start_mariadb() {
  mariadbd --datadir="$dir/data" --socket="$dir/sock" --port="$1" --bind-address=127.0.0.1 --user=root \
    --skip-grant-tables --innodb-buffer-pool-size=256M --pid-file="$dir/mariadbd.pid" >"$dir/mariadbd.log" 2>&1 &
  pid=$!
  for _ in $(seq 600); do
    if mariadb-admin --protocol=tcp -h127.0.0.1 -P"$1" -uroot ping >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      wait "$pid" 2>/dev/null || true
      pid=
      return 1
    fi
    sleep 0.1
  done
  return 1
}
started=
for try in 0 1 2 3 4; do
  if start_mariadb $((port + 10 * try)); then
    port=$((port + 10 * try))
    started=1
    break
  fi
  grep -q 'Address already in use' "$dir/mariadbd.log" || break
done
[ -n "$started" ] || fail "mariadbd did not start"

export MERIDIAN_TEST_MYSQL_ADDR=127.0.0.1:$port
go test -count=1 ./cmd/meridian/shell/ ./marketplace/
go test -count=1 -race ./marketplace/

# The binary: `meridian sql -e/-f` output and exit status, and a short workload.
go build -o "$dir/meridian" ./cmd/meridian
m="$dir/meridian"
out=$("$m" sql --host "127.0.0.1:$port" -e 'SELECT 6 * 7 AS answer' --format csv) || fail "sql -e exited $?"
[ "$out" = $'answer\n42' ] || fail "sql -e printed: $out"
if "$m" sql --host "127.0.0.1:$port" -e 'SELECT * FROM mysql.no_such_table' 2>"$dir/err"; then
  fail "sql -e with an error exited 0"
fi
grep -q '^ERROR 1146 (42S02): ' "$dir/err" || fail "sql -e error output: $(cat "$dir/err")"
printf 'SELECT 1;\nSELEC 2;\n' >"$dir/bad.sql"
if "$m" sql --host "127.0.0.1:$port" -f "$dir/bad.sql" >/dev/null 2>"$dir/err"; then
  fail "sql -f with an error exited 0"
fi
grep -q '^ERROR 1064 (42000): ' "$dir/err" || fail "sql -f error output: $(cat "$dir/err")"

"$m" workload marketplace --host "127.0.0.1:$port" --load --duration 3s --concurrency 4 \
  --sellers 10 --buyers 50 --items 300 --purchases 50 >"$dir/workload.out" 2>"$dir/workload.err" ||
  { cat "$dir/workload.out" "$dir/workload.err" >&2; fail "workload marketplace"; }
grep -q '^ *total ' "$dir/workload.out" || fail "workload printed no total: $(cat "$dir/workload.out")"
cat "$dir/workload.out"
echo "mariadb-clients.sh: ok"
