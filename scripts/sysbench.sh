#!/usr/bin/env bash
# sysbench.sh runs the sysbench OLTP workloads against Meridian (and
# optionally MariaDB, for a comparison) and fails on any error other than
# the retryable ones sysbench ignores (1213 deadlock / 40001, 1205 lock
# wait timeout).
#
# Usage: scripts/sysbench.sh [flags] [HOST:PORT[,HOST:PORT…]]
#
# Without an address it builds cmd/meridian and starts
# `meridian demo --no-shell --empty --nodes 3` (three nodes in one process,
# in-memory stores) on 127.0.0.1, or with --processes three `meridian start`
# processes with on-disk, fsynced stores (then `meridian init`), spreads the
# clients over the three nodes' SQL ports, and stops them at the end.
#
# For each workload (oltp_point_select, oltp_read_only, oltp_read_write,
# oltp_write_only, oltp_insert) and each prepared-statement mode (auto,
# disable) it runs prepare, run and cleanup, then prints a table of TPS,
# QPS, p95 latency and ignored (retried) errors.
#
# Flags:
#   --time S        seconds per run (default 60)
#   --threads N     client threads (default 16)
#   --tables N      tables (default 4)
#   --table-size N  rows per table (default 10000)
#   --workloads L   comma-separated subset of the workloads
#   --ps-modes L    comma-separated subset of auto,disable
#   --db NAME       database (default test)
#   --mariadb       also run everything against a throwaway MariaDB on
#                   127.0.0.1 (mariadb-server is installed with apt-get if
#                   missing) and print the ratios Meridian / MariaDB
#   --mariadb-port P  its port (default 33306)
#   --nodes N       nodes of the cluster it starts (default 3)
#   --processes     start one `meridian start` process per node, stores on
#                   disk under --out, instead of the in-memory demo
#   --out DIR       where to keep the logs (default a temporary directory)
#   --binary PATH   a meridian binary to run the demo with (default: build it)
#
# Requires sysbench (apt-get install -y sysbench; installed if missing and
# apt-get is available) and, for the demo, the Go toolchain.
set -euo pipefail

time_s=60 threads=16 tables=4 table_size=10000 dbname=test
workloads=oltp_point_select,oltp_read_only,oltp_read_write,oltp_write_only,oltp_insert
ps_modes=auto,disable
with_mariadb=0 mariadb_port=33306 nodes=3 out="" addrs="" binary="" processes=0

while [ $# -gt 0 ]; do
	case "$1" in
	--time) time_s=$2; shift ;;
	--time=*) time_s=${1#*=} ;;
	--threads) threads=$2; shift ;;
	--threads=*) threads=${1#*=} ;;
	--tables) tables=$2; shift ;;
	--tables=*) tables=${1#*=} ;;
	--table-size) table_size=$2; shift ;;
	--table-size=*) table_size=${1#*=} ;;
	--workloads) workloads=$2; shift ;;
	--workloads=*) workloads=${1#*=} ;;
	--ps-modes) ps_modes=$2; shift ;;
	--ps-modes=*) ps_modes=${1#*=} ;;
	--db) dbname=$2; shift ;;
	--db=*) dbname=${1#*=} ;;
	--mariadb) with_mariadb=1 ;;
	--mariadb-port) mariadb_port=$2; shift ;;
	--mariadb-port=*) mariadb_port=${1#*=} ;;
	--nodes) nodes=$2; shift ;;
	--nodes=*) nodes=${1#*=} ;;
	--out) out=$2; shift ;;
	--out=*) out=${1#*=} ;;
	--binary) binary=$2; shift ;;
	--binary=*) binary=${1#*=} ;;
	--processes) processes=1 ;;
	-h | --help) sed -n '2,37p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "sysbench.sh: unknown flag $1" >&2; exit 2 ;;
	*) addrs=$1 ;;
	esac
	shift
done

root=$(cd "$(dirname "$0")/.." && pwd)
[ -n "$out" ] || out=$(mktemp -d -t meridian-sysbench.XXXXXX)
mkdir -p "$out"
echo "logs in $out"

need() { # need CMD PACKAGE…: install the packages with apt-get if CMD is missing
	local cmd=$1; shift
	command -v "$cmd" >/dev/null 2>&1 && return 0
	if command -v apt-get >/dev/null 2>&1; then
		echo "installing $* …"
		local sudo=""
		[ "$(id -u)" -eq 0 ] || sudo=sudo
		$sudo apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
	fi
	command -v "$cmd" >/dev/null 2>&1 || { echo "sysbench.sh: $cmd is missing (install $*)" >&2; exit 1; }
}
need sysbench sysbench

pids=()
cleanup() {
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
}
trap cleanup EXIT

# wait_port HOST PORT SECONDS: until something listens there.
wait_port() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		if (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	return 1
}

if [ -z "$addrs" ] && [ -z "$binary" ]; then
	echo "building meridian …"
	(cd "$root" && go build -o "$out/meridian" ./cmd/meridian)
	binary=$out/meridian
fi
if [ -z "$addrs" ] && [ "$processes" = 1 ]; then
	base=$((20000 + RANDOM % 20000))
	join="" sqls=""
	for ((i = 1; i <= nodes; i++)); do join+="${join:+,}127.0.0.1:$((base + i))"; done
	for ((i = 1; i <= nodes; i++)); do
		rm -rf "$out/n$i"
		"$binary" start --store "$out/n$i" --listen-addr "127.0.0.1:$((base + i))" --sql-addr "127.0.0.1:$((base + 50 + i))" \
			--join "$join" >"$out/n$i.log" 2>&1 &
		pids+=($!)
		sqls+="${sqls:+,}127.0.0.1:$((base + 50 + i))"
	done
	for ((i = 0; i < 600; i++)); do
		"$binary" init --host "127.0.0.1:$((base + 1))" >"$out/init.out" 2>&1 && break
		grep -qi "already initialized" "$out/init.out" && break
		sleep 0.1
	done
	for ((i = 1; i <= nodes; i++)); do
		wait_port 127.0.0.1 $((base + 50 + i)) 60 || { echo "sysbench.sh: node $i serves no SQL" >&2; tail "$out/n$i.log" >&2; exit 1; }
	done
	addrs=$sqls
	echo "meridian start ×$nodes (stores on disk in $out): $addrs"
fi
if [ -z "$addrs" ]; then
	"$binary" demo --no-shell --empty --nodes "$nodes" >"$out/demo.out" 2>"$out/demo.err" &
	pids+=($!)
	for ((i = 0; i < 600; i++)); do
		grep -q 'cluster ready' "$out/demo.err" 2>/dev/null && break
		kill -0 "${pids[0]}" 2>/dev/null || { cat "$out/demo.err" >&2; exit 1; }
		sleep 0.1
	done
	line=$(grep 'cluster ready' "$out/demo.err") || { echo "sysbench.sh: the demo did not start" >&2; cat "$out/demo.err" >&2; exit 1; }
	# "cluster ready: SQL on A (also B, C)"
	addrs=$(echo "$line" | grep -o '127\.0\.0\.1:[0-9]*' | paste -sd, -)
	echo "meridian demo ($nodes nodes): $addrs"
fi

# split_addrs "h:p,h:p" → sets hosts and ports (comma lists, as sysbench takes them).
split_addrs() {
	hosts="" ports=""
	local a
	IFS=, read -ra list <<<"$1"
	for a in "${list[@]}"; do
		hosts+="${hosts:+,}${a%:*}"
		ports+="${ports:+,}${a##*:}"
	done
}

# results[system/workload/mode] = "tps qps p95 ignored"
declare -A results
failed=0

# run_system NAME ADDRS
run_system() {
	local name=$1 hosts ports w m common log
	split_addrs "$2"
	for w in ${workloads//,/ }; do
		for m in ${ps_modes//,/ }; do
			common=(--mysql-host="$hosts" --mysql-port="$ports" --mysql-user=root --mysql-db="$dbname"
				--tables="$tables" --table-size="$table_size" --db-ps-mode="$m" --mysql-ignore-errors=1213,1205)
			log="$out/$name.$w.$m"
			echo "== $name $w ps-mode=$m"
			sysbench "$w" "${common[@]}" cleanup >"$log.precleanup" 2>&1 || true
			if ! sysbench "$w" "${common[@]}" --threads=4 prepare >"$log.prepare" 2>&1; then
				echo "   prepare FAILED:"; tail -5 "$log.prepare" | sed 's/^/   /'
				failed=1; results[$name/$w/$m]="FAIL - - -"; continue
			fi
			if ! sysbench "$w" "${common[@]}" --threads="$threads" --time="$time_s" --report-interval=10 run >"$log.run" 2>&1 ||
				grep -q 'FATAL' "$log.run"; then
				echo "   run FAILED:"; grep -m5 -E 'FATAL|error' "$log.run" | sed 's/^/   /'
				failed=1
			fi
			local tps qps p95 ign
			tps=$(sed -n 's/.*transactions: *[0-9]* *(\([0-9.]*\) per sec.*/\1/p' "$log.run" | head -1)
			qps=$(sed -n 's/.*queries: *[0-9]* *(\([0-9.]*\) per sec.*/\1/p' "$log.run" | head -1)
			p95=$(sed -n 's/.*95th percentile: *\([0-9.]*\).*/\1/p' "$log.run" | head -1)
			ign=$(sed -n 's/.*ignored errors: *\([0-9]*\).*/\1/p' "$log.run" | head -1)
			results[$name/$w/$m]="${tps:-FAIL} ${qps:--} ${p95:--} ${ign:--}"
			echo "   tps=${tps:-?} qps=${qps:-?} p95=${p95:-?}ms ignored_errors=${ign:-?}"
			if ! sysbench "$w" "${common[@]}" cleanup >"$log.cleanup" 2>&1; then
				echo "   cleanup FAILED:"; tail -5 "$log.cleanup" | sed 's/^/   /'
				failed=1
			fi
		done
	done
}

run_system meridian "$addrs"

if [ "$with_mariadb" = 1 ]; then
	need mariadbd mariadb-server mariadb-client
	mdir="$out/mariadb"
	mkdir -p "$mdir"
	[ -d "$mdir/data/mysql" ] || mariadb-install-db --datadir="$mdir/data" --user="$(id -un)" >"$mdir/install.log" 2>&1
	mariadbd --datadir="$mdir/data" --socket="$mdir/sock" --port="$mariadb_port" --bind-address=127.0.0.1 \
		--user="$(id -un)" --skip-grant-tables --innodb-buffer-pool-size=512M >"$mdir/mariadbd.log" 2>&1 &
	pids+=($!)
	wait_port 127.0.0.1 "$mariadb_port" 60 || { echo "sysbench.sh: MariaDB did not start" >&2; tail "$mdir/mariadbd.log" >&2; exit 1; }
	mariadb -h 127.0.0.1 -P "$mariadb_port" -u root -e "CREATE DATABASE IF NOT EXISTS \`$dbname\`"
	run_system mariadb "127.0.0.1:$mariadb_port"
fi

echo
printf '%-18s %-8s %10s %10s %9s %8s' workload ps-mode tps qps p95_ms ignored
[ "$with_mariadb" = 1 ] && printf ' | %10s %10s %9s %8s %8s' maria_tps maria_qps maria_p95 tps_ratio qps_ratio
echo
for w in ${workloads//,/ }; do
	for m in ${ps_modes//,/ }; do
		read -r tps qps p95 ign <<<"${results[meridian/$w/$m]:-FAIL - - -}"
		printf '%-18s %-8s %10s %10s %9s %8s' "$w" "$m" "$tps" "$qps" "$p95" "$ign"
		if [ "$with_mariadb" = 1 ]; then
			read -r mtps mqps mp95 _ <<<"${results[mariadb/$w/$m]:-FAIL - - -}"
			rt=$(awk -v a="$tps" -v b="$mtps" 'BEGIN { if (b + 0 > 0 && a + 0 > 0) printf "%.1f%%", 100 * a / b; else print "-" }')
			rq=$(awk -v a="$qps" -v b="$mqps" 'BEGIN { if (b + 0 > 0 && a + 0 > 0) printf "%.1f%%", 100 * a / b; else print "-" }')
			printf ' | %10s %10s %9s %8s %8s' "$mtps" "$mqps" "$mp95" "$rt" "$rq"
		fi
		echo
	done
done

if [ "$failed" != 0 ]; then
	echo "sysbench.sh: some runs failed with non-retryable errors (logs in $out)" >&2
	exit 1
fi
