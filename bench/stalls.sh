#!/usr/bin/env bash
# Measures how often this machine stops running a process that wants to run, the noise
# under every other figure in docs/BENCHMARKS.md:
#
#   1. a loop that only reads the clock, on one thread, for SECONDS: every gap of 5 ms or
#      more between two readings is time the thread was not running;
#   2. one connection sending PING and waiting for the reply, for SECONDS, against
#      redis-server and against `clusterctl server`: the round trips of 5 ms or more.
#
#   bench/stalls.sh [-s SECONDS]
#
# CLUSTERCTL_BIN names a prebuilt binary; otherwise the script builds one. Both servers
# listen on free loopback ports in 12000..22767 and are stopped by PID when the script
# exits.
set -euo pipefail

secs=10
while getopts "s:" opt; do
	case $opt in
	s) secs=$OPTARG ;;
	*) exit 2 ;;
	esac
done

. "$(dirname "$0")/lib.sh"
require redis-server redis-cli go

bin=$(clusterctl_binary)

# probe: "probe clock SECS" or "probe ping ADDR SECS"; prints the count, the total and
# the longest of the gaps or round trips of 5 ms or more, and the total time measured.
mkdir -p "$work/probe"
cat >"$work/probe/main.go" <<'GO'
package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"time"
)

type gaps struct {
	n          int
	sum, worst time.Duration
}

func (g *gaps) add(d time.Duration) {
	if d >= 5*time.Millisecond {
		g.n++
		g.sum += d
		g.worst = max(g.worst, d)
	}
}

func main() {
	runtime.LockOSThread()
	var g gaps
	var ops int
	start := time.Now()
	switch os.Args[1] {
	case "clock":
		secs, _ := strconv.Atoi(os.Args[2])
		end := start.Add(time.Duration(secs) * time.Second)
		for last := start; last.Before(end); ops++ {
			now := time.Now()
			g.add(now.Sub(last))
			last = now
		}
	case "ping":
		secs, _ := strconv.Atoi(os.Args[3])
		conn, err := net.Dial("tcp", os.Args[2])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		r := bufio.NewReader(conn)
		end := start.Add(time.Duration(secs) * time.Second)
		for time.Now().Before(end) {
			t := time.Now()
			if _, err := conn.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			if line, err := r.ReadString('\n'); err != nil || line != "+PONG\r\n" {
				fmt.Fprintln(os.Stderr, "PING:", line, err)
				os.Exit(1)
			}
			g.add(time.Since(t))
			ops++
		}
	}
	total := time.Since(start)
	fmt.Printf("%d %d %.2f %.0f %.2f\n", ops, g.n, g.sum.Seconds(), float64(g.worst.Milliseconds()), total.Seconds())
}
GO
(cd "$work/probe" && GO111MODULE=off go build -o "$work/stallprobe" main.go)

start_side_by_side "$bin"

printf '| %-34s | %10s | %12s | %12s | %11s | %13s |\n' "probe, $secs s each" "operations" "gaps >= 5 ms" "their sum, s" "longest, ms" "share of time"
printf '|%s|%s|%s|%s|%s|%s|\n' "------------------------------------" "------------" "--------------" "--------------" "-------------" "---------------"
row() { # NAME PROBE-ARGS...
	local name=$1
	shift
	read -r ops n sum worst total < <("$work/stallprobe" "$@")
	printf '| %-34s | %10s | %12s | %12s | %11s | %12.0f%% |\n' "$name" "$ops" "$n" "$sum" "$worst" \
		"$(awk -v s="$sum" -v t="$total" 'BEGIN { print 100 * s / t }')"
}
row "clock loop (CPU only)" clock "$secs"
row "PING round trips, redis-server" ping "127.0.0.1:$theirs" "$secs"
row "PING round trips, clusterctl" ping "127.0.0.1:$ours" "$secs"
