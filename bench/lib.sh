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
