#!/usr/bin/env bash
# Produces redis-cli-ranges.txt: the slot ranges real `redis-cli --cluster create` gives to
# 3..10 masters, which MasterSlotRanges must reproduce. Run by hand (it starts redis-server
# processes, which unit tests must not do), from any directory:
#   planner/testdata/make-ranges.sh > planner/testdata/redis-cli-ranges.txt
# Needs redis-server and redis-cli (Redis 7.0). Uses loopback ports BASE..BASE+9 (and their
# cluster bus ports +10000), BASE defaulting to 21000, and stops every node it started.
set -euo pipefail

base=${BASE:-21000}
if (( base < 12000 || base + 9 > 22767 )); then
  echo "BASE must keep ports within 12000..22767" >&2
  exit 2
fi
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

start_nodes() {
  local n=$1 port
  pids=()
  for ((i = 0; i < n; i++)); do
    port=$((base + i))
    (cd "$work" && exec redis-server --port "$port" --bind 127.0.0.1 --cluster-enabled yes \
      --cluster-config-file "nodes-$port.conf" --save '' --appendonly no \
      --logfile "$work/redis-$port.log") &
    pids+=($!)
  done
  for ((i = 0; i < n; i++)); do
    port=$((base + i))
    until redis-cli -p "$port" ping 2>/dev/null | grep -q PONG; do sleep 0.05; done
  done
}

stop_nodes() {
  for pid in "${pids[@]}"; do kill "$pid"; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
  rm -f "$work"/nodes-*.conf
}

echo "# Slot ranges from redis-cli --cluster create --cluster-replicas 0 ($(redis-cli --version))."
echo "# One line per master count: the count, then each master's range in creation order."
echo "# Made by make-ranges.sh; do not edit by hand."
for n in 3 4 5 6 7 8 9 10; do
  start_nodes "$n"
  addrs=()
  for ((i = 0; i < n; i++)); do addrs+=("127.0.0.1:$((base + i))"); done
  redis-cli --cluster create "${addrs[@]}" --cluster-replicas 0 --cluster-yes >"$work/create-$n.log"
  line="$n"
  # Masters are created in argument order (one host, no replicas); read each node's own
  # range from CLUSTER SLOTS, whose entries are start, end, then the owner's ip, port, id.
  slots=$(redis-cli -p "$base" cluster slots)
  for ((i = 0; i < n; i++)); do
    port=$((base + i))
    range=$(awk -v port="$port" '
      { v[NR] = $0 }
      END {
        for (k = 1; k + 3 <= NR; k++)
          if (v[k+2] == "127.0.0.1" && v[k+3] == port && v[k] ~ /^[0-9]+$/ && v[k+1] ~ /^[0-9]+$/) {
            print v[k] "-" v[k+1]; exit
          }
      }' <<<"$slots")
    if [[ -z $range ]]; then
      echo "no range found for 127.0.0.1:$port with $n masters" >&2
      exit 1
    fi
    line+=" $range"
  done
  echo "$line"
  stop_nodes
done
