#!/usr/bin/env bash
# Produces redis-cli-plans.txt: reshard tables and rebalance decisions made by real
# `redis-cli --cluster`, which PlanReshard and PlanRebalance must reproduce. Run by hand (it
# starts redis-server processes, which unit tests must not do), from any directory:
#   planner/testdata/make-plans.sh > planner/testdata/redis-cli-plans.txt
# Needs redis-server and redis-cli (Redis 7.0). Uses loopback ports BASE..BASE+4 (and their
# cluster bus ports +10000), BASE defaulting to 21100, and stops every node it started.
#
# Masters are named m0..m4 by port order, which is also their address order. Reshard plans
# are printed and refused ("no"), rebalances only simulated, so the layout changes only where
# the script moves slots on purpose. Cases avoid ties in slot counts, which redis-cli
# leaves to qsort's whim.
set -euo pipefail

base=${BASE:-21100}
if (( base < 12000 || base + 4 > 22767 )); then
  echo "BASE must keep ports within 12000..22767" >&2
  exit 2
fi
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

for ((i = 0; i < 5; i++)); do
  port=$((base + i))
  (cd "$work" && exec redis-server --port "$port" --bind 127.0.0.1 --cluster-enabled yes \
    --cluster-config-file "nodes-$port.conf" --save '' --appendonly no \
    --logfile "$work/redis-$port.log") &
  pids+=($!)
done
for ((i = 0; i < 5; i++)); do
  until redis-cli -p $((base + i)) ping 2>/dev/null | grep -q PONG; do sleep 0.05; done
done

declare -A name id
for ((i = 0; i < 5; i++)); do
  id[m$i]=$(redis-cli -p $((base + i)) cluster myid)
  name[${id[m$i]}]=m$i
  name[127.0.0.1:$((base + i))]=m$i
done
seed=127.0.0.1:$base

wait_agree() {
  until redis-cli --cluster check "$seed" 2>/dev/null | grep -q 'All nodes agree'; do sleep 0.2; done
}

# Replace IDs and addresses by m0..m4.
rename() {
  local line=$1 key
  for key in "${!name[@]}"; do line=${line//$key/${name[$key]}}; done
  printf '%s\n' "$line"
}

layout() {
  echo "layout"
  for ((i = 0; i < 5; i++)); do
    local line
    line=$(redis-cli -p $((base + i)) cluster nodes | grep myself)
    # fields 9.. are the slot ranges
    echo "  m$i $(echo "$line" | cut -d' ' -f9- | tr '\n' ' ')"
  done
  echo "end"
}

move() { # really move slots: FROM TO COUNT
  # redis-cli refuses while the nodes' views still differ; retry until gossip settles.
  local try
  for ((try = 0; try < 50; try++)); do
    if redis-cli --cluster reshard "$seed" --cluster-from "${id[$1]}" --cluster-to "${id[$2]}" \
      --cluster-slots "$3" --cluster-yes >"$work/move.log" 2>&1; then
      wait_agree
      return
    fi
    sleep 0.2
  done
  cat "$work/move.log" >&2
  exit 1
}

reshard() { # FROM(all|mX,mY) TO COUNT
  local from=$1 ids=all m
  if [[ $from != all ]]; then
    ids=""
    for m in ${from//,/ }; do ids+="${ids:+,}${id[$m]}"; done
  fi
  echo "reshard from=$from to=$2 slots=$3"
  { echo no | redis-cli --cluster reshard "$seed" --cluster-from "$ids" --cluster-to "${id[$2]}" \
    --cluster-slots "$3" 2>/dev/null || true; } | { grep -E '^ *Moving slot' || true; } |
    while read -r _ _ slot _ src; do
      echo "$slot $(rename "$src")"
    done | collapse
  echo "end"
}

# Joins moves of consecutive slots from one source into "move START-END SOURCE".
collapse() {
  awk '
    function flush() { if (n) print "  move " start "-" last " " src }
    { if (n && $2 == src && $1 == last + 1) { last = $1; next }
      flush(); start = last = $1; src = $2; n = 1 }
    END { flush() }'
}

rebalance() { # THRESHOLD EMPTY(0|1) WEIGHTS(mX=W,... or -)
  local args=(--cluster-simulate --cluster-threshold "$1") w
  [[ $2 == 1 ]] && args+=(--cluster-use-empty-masters)
  if [[ $3 != - ]]; then
    # One --cluster-weight flag takes every NODE=WEIGHT argument after it.
    args+=(--cluster-weight)
    for w in ${3//,/ }; do args+=("${id[${w%%=*}]}=${w#*=}"); done
  fi
  echo "rebalance threshold=$1 empty=$2 weights=$3"
  { redis-cli --cluster rebalance "$seed" --verbose "${args[@]}" 2>/dev/null || true; } | sed 's/\x1b\[[0-9;]*m//g' |
    while read -r line; do
      case $line in
        *"balance is"*) set -- $line; echo "  balance $(rename "$1") $4" ;;
        "Moving "*) set -- $line; echo "  moving $2 $(rename "$5") $(rename "$7")" ;;
        *"No rebalancing needed"*) echo "  not-needed" ;;
      esac
    done
  echo "end"
}

echo "# Plans from $(redis-cli --version) against real redis-server nodes; made by make-plans.sh."
echo "# Do not edit by hand."
redis-cli --cluster create 127.0.0.1:$base 127.0.0.1:$((base + 1)) 127.0.0.1:$((base + 2)) \
  --cluster-yes >/dev/null
for ((i = 3; i < 5; i++)); do
  redis-cli --cluster add-node 127.0.0.1:$((base + i)) "$seed" >/dev/null
done
wait_agree
for ((i = 0; i < 5; i++)); do
  until [[ $(redis-cli -p $((base + i)) cluster nodes | grep -c connected) == 5 ]]; do sleep 0.2; done
done
wait_agree

# Unequal counts, m0 in two ranges: m0 5761, m1 4762, m2 5161, m3 700, m4 none.
move m1 m3 700
move m2 m0 300
layout
reshard all m3 1000
reshard all m0 7
reshard m1,m2 m0 3333
reshard all m3 16000
reshard m0 m4 5
rebalance 2 0 -
rebalance 2 1 -
rebalance 2 0 m0=2
rebalance 2 0 m0=1.5,m1=0.5,m3=3
rebalance 600 0 -
rebalance 600 1 -
rebalance 30 0 -

# Nearly balanced over four masters: m3 takes 3396 more from m0 and m2.
move m0 m3 1665
move m2 m3 1065
move m1 m3 666
layout
rebalance 2 0 -
rebalance 0.5 0 -
rebalance 2 1 -
rebalance 2 1 m4=2
