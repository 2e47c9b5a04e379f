#!/usr/bin/env bash
# `meridian demo` as a new user meets it (issue 8): through a pseudo-terminal, the shell opens on
# the 3-node in-memory cluster with the marketplace loaded, `\dt` lists its tables, a SELECT
# works, `\q` exits 0 and no process is left behind.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if ! command -v script >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bsdutils >/dev/null
fi
go build -o "$work/meridian" ./cmd/meridian
fail() { echo "demo: FAIL: $*" >&2; cat -v "$work/out" >&2; exit 1; }

printf '\\dt\nSELECT COUNT(*) AS n FROM items WHERE price > 0;\n\\q\n' |
  timeout 180 script -qec "$work/meridian demo" /dev/null 2>&1 | tr -d '\r' >"$work/out" || fail "exited $?"
for t in buyers cart_items feedback items purchase_lines purchases sellers; do
  grep -q "^ $t *| table" "$work/out" || fail "\\dt does not list $t"
done
grep -A3 "^meridian:marketplace>  n" "$work/out" | grep -Eq '^ +[1-9][0-9]*$' || fail "the SELECT printed no count"
if pgrep -f "$work/meridian" >/dev/null; then fail "a process was left behind: $(pgrep -af "$work/meridian")"; fi
echo "demo: shell opened, tables listed, SELECT answered, exited cleanly"
