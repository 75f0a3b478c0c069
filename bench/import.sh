#!/usr/bin/env bash
# Times the same import with `redis-cli --cluster import` and with `clusterctl import`, in the
# same run, from the same standalone redis-server 7.0 into the same three-master cluster, and
# prints both times and the ratio (redis-cli / clusterctl).
#
#   bench/import.sh [-k KEYS] [-r ROUNDS] [-t TOOLS]
#
# Defaults: 100,000 keys of six types in turn (string, one in ten with a TTL; list; hash;
# set; sorted set; stream), as the import acceptance test writes them. Each round fills the
# source, moves every key into the empty cluster with one tool (no --copy: the source ends
# empty), checks that the cluster holds all of them, empties the cluster and does the same
# with the other tool. The best round of each tool is kept, so a burst of load from
# elsewhere on a shared machine penalises neither side more than the other. -t redis-cli or
# -t clusterctl times one side only. A quick run: -k 20000 -r 1.
#
# The nodes listen on free loopback ports in 12000..22767 with persistence off and are
# stopped by PID when the script exits.
set -euo pipefail

keys=100000
rounds=2
tools="redis-cli,clusterctl"
while getopts "k:r:t:" opt; do
	case $opt in
	k) keys=$OPTARG ;;
	r) rounds=$OPTARG ;;
	t) tools=$OPTARG ;;
	*) exit 2 ;;
	esac
done

. "$(dirname "$0")/lib.sh"
require redis-server redis-cli go awk

case ,$tools, in *,clusterctl,*) bin=$(clusterctl_binary) ;; esac

# start_node PORT [ARGS...]: a redis-server on 127.0.0.1 without persistence.
start_node() {
	local p=$1
	shift
	mkdir -p "$work/n$p"
	redis-server --port "$p" --bind 127.0.0.1 --dir "$work/n$p" --logfile "$work/n$p/log" \
		--save "" --appendonly no --daemonize no "$@" &
	pids+=($!)
}

src=$(free_port)
start_node "$src"
ports=()
for _ in 0 1 2; do
	p=$(free_port)
	start_node "$p" --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 20000
	ports+=("$p")
done
for p in "$src" "${ports[@]}"; do wait_ready "$p"; done
seed=127.0.0.1:${ports[0]}
redis-cli --cluster create "$seed" "127.0.0.1:${ports[1]}" "127.0.0.1:${ports[2]}" --cluster-yes >/dev/null
for _ in $(seq 200); do
	[ "$(redis-cli -p "${ports[0]}" cluster info | tr -d '\r' | grep cluster_state)" = "cluster_state:ok" ] && break
	sleep 0.05
done

# The data set, in the Redis protocol for redis-cli --pipe: key i is of type i mod 6.
awk -v n="$keys" '
function cmd(a, k, i, s) {
	s = "*" k "\r\n"
	for (i = 1; i <= k; i++) s = s "$" length(a[i]) "\r\n" a[i] "\r\n"
	printf "%s", s
}
BEGIN {
	for (i = 0; i < n; i++) {
		v = i ""
		t = i % 6
		delete a
		if (t == 0) {
			pad = ""; for (j = 0; j < i % 50; j++) pad = pad "x"
			a[1] = "SET"; a[2] = "str:" v; a[3] = "value-" v pad; cmd(a, 3)
			if (i % 10 == 0) { delete a; a[1] = "PEXPIRE"; a[2] = "str:" v; a[3] = "3600000"; cmd(a, 3) }
		} else if (t == 1) {
			a[1] = "RPUSH"; a[2] = "list:" v; a[3] = "a" v; a[4] = "b"; a[5] = "c" v; cmd(a, 5)
		} else if (t == 2) {
			a[1] = "HSET"; a[2] = "hash:" v; a[3] = "f1"; a[4] = v; a[5] = "f2"; a[6] = "two"; cmd(a, 6)
		} else if (t == 3) {
			a[1] = "SADD"; a[2] = "set:" v; a[3] = "m1"; a[4] = "m2-" v; a[5] = (i % 97) ""; cmd(a, 5)
		} else if (t == 4) {
			a[1] = "ZADD"; a[2] = "zset:" v; a[3] = "1"; a[4] = "a"; a[5] = v; a[6] = "b" v; cmd(a, 6)
		} else {
			a[1] = "XADD"; a[2] = "stream:" v; a[3] = "1-1"; a[4] = "f"; a[5] = v; cmd(a, 5)
			delete a; a[1] = "XADD"; a[2] = "stream:" v; a[3] = "2-0"; a[4] = "g"; a[5] = "h"; cmd(a, 5)
		}
	}
}' >"$work/data.resp"

fill_source() {
	redis-cli -p "$src" flushall >/dev/null
	redis-cli -p "$src" --pipe <"$work/data.resp" >"$work/pipe.out" 2>&1 ||
		{ cat "$work/pipe.out" >&2; exit 1; }
	local n
	n=$(redis-cli -p "$src" dbsize | tr -d '\r')
	[ "$n" = "$keys" ] || { echo "the source holds $n keys after the fill, want $keys" >&2; exit 1; }
}

cluster_keys() {
	local n=0
	for p in "${ports[@]}"; do n=$((n + $(redis-cli -p "$p" dbsize | tr -d '\r'))); done
	echo "$n"
}

empty_cluster() {
	for p in "${ports[@]}"; do redis-cli -p "$p" flushall >/dev/null; done
}

now() { date +%s.%N; }

best_cli=0 best_ours=0
import() { # TOOL
	local start end got
	start=$(now)
	case $1 in
	redis-cli)
		redis-cli --cluster import "$seed" --cluster-from "127.0.0.1:$src" >"$work/out" 2>&1
		;;
	clusterctl)
		"$bin" import "$seed" --from "127.0.0.1:$src" --timeout 30s >"$work/out" 2>&1
		;;
	esac || { echo "$1 import failed:" >&2; tail -20 "$work/out" >&2; exit 1; }
	end=$(now)
	got=$(cluster_keys)
	if [ "$got" != "$keys" ]; then
		echo "$1: $got keys in the cluster after the import, want $keys" >&2
		exit 1
	fi
	if [ "$(redis-cli -p "$src" dbsize | tr -d '\r')" != 0 ]; then
		echo "$1: the source still holds keys after the import" >&2
		exit 1
	fi
	awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f\n", e - s }'
}

printf "%-6s %-11s %10s %12s\n" "round" "tool" "seconds" "keys/s"
IFS=, read -ra order <<<"$tools"
for round in $(seq "$rounds"); do
	for tool in "${order[@]}"; do
		empty_cluster
		fill_source
		secs=$(import "$tool")
		printf "%-6s %-11s %10s %12.0f\n" "$round" "$tool" "$secs" "$(awk -v k="$keys" -v s="$secs" 'BEGIN { print k / s }')"
		case $tool in
		redis-cli) best_cli=$(awk -v x="$secs" -v y="$best_cli" 'BEGIN { print (y == 0 || x < y ? x : y) }') ;;
		clusterctl) best_ours=$(awk -v x="$secs" -v y="$best_ours" 'BEGIN { print (y == 0 || x < y ? x : y) }') ;;
		esac
	done
done
if [ "$best_cli" != 0 ] && [ "$best_ours" != 0 ]; then
	echo
	printf "best of %d: redis-cli %.3f s, clusterctl %.3f s, ratio %.2fx\n" "$rounds" "$best_cli" "$best_ours" \
		"$(awk -v a="$best_cli" -v b="$best_ours" 'BEGIN { print a / b }')"
fi
