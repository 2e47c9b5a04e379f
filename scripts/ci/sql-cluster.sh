#!/usr/bin/env bash
# SQL against a real 3-process cluster with clients nobody here wrote (issue 7): `meridian start
# --sql-addr` ×3 and `meridian init`; the `mariadb` CLI with -e and in an interactive session
# (through a pseudo-terminal); then `meridian check --host` runs the SQL list-append, rw-register
# and bank workloads over all three nodes while one node is SIGKILLed and restarted, and the
# checker must find the histories strictly serializable. Installs mariadb-client if missing.
# Usage: scripts/ci/sql-cluster.sh [WORKDIR] (env CHECK_DURATION, default 40s per workload)
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${1:-$(mktemp -d)}
mkdir -p "$work"
duration=${CHECK_DURATION:-40s}

if ! command -v mariadb >/dev/null || ! command -v script >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-client bsdutils >/dev/null
fi

bin="$work/meridian"
go build -o "$bin" ./cmd/meridian
base=$((20000 + RANDOM % 20000))
addr() { echo "127.0.0.1:$((base + $1))"; }
sqladdr() { echo "127.0.0.1:$((base + 50 + $1))"; }
sqlport() { echo $((base + 50 + $1)); }
join="$(addr 1),$(addr 2),$(addr 3)"
declare -A pids

log() { echo "== $*"; }
fail() {
  echo "sql-cluster: FAIL: $*" >&2
  for f in "$work"/n*.log; do echo "--- $f (tail)"; tail -20 "$f"; done >&2
  exit 1
}
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

start_node() {
  local i=$1
  "$bin" start --store "$work/n$i" --listen-addr "$(addr "$i")" --sql-addr "$(sqladdr "$i")" \
    --join "$join" --dead-timeout 1h >>"$work/n$i.log" 2>&1 &
  pids[$i]=$!
}
wait_until() { # wait_until SECONDS DESCRIPTION COMMAND…
  local secs=$1 what=$2; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || fail "timed out after ${secs}s waiting for: $what"
    sleep 0.5
  done
}
maria() { timeout 60 mariadb --protocol=tcp -h 127.0.0.1 -P "$(sqlport "$1")" -u root "${@:2}"; }

log "start three nodes with --sql-addr and initialize"
for i in 1 2 3; do start_node "$i"; done
try_init() { timeout 60 "$bin" init --host "$(addr 1)" >"$work/init.out" 2>&1 || grep -qi "already initialized" "$work/init.out"; }
wait_until 60 "meridian init" try_init
for i in 1 2 3; do wait_until 60 "SQL on node $i" maria "$i" -e "SELECT 1"; done

log "mariadb -e"
maria 1 -e "CREATE DATABASE shop; CREATE TABLE shop.items (id BIGINT PRIMARY KEY, name VARCHAR(64), price DECIMAL(10,2))"
maria 2 -e "INSERT INTO shop.items VALUES (1, 'lamp', 19.90), (2, 'chair', 45.00)"
out=$(maria 3 -N -B -e "SELECT name, price FROM shop.items ORDER BY id")
[ "$out" = $'lamp\t19.90\nchair\t45.00' ] || fail "mariadb -e read back: $out"
if maria 1 -e "SELEC 1" 2>"$work/err"; then fail "a malformed statement exited 0"; fi
grep -q "ERROR 1064" "$work/err" || fail "malformed statement error: $(cat "$work/err")"

log "an interactive mariadb session (pseudo-terminal)"
printf 'USE shop;\nUPDATE items SET price = price + 1\n  WHERE id = 1;\nSELECT CONCAT("price=", price) AS p FROM items WHERE id = 1;\nquit\n' |
  timeout 60 script -qec "mariadb --protocol=tcp -h 127.0.0.1 -P $(sqlport 2) -u root" /dev/null >"$work/session.out" 2>&1 ||
  fail "interactive session: $(tail -5 "$work/session.out")"
grep -q "\[shop\]> UPDATE" "$work/session.out" || fail "no interactive prompt: $(head -c 600 "$work/session.out")"
grep -q "price=20.90" "$work/session.out" || fail "interactive session result: $(tail -c 600 "$work/session.out")"

log "meridian check --host over the three nodes, one SIGKILLed and restarted during each run"
hosts="$(sqladdr 1),$(sqladdr 2),$(sqladdr 3)"
for w in list-append rw-register bank; do
  "$bin" check --workload "$w" --host "$hosts" --duration "$duration" --concurrency 6 \
    --history-out "$work/$w.jsonl" >"$work/$w.out" 2>&1 &
  checker=$!
  sleep 10
  kill -9 "${pids[3]}"
  wait "${pids[3]}" 2>/dev/null || true
  echo "SIGKILLed node 3"
  sleep 8
  start_node 3
  wait_until 60 "node 3's SQL back" maria 3 -e "SELECT 1"
  echo "restarted node 3"
  if ! wait "$checker"; then
    cat "$work/$w.out" >&2
    fail "meridian check --workload $w"
  fi
  grep -E "committed|history:|valid|INVALID" "$work/$w.out" || true
  grep -q "commit_ts" "$work/$w.jsonl" || fail "$w history carries no commit_ts"
done
log "ok"
