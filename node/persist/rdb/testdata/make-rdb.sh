#!/usr/bin/env bash
# Regenerates the RDB test files in this directory from the real redis-server (7.0):
#
#   dump.rdb             every type and encoding Redis 7.0 writes, several databases,
#                        TTLs, a function library, LRU idle times (allkeys-lru)
#   dump-lfu.rdb         the same data saved under allkeys-lfu (FREQ opcodes)
#   dump-nocompress.rdb  the same data with rdbcompression and rdbchecksum off
#   expected.json        what the server held, key by key, with each key's DUMP payload
#
# The server runs on 127.0.0.1 on a free port between 12000 and 22767, in a temporary
# directory, and is stopped by PID when the script exits. Run from anywhere:
#   bash node/persist/rdb/testdata/make-rdb.sh
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here" && git rev-parse --show-toplevel)
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

start_server() {
  redis-server --port "$port" --bind 127.0.0.1 --dir "$tmp" --dbfilename dump.rdb \
    --save "" --appendonly no --daemonize no --logfile "$tmp/redis.log" \
    --enable-debug-command local --list-compress-depth 1 "$@" &
  pid=$!
  for _ in $(seq 1 100); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && return
    sleep 0.1
  done
  echo "redis-server did not start" >&2
  exit 1
}
stop_server() {
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  pid=""
}

start_server --maxmemory-policy allkeys-lru

# cli fails on an error reply, which redis-cli itself reports with exit status 0.
cli() {
  local out
  out=$(redis-cli -p "$port" "$@")
  case "$out" in ERR*|WRONGTYPE*) echo "redis-cli $*: $out" >&2; exit 1 ;; esac
}
# Commands on stdin run on one connection, so SELECT carries over; sdssplitargs handles
# "\x00"-style escapes inside double quotes.
run() {
  local out
  out=$(redis-cli -p "$port")
  if grep -E '^(ERR|WRONGTYPE)' <<<"$out" >&2; then exit 1; fi
}

# A far-future absolute expiry keeps expected.json stable between runs.
ttl=4102444800123

{
  echo 'FUNCTION LOAD "#!lua name=mylib\nredis.register_function(\"myfunc\", function(keys, args) return 1 end)"'
  echo 'SELECT 0'
  # Strings: int, int beyond 32 bits, embstr, raw, LZF-compressible, binary, empty.
  echo 'SET str:int 12345'
  echo 'SET str:negint -42'
  echo 'SET str:int64 9223372036854775807'
  echo 'SET str:embstr hello'
  echo 'SET str:raw abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-_qwertyuiop'
  echo "SET str:lzf \"$(printf 'compress me %.0s' $(seq 1 30))\""
  echo 'SET str:binary "\x00\x01\xff\r\n\x80tail"'
  echo 'SET str:empty ""'
  echo "SET ttl:str expiring PXAT $ttl"
  echo 'SET "key:\xfe\x00binary" "binary key"'
  # Lists: one listpack node; many nodes with compressed interior nodes; a plain node.
  echo 'RPUSH list:small a b 1 -5 "" 1000000 "x y"'
  echo "RPUSH list:big $(seq -f 'element-%g' 1 2500 | tr '\n' ' ')"
  echo 'DEBUG QUICKLIST-PACKED-THRESHOLD 100'
  echo "RPUSH list:plain small $(head -c 300 /dev/zero | tr '\0' 'p') after"
  echo 'DEBUG QUICKLIST-PACKED-THRESHOLD 1073741824'
  # Sets: intset (16, 32 and 64-bit members), hash table of strings, hash table of many ints.
  echo 'SADD set:intset 1 2 3 -70000 9000000000'
  echo 'SADD set:intset16 5 -5 300'
  echo 'SADD set:strings apple banana 1 cherry'
  echo "SADD set:bigints $(seq 1 600 | tr '\n' ' ')"
  # Hashes: listpack (up to 512 fields); hash table by size; hash table by value length.
  echo 'HSET hash:listpack name redis version 7 neg -1 empty ""'
  echo "HSET hash:biglistpack $(for i in $(seq 1 300); do printf 'field%d value%d ' "$i" "$i"; done)"
  echo "HSET hash:hashtable $(for i in $(seq 1 600); do printf 'field%d value%d ' "$i" "$i"; done)"
  echo "HSET hash:longvalue f $(head -c 100 /dev/zero | tr '\0' 'v')"
  echo "PEXPIREAT hash:longvalue $ttl"
  # Sorted sets: listpack with integer, fractional and infinite scores; skiplist.
  echo 'ZADD zset:listpack 1 one 2.5 two-and-half -3 minus3 inf pinf -inf ninf 1e300 huge 0.1 tenth 4503599627370497 big'
  echo "ZADD zset:skiplist $(for i in $(seq 1 200); do printf '%d.25 member%d ' "$i" "$i"; done)"
  echo "ZADD zset:longmember 1 $(head -c 80 /dev/zero | tr '\0' 'm')"
  # Streams: mixed fields, a deletion, groups with consumers and pending entries.
  echo 'XADD stream:basic 1700000000000-0 name alice age 30'
  echo 'XADD stream:basic 1700000000000-1 name bob age 25'
  echo 'XADD stream:basic 1700000000001-0 other field'
  echo 'XADD stream:basic 1700000000002-0 name carol age 41'
  echo 'XADD stream:basic 1700000000003-5 name dave age 12 city paris'
  echo 'XDEL stream:basic 1700000000000-1'
  echo 'XGROUP CREATE stream:basic g1 0'
  echo 'XGROUP CREATE stream:basic g2 $'
  echo 'XGROUP CREATE stream:basic g3 1700000000001-0'
  echo 'XREADGROUP GROUP g1 alice COUNT 2 STREAMS stream:basic >'
  echo 'XREADGROUP GROUP g1 bob COUNT 1 STREAMS stream:basic >'
  echo 'XACK stream:basic g1 1700000000000-0'
  echo 'XGROUP CREATECONSUMER stream:basic g1 carol'
  for i in $(seq 1 300); do echo "XADD stream:big 1800000000000-$i seq $i payload p$i"; done
  echo 'XADD stream:emptied 5-5 f v'
  echo 'XDEL stream:emptied 5-5'
  echo 'XGROUP CREATE stream:emptied g 0'
  echo 'XGROUP CREATE stream:mkstream g $ MKSTREAM'
  echo "PEXPIREAT stream:basic $ttl"
  # Other databases.
  echo 'SELECT 1'
  echo 'SET db1:str one'
  echo 'RPUSH db1:list x y z'
  echo "SET db1:ttl v PXAT $ttl"
  echo 'SELECT 15'
  echo 'HSET db15:hash a 1'
} | run

cli SAVE >/dev/null
cp "$tmp/dump.rdb" "$here/dump.rdb"
(cd "$root" && go run ./node/persist/rdb/testdata/describe -addr "127.0.0.1:$port" -out "$here/expected.json")

cli CONFIG SET maxmemory-policy allkeys-lfu >/dev/null
cli SAVE >/dev/null
cp "$tmp/dump.rdb" "$here/dump-lfu.rdb"

# rdbchecksum cannot change at run time: restart on the saved file without it.
stop_server
start_server --rdbchecksum no --rdbcompression no
cli SAVE >/dev/null
cp "$tmp/dump.rdb" "$here/dump-nocompress.rdb"

echo "wrote dump.rdb, dump-lfu.rdb, dump-nocompress.rdb and expected.json in $here"
