#!/usr/bin/env bash
# End-to-end check of `meridian debug clock` against a real NTP server: chrony serving the local
# clock on 127.0.0.1:11123 (never touching the system clock). Run by .ci/run, which installs
# chrony. Checks that the interval contains the system clock (which chrony serves) with
# ε < 10ms, and that an unreachable or malformed server gives a one-line error and exit ≠ 0.
set -euo pipefail
cd "$(dirname "$0")/../.."

port=11123
dir=$(mktemp -d)
chrony_pid=
cleanup() {
  if [ -n "$chrony_pid" ]; then
    kill "$chrony_pid" 2>/dev/null || true
    wait "$chrony_pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT

fail() {
  echo "clock.sh: FAIL: $*" >&2
  if [ -s "$dir/chronyd.log" ]; then
    echo "--- chronyd.log" >&2
    cat "$dir/chronyd.log" >&2
  fi
  exit 1
}

# Build once: `go run` would add its own "exit status" line to stderr.
go build -o "$dir/meridian" ./cmd/meridian
meridian="$dir/meridian"

cat >"$dir/chrony.conf" <<EOF
port $port
bindaddress 127.0.0.1
allow 127.0.0.1
local stratum 8
cmdport 0
pidfile $dir/chronyd.pid
driftfile $dir/drift
EOF
chronyd -f "$dir/chrony.conf" -x -u root -d >"$dir/chronyd.log" 2>&1 &
chrony_pid=$!

# json_int KEY FILE prints the integer value of the top-level "KEY" in FILE.
json_int() {
  sed -n "s/^  \"$1\": *\(-\{0,1\}[0-9][0-9]*\),\{0,1\}\$/\1/p" "$2"
}

# Until chrony answers with a synchronised sample (it starts unsynchronised, leap indicator 3),
# the command fails; retry within a deadline.
deadline=$((SECONDS + 30))
tries=0
while :; do
  tries=$((tries + 1))
  kill -0 "$chrony_pid" 2>/dev/null || fail "chronyd exited"
  before=$(date +%s%N)
  if "$meridian" debug clock --ntp "127.0.0.1:$port" --json --timeout 1s >"$dir/out.json" 2>"$dir/err"; then
    after=$(date +%s%N)
    break
  fi
  [ "$SECONDS" -lt "$deadline" ] || fail "no usable answer from chrony within 30s ($tries tries): $(cat "$dir/err")"
  sleep 0.5 # pace the retries of this poll loop; chrony rate-limits a tight one
done

earliest=$(json_int earliest_ns "$dir/out.json")
latest=$(json_int latest_ns "$dir/out.json")
epsilon=$(json_int epsilon_ns "$dir/out.json")
source=$(sed -n 's/^  "source": "\(.*\)",$/\1/p' "$dir/out.json")
[ -n "$earliest" ] && [ -n "$latest" ] && [ -n "$epsilon" ] || fail "missing fields in: $(cat "$dir/out.json")"
[ "$source" = ntp ] || fail "source is '$source', want ntp"
# The reading was taken at some instant in [before, after]; the interval must contain it.
[ "$earliest" -le "$after" ] || fail "earliest_ns $earliest > now $after"
[ "$latest" -ge "$before" ] || fail "latest_ns $latest < now $before"
[ "$epsilon" -lt 10000000 ] || fail "epsilon_ns $epsilon ≥ 10ms"
echo "clock.sh: chrony ok after $tries tries: earliest_ns=$earliest latest_ns=$latest epsilon_ns=$epsilon"

# Unreachable or malformed servers: non-zero exit and exactly one line on stderr naming them.
for bad in 127.0.0.1:1 nohost 127.0.0.1:99999; do
  if "$meridian" debug clock --ntp "$bad" --timeout 1s >"$dir/out" 2>"$dir/err"; then
    fail "--ntp $bad exited 0"
  fi
  lines=$(wc -l <"$dir/err")
  [ "$lines" -eq 1 ] || fail "--ntp $bad: $lines lines on stderr, want 1: $(cat "$dir/err")"
  grep -qF "$bad" "$dir/err" || fail "--ntp $bad: error does not name it: $(cat "$dir/err")"
  echo "clock.sh: --ntp $bad fails as expected: $(cat "$dir/err")"
done
echo "clock.sh: ok"
