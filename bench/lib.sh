# Shared by the bench scripts, which source it after `set -euo pipefail`. It sets root (the
# repository) and work (a temporary directory), and keeps in pids the servers a script
# starts, which are stopped by PID, and work removed, when the script exits.
# shellcheck shell=bash

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d)
pids=()
# memdir is a temporary directory in memory (tmpfs) when the machine has one, else work: for
# files whose fsync would otherwise add the disk's flush stalls to what is measured.
memdir=$work
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
	memdir=$(mktemp -d -p /dev/shm)
fi

# stop_servers stops every server in pids, by PID, and forgets them.
stop_servers() {
	local pid
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	pids=()
}

cleanup() {
	stop_servers
	rm -rf "$work" "$memdir"
}
trap cleanup EXIT INT TERM

# free_port prints a free loopback port in 12000..22767 whose cluster bus port (+10000) is
# free too: both stay below the kernel's ephemeral ports (32768 up).
free_port() {
	while :; do
		local p=$((12000 + RANDOM % 10768))
		if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null && ! (exec 3<>/dev/tcp/127.0.0.1/$((p + 10000))) 2>/dev/null; then
			echo "$p"
			return
		fi
	done
}

# wait_ready PORT waits up to 10 s for the server on PORT to answer PING.
wait_ready() {
	for _ in $(seq 200); do
		redis-cli -p "$1" ping >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	echo "server on port $1 did not start" >&2
	exit 1
}

# require PROGRAM... exits with a message unless every PROGRAM is on PATH.
require() {
	local p
	for p in "$@"; do
		command -v "$p" >/dev/null || { echo "$p not found on PATH" >&2; exit 1; }
	done
}

# clusterctl_binary prints the path of the clusterctl binary to measure: CLUSTERCTL_BIN when
# it is set, else one built from the repository into work.
clusterctl_binary() {
	if [ -n "${CLUSTERCTL_BIN:-}" ]; then
		echo "$CLUSTERCTL_BIN"
		return
	fi
	(cd "$root" && go build -o "$work/clusterctl" .) >&2
	echo "$work/clusterctl"
}

# start_side_by_side BINARY starts `clusterctl server` from BINARY and redis-server on free
# ports, persistence off, logs in work, and waits for both; it sets ours and theirs to
# their ports.
start_side_by_side() {
	local common=(--bind 127.0.0.1 --save "" --appendonly no --daemonize no)
	ours=$(free_port)
	"$1" server --port "$ours" --dir "$work" --logfile "$work/clusterctl.log" "${common[@]}" &
	pids+=($!)
	theirs=$(free_port)
	redis-server --port "$theirs" --dir "$work" --logfile "$work/redis.log" "${common[@]}" &
	pids+=($!)
	wait_ready "$ours"
	wait_ready "$theirs"
}
