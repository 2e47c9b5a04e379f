#!/usr/bin/env bash
# Black-box acceptance of the cluster (issue 5): real `meridian start` processes on 127.0.0.1,
# `meridian init`, the debug and node tools. Needs jq. Usage: scripts/ci/cluster-smoke.sh [WORKDIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${1:-$(mktemp -d)}
mkdir -p "$work"
bin="$work/meridian"
go build -o "$bin" ./cmd/meridian

base=$((20000 + RANDOM % 20000))
port() { echo $((base + $1)); }
http() { echo $((base + 100 + $1)); }
addr() { echo "127.0.0.1:$(port "$1")"; }
# The first cluster lives in one region, so that its replicas can be balanced
# across all nodes; the placement test starts a second one in three regions.
regions=(x local local local local local)
join="$(addr 1),$(addr 2),$(addr 3)"
declare -A pids

log() { echo "== $*"; }
fail() {
  echo "cluster-smoke: FAIL: $*" >&2
  for i in 1 2 3 4 5; do
    if timeout 10 "$bin" debug ranges --host "$(addr "$i")" >"$work/ranges.txt" 2>&1; then
      echo "--- ranges (from index $i)"; cat "$work/ranges.txt"; break
    fi
  done >&2
  for f in "$work"/n*.log; do echo "--- $f (tail)"; tail -20 "$f"; done >&2
  exit 1
}
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

start_node() { # start_node I [extra flags]
  local i=$1; shift
  "$bin" start --store "$work/n$i" --listen-addr "$(addr "$i")" --http-addr "127.0.0.1:$(http "$i")" \
    --join "$join" --locality "region=${regions[$i]},zone=z$i" --range-max-bytes 65536 \
    --dead-timeout 15s "$@" >>"$work/n$i.log" 2>&1 &
  pids[$i]=$!
}
# wait_until SECONDS DESCRIPTION COMMAND…: polls COMMAND every half second.
wait_until() {
  local secs=$1 what=$2; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      "$@" 2>&1 | tail -5 >&2 || true
      fail "timed out after ${secs}s waiting for: $what"
    fi
    sleep 0.5
  done
}
m() { timeout 60 "$bin" "$@"; }
ranges_json() { m debug ranges --host "$(addr "${1:-1}")" --json; }
nodes_json() { m node status --host "$(addr "${1:-1}")" --json; }
# Node ids follow the order nodes joined in, not their index here: map by address.
idx_of() { nodes_json | jq -r --arg id "$1" '.[] | select(.node_id == ($id|tonumber)) | .address' | sed 's/.*://' | awk -v b="$base" '{print $1 - b}'; }
id_of() { nodes_json | jq -r --arg a "$(addr "$1")" '.[] | select(.address == $a) | .node_id'; }

log "bad input: a flag that makes no sense, a node that is not initialized"
if "$bin" start --store "$work/x" --listen-addr 127.0.0.1:1 --locality "planet=mars" 2>"$work/err"; then fail "bad locality accepted"; fi
grep -q "unknown tier" "$work/err" || fail "bad locality error: $(cat "$work/err")"

log "start three nodes in three regions and initialize"
for i in 1 2 3; do start_node "$i"; done
try_init() { m init --host "$(addr 1)" >"$work/init.out" 2>&1 || grep -qi "already initialized" "$work/init.out"; }
wait_until 30 "meridian init" try_init
if m init --host "$(addr 2)" 2>"$work/err"; then fail "second init succeeded"; fi
grep -qi "already initialized" "$work/err" || fail "second init error: $(cat "$work/err")"
three_live() { [ "$(nodes_json | jq '[.[]|select(.live)]|length')" -eq 3 ]; }
wait_until 60 "3 live nodes" three_live

log "two processes on one store, joining something that is not Meridian"
if timeout 20 "$bin" start --store "$work/n1" --listen-addr 127.0.0.1:$(port 9) 2>"$work/err"; then fail "second process on n1's store started"; fi
grep -qi "in use\|lock" "$work/err" || fail "store lock error: $(cat "$work/err")"
if timeout 30 "$bin" start --store "$work/stranger" --listen-addr 127.0.0.1:$(port 8) --join "127.0.0.1:$(http 1)" 2>"$work/err"; then fail "joined an HTTP server"; fi
grep -qi "not a Meridian node" "$work/err" || fail "non-Meridian join error: $(cat "$work/err")"

log "load 50,000 keys of 100 bytes"
m debug kv load --host "$(addr 1)" --keys 50000 --value-size 100 --concurrency 32 | tee "$work/load.out"
check_ranges() {
  local js; js=$(ranges_json 2) || return 1
  [ "$(echo "$js" | jq 'length')" -ge 20 ] || return 1
  # every range: 3 replicas, no learners, on 3 distinct nodes
  [ "$(echo "$js" | jq '[.[] | select((.replicas|length) != 3 or ([.replicas[].node_id]|unique|length) != 3 or any(.replicas[]; .learner == true))] | length')" -eq 0 ]
}
wait_until 120 "≥ 20 ranges, each with 3 replicas on distinct nodes" check_ranges
echo "ranges: $(ranges_json | jq length)"
for i in 1 2 3; do
  n=$(m debug kv scan --host "$(addr "$i")" load/ load0 | wc -l)
  [ "$n" -eq 50000 ] || fail "n$i reads back $n of 50000 keys"
done

log "SIGKILL the node holding the most leases during a write loop"
# Rewrite the loaded keys, which spread over every range, with a new value,
# through index 3. Once the writes keep the leases busy, kill the node (other
# than index 3, which the writer talks to) serving the most of them.
m debug kv load --host "$(addr 3)" --prefix load/ --keys 30000 --concurrency 8 --tag killed \
  --tolerate-errors --ack-file "$work/acked" >"$work/kill.out" 2>&1 &
loader=$!
enough_acked() { [ "$(wc -l <"$work/acked")" -ge 3000 ]; }
wait_until 60 "writes under way" enough_acked
victim_id=$(ranges_json 1 | jq -r --arg spare "$(id_of 3)" '[.[] | select(.leaseholder != 0 and .leaseholder != ($spare|tonumber)) | .leaseholder] | group_by(.) | max_by(length) | .[0]')
victim=$(idx_of "$victim_id")
echo "killing n$victim_id (index $victim), the leaseholder of the most ranges; writing through index 3"
kill -9 "${pids[$victim]}"
wait "${pids[$victim]}" 2>/dev/null || true
wait $loader || fail "write loop failed: $(cat "$work/kill.out")"
cat "$work/kill.out"
worst=$(sed -n 's/.*max_ms=\([0-9]*\).*/\1/p' "$work/kill.out")
[ "$worst" -lt 10000 ] || fail "a write took ${worst}ms to be acknowledged after the kill"
start_node "$victim"
check_acked() {
  local i=$1
  m debug kv scan --host "$(addr "$i")" load/ load0 | awk -F'\t' '$2 == "killed/" $1 {print $1}' | sort >"$work/seen.$i" || return 1
  local missing; missing=$(comm -23 <(sort "$work/acked") "$work/seen.$i")
  [ -z "$missing" ] || { echo "index $i misses $(echo "$missing" | wc -l) acknowledged writes, e.g. $(echo "$missing" | head -3 | tr '\n' ' ')"; return 1; }
}
for i in 1 2 3; do wait_until 60 "index $i has every acknowledged write" check_acked "$i"; done
echo "all $(wc -l <"$work/acked") acknowledged writes present on every node"
caught_up() { [ "$(nodes_json "$victim" | jq ".[] | select(.node_id == $victim_id) | .replicas")" -gt 0 ]; }
wait_until 60 "n$victim_id catches up" caught_up
[ "${STOP_AFTER:-}" = kill ] && { log "stopping after the kill test"; exit 0; }

log "add nodes 4 and 5: replicas and leases spread"
join="$(addr 1),$(addr 2),$(addr 3)"
start_node 4; start_node 5
balanced() {
  local js; js=$(nodes_json) || return 1
  [ "$(echo "$js" | jq '[.[]|select(.live)]|length')" -eq 5 ] || return 1
  echo "$js" | jq -e '(map(.replicas)|add/length) as $m | all(.[]; .replicas >= 0.75*$m and .replicas <= 1.25*$m and .leases >= 1)' >/dev/null
}
wait_until 240 "replicas within ±25% of the mean and leases on every node" balanced
nodes_json | jq -c '.[] | {node_id, replicas, leases}'

log "decommission the fifth node"
gone=$(id_of 5)
m node decommission --host "$(addr 1)" "$gone" --timeout 240s >/dev/null || fail "decommission"
left=$(ranges_json | jq --arg id "$gone" '[.[].replicas[] | select(.node_id == ($id|tonumber))] | length')
[ "$left" -eq 0 ] || fail "n$gone still holds $left replicas"
for i in 1 2 3 4; do
  n=$(m debug kv scan --host "$(addr "$i")" load/ load0 | wc -l)
  [ "$n" -eq 50000 ] || fail "after decommissioning, n$i reads back $n of 50000 keys"
done

log "SIGTERM drains and exits cleanly"
for i in 1 2 3 4 5; do kill -TERM "${pids[$i]}" 2>/dev/null || true; done
for i in 1 2 3 4 5; do
  wait "${pids[$i]}" || fail "index $i exited with $? after SIGTERM"
done
pids=()

log "placement: a second cluster in three regions; leases of a span go to its leader region"
work="$work/geo"; mkdir -p "$work"
base=$((base + 200))
regions=(x us-east eu-west ap-northeast)
join="$(addr 1),$(addr 2),$(addr 3)"
for i in 1 2 3; do start_node "$i"; done
wait_until 30 "meridian init" try_init
wait_until 60 "3 live nodes" three_live
m debug kv load --host "$(addr 2)" --prefix geo/ --keys 2000 --concurrency 8 >/dev/null
east=$(id_of 1)
m debug placement set --host "$(addr 2)" geo/ geo0 --leader-region us-east
in_region() {
  ranges_json | jq -e --arg a "$east" '[.[] | select(.start_key >= "geo/" and .end_key <= "geo0")] | length > 0 and all(.leaseholder == ($a|tonumber))' >/dev/null
}
wait_until 120 "leaseholders of geo/ in us-east (n$east)" in_region
ranges_json | jq -c '.[] | select(.start_key >= "geo/" and .end_key <= "geo0") | {range_id, start_key, end_key, leaseholder}'
for i in 1 2 3; do kill -TERM "${pids[$i]}" 2>/dev/null || true; done
for i in 1 2 3; do wait "${pids[$i]}" || fail "index $i exited with $? after SIGTERM"; done
pids=()
log "ok"
