#!/usr/bin/env bash
# Times the same reshard with `redis-cli --cluster reshard` and with `clusterctl reshard`, in
# the same run, on the same three-master redis-server 7.0 cluster, and prints both times and
# the ratio (redis-cli / clusterctl).
#
#   bench/reshard.sh [-k KEYS] [-d VALUE_BYTES] [-s SLOTS] [-r ROUNDS] [-t TOOLS]
#
# Defaults: 300,000 keys of 100 bytes spread over the 5461 slots of the first master; each
# round moves those 5461 slots (and every key) from the first master to the second with
# redis-cli, checks that no key was lost, then moves them back with clusterctl and checks
# again. The best round of each tool is kept, so a burst of load from elsewhere on a shared
# machine penalises neither side more than the other. -t redis-cli or -t clusterctl times one
# side only. A quick run: -k 30000 -s 1000 -r 1. CI does not time anything; it runs the
# scaled-down reshards of commands/reshard_test.go (keys moved under a write load, none lost).
#
# The nodes listen on free loopback ports in 12000..22767 with persistence off and are
# stopped by PID when the script exits. Their directories (nodes.conf) are on tmpfs when the
# machine has one: Redis rewrites nodes.conf, with an fsync now and then, on every SETSLOT,
# and on a virtual machine's disk an fsync sometimes took half a second, a stall that
# either tool could draw and that says nothing about the tool. They run with cluster-allow-replica-migration no:
# otherwise Redis 7.0 turns a master that has given away its last slot into a replica of the
# receiver, and the round trip back could not start.
set -euo pipefail

keys=300000
value=100
slots=5461
rounds=2
tools="redis-cli,clusterctl"
while getopts "k:d:s:r:t:" opt; do
	case $opt in
	k) keys=$OPTARG ;;
	d) value=$OPTARG ;;
	s) slots=$OPTARG ;;
	r) rounds=$OPTARG ;;
	t) tools=$OPTARG ;;
	*) exit 2 ;;
	esac
done

. "$(dirname "$0")/lib.sh"
require redis-server redis-cli go

case ,$tools, in *,clusterctl,*) bin=$(clusterctl_binary) ;; esac

# fill: writes KEYS keys of VALUE bytes whose slots lie in [0, SLOTS) to one node, pipelined.
# A few lines of Go (standard library only) because neither redis-cli nor the shell can pick
# keys by slot quickly.
mkdir -p "$work/fill"
cat >"$work/fill/main.go" <<'EOF'
package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
)

func crc16(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc ^= uint16(c) << 8
		for i := 0; i < 8; i++ {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

func main() {
	addr, keys, size, slots := os.Args[1], atoi(os.Args[2]), atoi(os.Args[3]), atoi(os.Args[4])
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		panic(err)
	}
	w, r := bufio.NewWriterSize(conn, 1<<20), bufio.NewReader(conn)
	val := strings.Repeat("v", size)
	sent := 0
	pending := 0
	for i := 0; sent < keys; i++ {
		k := "key:" + strconv.Itoa(i)
		if int(crc16([]byte(k))&16383) >= slots {
			continue
		}
		fmt.Fprintf(w, "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", len(k), k, len(val), val)
		sent++
		pending++
		if pending == 10000 || sent == keys {
			w.Flush()
			for ; pending > 0; pending-- {
				line, err := r.ReadString('\n')
				if err != nil || line != "+OK\r\n" {
					panic(fmt.Sprintf("SET %s: %q %v", k, line, err))
				}
			}
		}
	}
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		panic(err)
	}
	return n
}
EOF
(cd "$work/fill" && GO111MODULE=off go build -o "$work/fillkeys" main.go)

ports=()
for i in 0 1 2; do
	p=$(free_port)
	mkdir -p "$memdir/n$p"
	redis-server --port "$p" --bind 127.0.0.1 --dir "$memdir/n$p" --logfile "$memdir/n$p/log" \
		--cluster-enabled yes --cluster-config-file "nodes.conf" --cluster-node-timeout 20000 \
		--cluster-allow-replica-migration no --save "" --appendonly no --daemonize no &
	pids+=($!)
	ports+=("$p")
done
for p in "${ports[@]}"; do wait_ready "$p"; done
a=${ports[0]} b=${ports[1]}
redis-cli --cluster create "127.0.0.1:${ports[0]}" "127.0.0.1:${ports[1]}" "127.0.0.1:${ports[2]}" --cluster-yes >/dev/null
for _ in $(seq 200); do
	[ "$(redis-cli -p "$a" cluster info | tr -d '\r' | grep cluster_state)" = "cluster_state:ok" ] && break
	sleep 0.05
done
ida=$(redis-cli -p "$a" cluster myid | tr -d '\r')
idb=$(redis-cli -p "$b" cluster myid | tr -d '\r')

echo "filling $keys keys of $value bytes into slots 0-$((slots - 1)) of 127.0.0.1:$a"
"$work/fillkeys" "127.0.0.1:$a" "$keys" "$value" "$slots"

# wait_settled waits until every node agrees and no slot is open (redis-cli check is clean).
wait_settled() {
	for _ in $(seq 200); do
		if redis-cli --cluster check "127.0.0.1:$a" 2>&1 | grep -q '\[OK\] All nodes agree about slots configuration.'; then
			return 0
		fi
		sleep 0.1
	done
	echo "the cluster did not settle" >&2
	redis-cli --cluster check "127.0.0.1:$a" >&2
	exit 1
}

# count_keys prints the keys held by the three masters together.
count_keys() {
	local n=0
	for p in "${ports[@]}"; do n=$((n + $(redis-cli -p "$p" dbsize | tr -d '\r'))); done
	echo "$n"
}

now() { date +%s.%N; }

# The reshards. Each tool moves the first SLOTS slots of its source, which are exactly the
# slots that hold the keys.
best_cli=0 best_ours=0
move() { # TOOL FROM_ID FROM_PORT TO_ID TO_PORT
	local start end
	start=$(now)
	case $1 in
	redis-cli)
		redis-cli --cluster reshard "127.0.0.1:$3" --cluster-from "$2" --cluster-to "$4" \
			--cluster-slots "$slots" --cluster-yes >"$work/out" 2>&1
		;;
	clusterctl)
		"$bin" reshard "127.0.0.1:$3" --from "$2" --to "$4" --slots "$slots" --yes --timeout 30s \
			>"$work/out" 2>&1
		;;
	esac || { echo "$1 reshard failed:" >&2; tail -20 "$work/out" >&2; exit 1; }
	end=$(now)
	local got
	got=$(count_keys)
	if [ "$got" != "$keys" ]; then
		echo "$1: $got keys in the cluster after the reshard, want $keys" >&2
		exit 1
	fi
	awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f\n", e - s }'
}

printf "%-6s %-11s %10s %12s\n" "round" "tool" "seconds" "keys/s"
from_id=$ida from_port=$a to_id=$idb to_port=$b
run_tool() { # TOOL
	wait_settled
	local secs
	secs=$(move "$1" "$from_id" "$from_port" "$to_id" "$to_port")
	printf "%-6s %-11s %10s %12.0f\n" "$round" "$1" "$secs" "$(awk -v k="$keys" -v s="$secs" 'BEGIN { print k / s }')"
	case $1 in
	redis-cli) best_cli=$(awk -v x="$secs" -v y="$best_cli" 'BEGIN { print (y == 0 || x < y ? x : y) }') ;;
	clusterctl) best_ours=$(awk -v x="$secs" -v y="$best_ours" 'BEGIN { print (y == 0 || x < y ? x : y) }') ;;
	esac
	# The next move goes the other way.
	local t=$from_id p=$from_port
	from_id=$to_id from_port=$to_port to_id=$t to_port=$p
}
IFS=, read -ra order <<<"$tools"
for round in $(seq "$rounds"); do
	for tool in "${order[@]}"; do run_tool "$tool"; done
done
wait_settled
if [ "$best_cli" != 0 ] && [ "$best_ours" != 0 ]; then
	echo
	printf "best of %d: redis-cli %.3f s, clusterctl %.3f s, ratio %.2fx\n" "$rounds" "$best_cli" "$best_ours" \
		"$(awk -v a="$best_cli" -v b="$best_ours" 'BEGIN { print a / b }')"
fi
