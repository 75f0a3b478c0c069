#!/usr/bin/env bash
# Measures persistence on `clusterctl server` and redis-server side by side, on the same
# machine in the same run:
#
#   1. SAVE of KEYS keys (DEBUG POPULATE, values of 100 bytes): wall time and file size;
#   2. loading that dump.rdb at start (the "DB loaded from disk" line of each log);
#   3. BGSAVE while redis-benchmark runs SET/GET against the server: the benchmark's max
#      and p99 latency with the BGSAVE running, next to the same benchmark without it.
#
#   bench/persistence.sh [-k KEYS] [-c CLIENTS]
#
# CLUSTERCTL_BIN names a prebuilt binary; otherwise the script builds one. Servers listen
# on free loopback ports in 12000..22767 with enable-debug-command local,
# in a temporary directory, and are stopped by PID when the script exits.
set -euo pipefail

keys=1000000
clients=50
while getopts "k:c:" opt; do
	case $opt in
	k) keys=$OPTARG ;;
	c) clients=$OPTARG ;;
	*) exit 2 ;;
	esac
done

. "$(dirname "$0")/lib.sh"
require redis-server redis-benchmark redis-cli go

bin=$(clusterctl_binary)

# start KIND DIR PORT starts a server and waits until it answers.
start() {
	local kind=$1 dir=$2 port=$3
	local args=(--port "$port" --bind 127.0.0.1 --dir "$dir" --logfile "$dir/server.log" --save ""
		--appendonly no --daemonize no --enable-debug-command local)
	if [ "$kind" = clusterctl ]; then
		"$bin" server "${args[@]}" &
	else
		redis-server "${args[@]}" &
	fi
	pids=($!)
	for _ in $(seq 1200); do
		redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && return 0
		sleep 0.05
	done
	echo "$kind on port $port did not start" >&2
	exit 1
}

now_ms() { date +%s%3N; }

info_field() { redis-cli -p "$1" info persistence | tr -d '\r' | awk -F: -v f="$2" '$1 == f { print $2 }'; }

# latency PORT N prints the max and the p99 latency in ms (the worse of SET and GET) of
# a SET/GET benchmark of N requests. The max also catches TCP retransmissions on a
# loaded machine (a dropped loopback SYN costs 1 s, then 3 s); the p99 does not.
latency() {
	redis-benchmark -p "$1" -t set,get -c "$clients" -n "$2" -r "$keys" -d 100 --csv 2>/dev/null |
		awk -F'"' 'NR > 1 { if ($16 + 0 > m) m = $16 + 0; if ($14 + 0 > p) p = $14 + 0 } END { print m, p }'
}

# rps PORT prints SET requests per second, to size the benchmark that overlaps BGSAVE.
rps() {
	redis-benchmark -p "$1" -t set -c "$clients" -n 100000 -r "$keys" -d 100 --csv 2>/dev/null |
		awk -F'"' 'NR > 1 { print int($4); exit }'
}

declare -A result
for kind in clusterctl redis-server; do
	dir="$work/data-$kind"
	mkdir -p "$dir"
	port=$(free_port)
	start "$kind" "$dir" "$port"
	redis-cli -p "$port" debug populate "$keys" key 100 >/dev/null

	t0=$(now_ms)
	redis-cli -p "$port" save >/dev/null
	result[$kind,save]=$(( $(now_ms) - t0 ))
	result[$kind,size]=$(stat -c %s "$dir/dump.rdb")

	# BGSAVE alone first, for its duration; then the benchmark without and with it.
	t0=$(now_ms)
	redis-cli -p "$port" bgsave >/dev/null
	while [ "$(info_field "$port" rdb_bgsave_in_progress)" != 0 ]; do sleep 0.02; done
	bgsave_ms=$(( $(now_ms) - t0 ))
	result[$kind,bgsave]=$bgsave_ms
	per_sec=$(rps "$port")
	# Enough requests to outlast the BGSAVE by a second at the measured rate (two tests).
	n=$(( per_sec * (bgsave_ms + 1000) / 1000 / 2 + 10000 ))
	read -r result[$kind,idle_max] result[$kind,idle_p99] < <(latency "$port" "$n")
	(sleep 0.3; redis-cli -p "$port" bgsave >/dev/null) &
	trigger=$!
	read -r result[$kind,bgsave_max] result[$kind,bgsave_p99] < <(latency "$port" "$n")
	wait "$trigger"
	while [ "$(info_field "$port" rdb_bgsave_in_progress)" != 0 ]; do sleep 0.02; done
	[ "$(info_field "$port" rdb_last_bgsave_status)" = ok ] || { echo "$kind: BGSAVE failed" >&2; exit 1; }
	redis-cli -p "$port" dbsize >/dev/null
	stop_servers

	# Load: restart on the file just saved, read the time the server reports.
	start "$kind" "$dir" "$port"
	result[$kind,load]=$(grep -o 'DB loaded from disk: [0-9.]* seconds' "$dir/server.log" | tail -1 | awk '{ print $5 * 1000 }')
	result[$kind,loaded]=$(redis-cli -p "$port" dbsize)
	stop_servers
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

printf '%s keys of 100 bytes, %s benchmark clients\n\n' "$keys" "$clients"
printf '| %-40s | %12s | %12s | %8s |\n' "measure" "clusterctl" "redis-server" "ratio"
printf '|%s|%s|%s|%s|\n' "------------------------------------------" "--------------" "--------------" "----------"
row() {
	printf '| %-40s | %12s | %12s | %8s |\n' "$1" "${result[clusterctl,$2]}" "${result[redis-server,$2]}" \
		"$(ratio "${result[clusterctl,$2]}" "${result[redis-server,$2]}")"
}
row "SAVE, ms" save
row "dump.rdb size, bytes" size
row "BGSAVE alone, ms" bgsave
row "load at start, ms" load
row "keys loaded" loaded
row "max latency without BGSAVE, ms" idle_max
row "max latency during BGSAVE, ms" bgsave_max
row "p99 latency without BGSAVE, ms" idle_p99
row "p99 latency during BGSAVE, ms" bgsave_p99
