#!/usr/bin/env bash
# Times a full sync of a data set of KEYS keys (DEBUG POPULATE, 100-byte values) from a
# master to a fresh replica, for redis-server -> redis-server and clusterctl server ->
# clusterctl server side by side, plus the two mixed pairs, and prints the seconds from
# REPLICAOF to the replica's link being up with every key loaded, the ratio against
# redis-server -> redis-server, and the CPU seconds each end used meanwhile (user+system,
# with redis-server's forked child counted once it is reaped). On a busy machine the wall
# time follows the scheduler more than the code; the CPU seconds change much less.
#
#   bench/replication.sh [-k KEYS] [-r ROUNDS]
#
# Masters use diskless sync without delay (repl-diskless-sync yes,
# repl-diskless-sync-delay 0), Redis 7.0's default framing. Every server listens on a free
# loopback port in 12000..22767 and is stopped by PID when the script exits. Each pair is
# measured ROUNDS times and the best round kept.
set -euo pipefail

keys=1000000
rounds=2
while getopts "k:r:" opt; do
	case $opt in
	k) keys=$OPTARG ;;
	r) rounds=$OPTARG ;;
	*) exit 2 ;;
	esac
done

. "$(dirname "$0")/lib.sh"
require redis-server redis-cli go

bin=$(clusterctl_binary)

common=(--bind 127.0.0.1 --save "" --appendonly no --daemonize no --enable-debug-command yes
	--repl-diskless-sync yes --repl-diskless-sync-delay 0)

tick=$(getconf CLK_TCK)

# cpu_ticks PID prints the CPU time PID and its reaped children used, in clock ticks.
cpu_ticks() {
	awk '{ print $14 + $15 + $16 + $17 }' "/proc/$1/stat"
}

# start KIND NAME starts a server and sets port to its port; its PID goes to pids.
start() {
	local dir
	port=$(free_port)
	dir="$work/$2-$port"
	mkdir -p "$dir"
	if [ "$1" = ours ]; then
		"$bin" server --port "$port" --dir "$dir" --logfile "$dir/log" "${common[@]}" >/dev/null 2>&1 &
	else
		redis-server --port "$port" --dir "$dir" --logfile "$dir/log" "${common[@]}" >/dev/null 2>&1 &
	fi
	pids+=($!)
	wait_ready "$port"
}

stop_last_two() {
	local n=${#pids[@]}
	for pid in "${pids[@]:n-2}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	pids=("${pids[@]:0:n-2}")
}

# sync_seconds MASTER_KIND REPLICA_KIND sets secs to the seconds one full sync takes, and
# mcpu and rcpu to the CPU seconds the master and the replica used for it.
sync_seconds() {
	local m r t0 t1 mpid rpid m0 r0
	start "$1" master
	m=$port
	mpid=${pids[-1]}
	redis-cli -p "$m" debug populate "$keys" key 100 >/dev/null
	start "$2" replica
	r=$port
	rpid=${pids[-1]}
	m0=$(cpu_ticks "$mpid")
	r0=$(cpu_ticks "$rpid")
	t0=$(date +%s.%N)
	redis-cli -p "$r" replicaof 127.0.0.1 "$m" >/dev/null
	while :; do
		if redis-cli -p "$r" info replication 2>/dev/null | grep -q "master_link_status:up" &&
			[ "$(redis-cli -p "$r" dbsize 2>/dev/null)" = "$keys" ]; then
			break
		fi
		sleep 0.02
	done
	t1=$(date +%s.%N)
	mcpu=$(awk -v a="$m0" -v b="$(cpu_ticks "$mpid")" -v t="$tick" 'BEGIN { printf "%.2f", (b - a) / t }')
	rcpu=$(awk -v a="$r0" -v b="$(cpu_ticks "$rpid")" -v t="$tick" 'BEGIN { printf "%.2f", (b - a) / t }')
	stop_last_two
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
}

# best MASTER_KIND REPLICA_KIND sets best_secs, best_mcpu and best_rcpu to the fastest of
# ROUNDS syncs.
best() {
	best_secs=""
	for _ in $(seq "$rounds"); do
		sync_seconds "$1" "$2"
		if [ -z "$best_secs" ] || awk -v x="$secs" -v y="$best_secs" 'BEGIN { exit !(x < y) }'; then
			best_secs=$secs best_mcpu=$mcpu best_rcpu=$rcpu
		fi
	done
}

row="%-34s %10s %7s %12s %13s\n"
best redis redis
base=$best_secs
printf "$row" "full sync of $keys keys" "seconds" "ratio" "master CPU s" "replica CPU s"
printf "$row" "redis-server -> redis-server" "$base" "1.00" "$best_mcpu" "$best_rcpu"
for pair in "ours ours" "ours redis" "redis ours"; do
	read -r a b <<<"$pair"
	best "$a" "$b"
	s=$best_secs
	name="${a/ours/clusterctl}"
	name="${name/redis/redis-server} -> ${b/ours/clusterctl}"
	name="${name/-> redis/-> redis-server}"
	printf "$row" "$name" "$s" "$(awk -v a="$s" -v b="$base" 'BEGIN { printf "%.2f", a / b }')" "$best_mcpu" "$best_rcpu"
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
