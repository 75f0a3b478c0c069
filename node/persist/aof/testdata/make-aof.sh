#!/usr/bin/env bash
# Regenerates the AOF test directory from the real redis-server (7.0):
#
#   appendonlydir/   a multi-part AOF: an RDB-preamble base holding every type, then an
#                    increment with writes of every type, expiries as PXAT, a MULTI/EXEC
#                    and a script's effects, and a second database
#   expected.txt     what the server held afterwards, one line per key: database, key,
#                    type, encoding, whether it has a TTL, and the value as redis-cli
#                    prints it (set members sorted), elements joined by commas
#
# The server runs on 127.0.0.1 on a free port between 12000 and 22767, in a temporary
# directory, and is stopped by PID when the script exits. Run from anywhere:
#   bash node/persist/aof/testdata/make-aof.sh
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
pid=""
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

port=""
for _ in $(seq 1 200); do
	p=$((12000 + RANDOM % 10768))
	if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
		port=$p
		break
	fi
done
[ -n "$port" ] || { echo "no free port" >&2; exit 1; }

redis-server --port "$port" --bind 127.0.0.1 --dir "$tmp" --save "" --appendonly yes \
	--appendfsync always --daemonize no --logfile "$tmp/redis.log" --enable-debug-command local &
pid=$!
for _ in $(seq 1 100); do
	redis-cli -p "$port" ping >/dev/null 2>&1 && break
	sleep 0.1
done

run() {
	local out
	out=$(redis-cli -p "$port")
	if grep -E '^(ERR|WRONGTYPE)' <<<"$out" >&2; then exit 1; fi
}
rewrite() {
	redis-cli -p "$port" bgrewriteaof >/dev/null
	until redis-cli -p "$port" info persistence | grep -q 'aof_rewrite_in_progress:0'; do sleep 0.1; done
}

ttl=4102444800123
# Into the base: one key of each type and encoding.
{
	echo 'SET base:int 42'
	echo 'SET base:str "a string value"'
	echo 'RPUSH base:list a b c'
	echo 'HSET base:hash f1 v1 f2 v2'
	echo 'SADD base:intset 1 2 3'
	echo 'SADD base:set a b'
	echo 'ZADD base:zset 1 a 2 b'
	echo 'XADD base:stream 1-1 f v'
	echo "PEXPIREAT base:str $ttl"
} | run
rewrite
# Into the increment. SET EX is written as SET PXAT; the relative expiry is some 95 years,
# so the absolute one in the file stays in the future for as long as the file is tested.
{
	echo 'SET incr:ex value EX 3000000000'
	echo 'INCRBY base:int 8'
	echo 'APPEND base:str " and more"'
	echo 'LPUSH base:list z'
	echo 'HDEL base:hash f1'
	echo 'SREM base:set a'
	echo 'ZINCRBY base:zset 5 a'
	echo 'XADD base:stream 2-1 g w'
	echo 'XGROUP CREATE base:stream grp 0'
	echo 'MULTI'
	echo 'SET tx:a 1'
	echo 'INCR tx:a'
	echo 'EXEC'
	echo "EVAL \"redis.call('SET', KEYS[1], 'x'); redis.call('APPEND', KEYS[1], 'y')\" 1 script:key"
	echo 'SELECT 4'
	echo 'SET db4:key here'
	echo 'SELECT 0'
	echo 'DEL base:intset'
} | run

# value DB KEY TYPE prints a key's value on one line.
value() {
	local c=(redis-cli -p "$port" -n "$1" --raw)
	case $3 in
	string) "${c[@]}" get "$2" ;;
	list) "${c[@]}" lrange "$2" 0 -1 ;;
	hash) "${c[@]}" hgetall "$2" ;;
	set) "${c[@]}" smembers "$2" | sort ;;
	zset) "${c[@]}" zrange "$2" 0 -1 withscores ;;
	stream) "${c[@]}" xrange "$2" - + ;;
	esac | paste -sd, -
}

: >"$tmp/expected.txt"
for db in 0 4; do
	for key in $(redis-cli -p "$port" -n "$db" --raw keys '*' | sort); do
		type=$(redis-cli -p "$port" -n "$db" --raw type "$key")
		enc=$(redis-cli -p "$port" -n "$db" --raw object encoding "$key")
		pttl=$(redis-cli -p "$port" -n "$db" --raw pttl "$key")
		hasttl=$([ "$pttl" -gt 0 ] && echo ttl || echo nottl)
		echo "$db $key $type $enc $hasttl $(value "$db" "$key" "$type")" >>"$tmp/expected.txt"
	done
done

redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
wait "$pid" 2>/dev/null || true
pid=""
rm -rf "$here/appendonlydir"
cp -r "$tmp/appendonlydir" "$here/appendonlydir"
cp "$tmp/expected.txt" "$here/expected.txt"
ls -l "$here/appendonlydir"
