#!/usr/bin/env bash
# Regenerates the golden files of node/config from the real redis-server 7.0, which is the
# specification: what CONFIG GET answers after loading each fixture, the replies to each
# fixture's commands, the file CONFIG REWRITE leaves, and the errors printed for bad files.
#
# Usage: node/config/testdata/capture.sh   (needs redis-server and redis-cli on PATH)
#
# Every server runs on 127.0.0.1, on a port between 12000 and 22767, in a temporary copy of
# the fixture directory, and is shut down by PID before the next one starts. Outputs are
# normalised so they do not depend on the run: the port becomes <port> and the temporary
# directory <dir>.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
redis-server --version | grep -q 'v=7\.0\.' || { echo "redis-server 7.0 required" >&2; exit 1; }

work=$(mktemp -d)
pid=""
cleanup() {
	if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then kill "$pid"; wait "$pid" || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

# fixed_args <port>: the overrides given to every server, right after the file name; the Go
# tests load fixtures with the same ones (see fixedArgs in golden_test.go).
fixed_args() { fixed=(--port "$1" --bind 127.0.0.1 --daemonize no --logfile ""); }

# normalise <dir> <port>: stdin to stdout with the run's directory and port replaced.
normalise() {
	sed -e "s#$1#<dir>#g" -e "s#^port\t$2\$#port\t<port>#" -e "s#^port $2\$#port <port>#"
}

# start <dir> <conf or ""> <extra args...>: starts redis-server in <dir> on a free port;
# sets $pid and $port.
start() {
	local dir=$1 conf=$2
	shift 2
	local first=()
	if [[ -n $conf ]]; then first=("$conf"); fi
	for _ in $(seq 1 20); do
		port=$((12000 + RANDOM % 10700))
		if redis-cli -p "$port" ping >/dev/null 2>&1; then continue; fi
		fixed_args "$port"
		(cd "$dir" && exec redis-server "${first[@]}" "${fixed[@]}" "$@") >"$dir/.server.log" 2>&1 &
		pid=$!
		for _ in $(seq 1 100); do
			# Any reply counts: a replica that serves no stale data answers PING with an error.
			if [[ -n $(redis-cli -p "$port" ping 2>/dev/null) ]]; then return 0; fi
			if ! kill -0 "$pid" 2>/dev/null; then break; fi
			sleep 0.05
		done
		if kill -0 "$pid" 2>/dev/null; then kill "$pid"; fi
		wait "$pid" || true
		pid=""
	done
	echo "could not start redis-server in $dir:" >&2
	cat "$dir/.server.log" >&2
	exit 1
}

stop() {
	kill "$pid"
	wait "$pid" || true
	pid=""
}

# config_get_all prints CONFIG GET * as sorted "name<TAB>value" lines.
config_get_all() {
	redis-cli -p "$port" config get '*' | paste -d '\t' - - | LC_ALL=C sort
}

# run_cmds <file>: runs each line as a redis-cli command, printing "> line" then the reply;
# CONFIG GET replies are sorted pairs, as Redis answers them in hash-table order.
run_cmds() {
	local line
	while IFS= read -r line || [[ -n $line ]]; do
		[[ -z $line || $line == \#* ]] && continue
		echo "> $line"
		if [[ ${line,,} == "config get "* ]]; then
			printf '%s\n' "$line" | redis-cli -p "$port" | paste -d '\t' - - | LC_ALL=C sort
		else
			printf '%s\n' "$line" | redis-cli -p "$port" | sed -e '/^$/d'
		fi
	done <"$1"
}

# Defaults: no configuration file at all.
mkdir -p "$work/defaults"
start "$work/defaults" ""
config_get_all | normalise "$work/defaults" "$port" >"$here/defaults.golden"
stop

# Fixtures that load: CONFIG GET * after loading, then the commands' replies and the file
# left by CONFIG REWRITE.
for conf in "$here"/load/*.conf; do
	name=$(basename "$conf" .conf)
	dir="$work/load-$name"
	mkdir -p "$dir"
	cp -r "$here/load/." "$dir/"
	args=()
	if [[ -f $here/load/$name.args ]]; then mapfile -t args <"$here/load/$name.args"; fi
	# NAME.auth holds the password of a fixture that sets requirepass.
	unset REDISCLI_AUTH
	if [[ -f $here/load/$name.auth ]]; then REDISCLI_AUTH=$(cat "$here/load/$name.auth"); export REDISCLI_AUTH; fi
	start "$dir" "$name.conf" "${args[@]}"
	config_get_all | normalise "$dir" "$port" >"$here/load/$name.get"
	if [[ -f $here/load/$name.cmds ]]; then
		run_cmds "$here/load/$name.cmds" | normalise "$dir" "$port" >"$here/load/$name.out"
		if grep -qi '^config rewrite' "$here/load/$name.cmds"; then
			normalise "$dir" "$port" <"$dir/$name.conf" >"$here/load/$name.rewritten"
		fi
	fi
	stop
	echo "load/$name: captured"
done

# Fixtures that do not load: what redis-server prints before exiting (stderr, and the
# "can't open config file" log line it writes on stdout, without its log prefix).
for conf in "$here"/errors/*.conf; do
	name=$(basename "$conf" .conf)
	dir="$work/errors-$name"
	mkdir -p "$dir"
	cp -r "$here/errors/." "$dir/"
	args=()
	if [[ -f $here/errors/$name.args ]]; then mapfile -t args <"$here/errors/$name.args"; fi
	port=$((12000 + RANDOM % 10700))
	fixed_args "$port"
	set +e
	(cd "$dir" && exec timeout 10 redis-server "$name.conf" "${fixed[@]}" "${args[@]}") \
		>"$dir/.stdout" 2>"$dir/.stderr"
	status=$?
	set -e
	if [[ $status -eq 0 || $status -eq 124 ]]; then
		echo "errors/$name: redis-server did not fail (status $status)" >&2
		exit 1
	fi
	{
		cat "$dir/.stderr"
		grep -o -e "Fatal error, can't open config file.*" -e 'Module Configuration detected.*' "$dir/.stdout" || true
	} | sed -e '/^$/d' | normalise "$dir" "$port" >"$here/errors/$name.err"
	echo "errors/$name: captured"
done
