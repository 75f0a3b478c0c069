#!/usr/bin/env bash
# Measures the memory an idle client connection costs `clusterctl server` and redis-server,
# side by side: each server's resident set size (VmRSS) before and while redis-benchmark
# holds N idle connections to it (redis-benchmark -I), and the difference per connection.
#
#   bench/idle-connections.sh [-c CONNECTIONS]
#
# CLUSTERCTL_BIN names a prebuilt binary; otherwise the script builds one. Both servers
# listen on free loopback ports with persistence off and are stopped by PID when the script
# exits, as is each redis-benchmark it starts.
set -euo pipefail

conns=5000
while getopts "c:" opt; do
	case $opt in
	c) conns=$OPTARG ;;
	*) exit 2 ;;
	esac
done

. "$(dirname "$0")/lib.sh"
require redis-server redis-benchmark redis-cli go

# Both servers and redis-benchmark need a descriptor per connection, and some to spare.
ulimit -n $((conns + 1024))

bin=$(clusterctl_binary)
start_side_by_side "$bin"

# rss_kb PID prints PID's resident set size in kB.
rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

# clients PORT prints how many clients the server on PORT has connected.
clients() {
	redis-cli -p "$1" info clients | awk -F: '/^connected_clients:/ { print $2 + 0 }'
}

# measure NAME PID PORT prints one row of the table.
measure() {
	local before after bench_pid
	before=$(rss_kb "$2")
	redis-benchmark -p "$3" -c "$conns" -I >/dev/null 2>&1 &
	bench_pid=$!
	for _ in $(seq 600); do
		[ "$(clients "$3")" -ge "$conns" ] && break
		sleep 0.1
	done
	sleep 1
	after=$(rss_kb "$2")
	local connected
	connected=$(clients "$3")
	kill "$bench_pid" 2>/dev/null || true
	wait "$bench_pid" 2>/dev/null || true
	printf "%-14s %12s %10s %10s %14s\n" "$1" "$connected" "$before" "$after" \
		"$(awk -v a="$before" -v b="$after" -v n="$connected" 'BEGIN { printf "%.1f", (b - a) / n }')"
}

printf "%-14s %12s %10s %10s %14s\n" "server" "connections" "RSS kB" "with them" "kB/connection"
measure clusterctl "${pids[0]}" "$ours"
measure redis-server "${pids[1]}" "$theirs"
