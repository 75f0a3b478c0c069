#!/usr/bin/env bash
# Runs redis-benchmark against `clusterctl server` and against redis-server side by side,
# on the same machine in the same run, and prints requests per second and the ratio
# (clusterctl / redis-server) per command and pipeline depth.
#
#   bench/redis-benchmark.sh [-n REQUESTS] [-c CLIENTS] [-r ROUNDS] [-t TESTS] [-P "1 16"]
#                            [-k KEYSPACE] [-s] [-u] [-o ROUNDS_FILE]
#
# -k is redis-benchmark's -r: keys, members and fields drawn at random from KEYSPACE values
# (100000 unless given). -k 0 leaves it out, as the plain `redis-benchmark -q -n 100000`
# does: every test then works on one key, one member and one field.
#
# CLUSTERCTL_BIN names a prebuilt binary; otherwise the script builds one.
#
# -s also counts each server's system calls per request with Linux perf (perf stat on the
# server's PID while the benchmark runs; the lowest count of the rounds is kept): on a
# virtual machine a system call is a large part of a request's cost at -P 1.
#
# -u also reports each server's CPU time (user and system, from /proc/PID/stat) per request,
# the median of the rounds: when a server keeps its core busy, as both do at -P 16 on a
# two-core machine, its requests per second are the inverse of that figure, and the figure
# is much steadier than the rate.
# It also reports the CPU time redis-benchmark itself used per request ("client"): at -P 1
# redis-benchmark, not the server, keeps its core busy, and the rate is then the inverse of
# the client's figure.
#
# -o keeps every round's rate in ROUNDS_FILE, one "round,side,test,-P,rps" line each (side
# is clusterctl or redis-server), to see how much a median hides.
#
# -t default runs redis-benchmark's whole default suite (no -t, as `redis-benchmark -q`
# does) in each round and reports every test of it.
#
# Both servers listen on free loopback ports in 12000..22767, with persistence off, and
# are stopped by PID when the script exits. The two servers are measured alternately,
# ROUNDS times, and the median round of each is kept, so a burst of load from elsewhere on
# the machine penalises neither side more than the other. Each round swaps which side goes
# first (clusterctl first in odd rounds, redis-server first in even ones), so that neither
# always runs right after the other's load. Not the best round: on a shared
# virtual machine a short pipelined run now and then gets the CPU to itself and reports
# five times the usual rate (redis-server: 820,000 SET/s in one round, 150,000-200,000 in
# the others), and the best round would keep exactly that one.
set -euo pipefail

requests=200000
clients=50
rounds=3
tests="set,get,incr,lpush,lpop,sadd,hset,zadd,lrange_100,mset"
pipelines="1 16"
syscalls=0
cputime=0
keyspace=100000
rounds_file=""
while getopts "n:c:r:t:P:suk:o:" opt; do
	case $opt in
	n) requests=$OPTARG ;;
	c) clients=$OPTARG ;;
	r) rounds=$OPTARG ;;
	t) tests=$OPTARG ;;
	P) pipelines=$OPTARG ;;
	s) syscalls=1 ;;
	u) cputime=1 ;;
	k) keyspace=$OPTARG ;;
	o) rounds_file=$OPTARG ;;
	*) exit 2 ;;
	esac
done

. "$(dirname "$0")/lib.sh"
require redis-server redis-benchmark redis-cli go
if [ "$syscalls" = 1 ] && ! command -v perf >/dev/null; then
	echo "-s needs perf (linux-tools) on PATH" >&2
	exit 1
fi

random=()
[ "$keyspace" = 0 ] || random=(-r "$keyspace")

bin=$(clusterctl_binary)

start_side_by_side "$bin"

# bench PORT TEST PIPELINE prints the requests per second of one run, and leaves in
# $work/client the user and system CPU seconds redis-benchmark used.
bench() {
	local TIMEFORMAT='%U %S'
	{ time redis-benchmark -p "$1" -t "$2" -c "$clients" -n "$requests" -P "$3" "${random[@]}" --csv \
		2>/dev/null >"$work/csv"; } 2>"$work/client"
	awk -F'"' 'NR > 1 { print $4; exit }' "$work/csv"
}

# has_command PORT TEST reports whether the server implements the command a test uses.
has_command() {
	local name=${2%%_*}
	case $2 in lpop) name=lpop ;; rpop) name=rpop ;; esac
	[ "$(redis-cli -p "$1" command info "$name" | head -1)" != "" ]
}

# cpu_ticks PID prints the user and system CPU time PID has used, in clock ticks.
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# counted PID PORT TEST PIPELINE prints the requests per second of one run, then, with -s,
# the system calls per request the server PID made meanwhile and, with -u, the
# microseconds of CPU it and redis-benchmark used per request ("-" for each one not asked
# for).
counted() {
	local pid=$1
	shift
	local perf="" rps sys=- cpu=- client=- c0=0
	if [ "$syscalls" = 1 ]; then
		perf stat -x, -e raw_syscalls:sys_enter -p "$pid" -o "$work/perf" &
		perf=$!
		sleep 0.2
	fi
	[ "$cputime" = 0 ] || c0=$(cpu_ticks "$pid")
	rps=$(bench "$@")
	if [ "$cputime" = 1 ]; then
		cpu=$(awk -v a="$c0" -v b="$(cpu_ticks "$pid")" -v hz="$(getconf CLK_TCK)" -v n="$requests" \
			'BEGIN { printf "%.2f", (b - a) / hz * 1e6 / n }')
		client=$(awk -v n="$requests" '{ printf "%.2f", ($1 + $2) * 1e6 / n }' "$work/client")
	fi
	if [ -n "$perf" ]; then
		kill -INT "$perf"
		wait "$perf" 2>/dev/null || true
		sys=$(awk -F, -v n="$requests" '/raw_syscalls/ { printf "%.2f", $1 / n }' "$work/perf")
	fi
	echo "$rps $sys $cpu $client"
}

# median_awk defines median(v, m): the median of v[1..m] (which it sorts), for every awk
# program below that picks a side's median round.
median_awk='function median(v, m,    i, j, t) {
	for (i = 2; i <= m; i++)
		for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
	return m % 2 ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2
}'

# median VALUES... prints the median of the numbers given.
median() {
	printf "%s\n" "$@" | awk "$median_awk"' { v[NR] = $1 } END { print median(v, NR) }'
}

# keep_round ROUND SIDE PIPELINE appends the "test,rps" lines it reads to the -o file.
keep_round() {
	if [ -n "$rounds_file" ]; then
		awk -v r="$1" -v side="$2" -v P="$3" -F, '{ print r "," side "," $1 "," P "," $2 }' >>"$rounds_file"
	else
		cat >/dev/null
	fi
}

# suite PORT PIPELINE prints "test,rps" for every test of the default suite.
suite() {
	redis-benchmark -p "$1" -c "$clients" -n "$requests" -P "$2" "${random[@]}" --csv 2>/dev/null |
		awk -F'"' 'NR > 1 { print $2 "," $4 }'
}

if [ "$tests" = default ]; then
	printf "%-40s %3s %14s %14s %7s\n" "test" "-P" "clusterctl" "redis-server" "ratio"
	for P in $pipelines; do
		: >"$work/ours" && : >"$work/theirs"
		for r in $(seq "$rounds"); do
			if ((r % 2)); then
				suite "$ours" "$P" | tee -a "$work/ours" | keep_round "$r" clusterctl "$P"
				suite "$theirs" "$P" | tee -a "$work/theirs" | keep_round "$r" redis-server "$P"
			else
				suite "$theirs" "$P" | tee -a "$work/theirs" | keep_round "$r" redis-server "$P"
				suite "$ours" "$P" | tee -a "$work/ours" | keep_round "$r" clusterctl "$P"
			fi
		done
		# Median round of each side per test, in the suite's order.
		awk -F, -v P="$P" "$median_awk"'
			function side_median(side, t,    i, v) {
				for (i = 1; i <= count[side, t]; i++) v[i] = vals[side, t, i]
				return median(v, count[side, t])
			}
			FNR == 1 { side++ }
			{ if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 }
			  vals[side, $1, ++count[side, $1]] = $2 }
			END { for (i = 1; i <= n; i++) { t = order[i]; a = side_median(1, t); b = side_median(2, t)
			      printf "%-40s %3s %14.0f %14.0f %7s\n", t, P, a, b, (b > 0 ? sprintf("%.2f", a / b) : "-") } }
		' "$work/ours" "$work/theirs"
	done
	exit 0
fi

printf "%-16s %3s %14s %14s %7s %12s %12s %11s %11s %11s %11s\n" "command" "-P" "clusterctl" "redis-server" \
	"ratio" "syscalls/req" "(redis)" "cpu us/req" "(redis)" "client us" "(redis)"
IFS=, read -ra names <<<"$tests"
for P in $pipelines; do
	for t in "${names[@]}"; do
		if ! has_command "$ours" "$t"; then
			printf "%-16s %3s %14s %14s %7s\n" "$t" "$P" "(missing)" "" ""
			continue
		fi
		rps_ours=()
		rps_theirs=()
		cpu_ours=()
		cpu_theirs=()
		client_ours=()
		client_theirs=()
		sys_ours=-
		sys_theirs=-
		for r in $(seq "$rounds"); do
			if ((r % 2)); then
				read -r a sa ca ka <<<"$(counted "${pids[0]}" "$ours" "$t" "$P")"
				read -r b sb cb kb <<<"$(counted "${pids[1]}" "$theirs" "$t" "$P")"
			else
				read -r b sb cb kb <<<"$(counted "${pids[1]}" "$theirs" "$t" "$P")"
				read -r a sa ca ka <<<"$(counted "${pids[0]}" "$ours" "$t" "$P")"
			fi
			echo "$t,$a" | keep_round "$r" clusterctl "$P"
			echo "$t,$b" | keep_round "$r" redis-server "$P"
			rps_ours+=("$a")
			rps_theirs+=("$b")
			cpu_ours+=("$ca")
			cpu_theirs+=("$cb")
			client_ours+=("$ka")
			client_theirs+=("$kb")
			sys_ours=$(awk -v x="$sa" -v y="$sys_ours" 'BEGIN { print (y == "-" || x + 0 < y + 0 ? x : y) }')
			sys_theirs=$(awk -v x="$sb" -v y="$sys_theirs" 'BEGIN { print (y == "-" || x + 0 < y + 0 ? x : y) }')
		done
		med_ours=$(median "${rps_ours[@]}")
		med_theirs=$(median "${rps_theirs[@]}")
		ratio=$(awk -v a="$med_ours" -v b="$med_theirs" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
		cpu_med_ours=-
		cpu_med_theirs=-
		client_med_ours=-
		client_med_theirs=-
		if [ "$cputime" = 1 ]; then
			cpu_med_ours=$(median "${cpu_ours[@]}")
			cpu_med_theirs=$(median "${cpu_theirs[@]}")
			client_med_ours=$(median "${client_ours[@]}")
			client_med_theirs=$(median "${client_theirs[@]}")
		fi
		printf "%-16s %3s %14.0f %14.0f %7s %12s %12s %11s %11s %11s %11s\n" "$t" "$P" "$med_ours" "$med_theirs" \
			"$ratio" "$sys_ours" "$sys_theirs" "$cpu_med_ours" "$cpu_med_theirs" "$client_med_ours" "$client_med_theirs"
	done
done
