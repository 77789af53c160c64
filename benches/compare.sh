#!/usr/bin/env bash
# Runs redis-benchmark against emberkv and, when installed, against real redis-server on the
# same machine, and prints requests/second side by side with the ratio emberkv / redis.
#
#   usage: benches/compare.sh [-n requests] [-c clients] [-P pipeline] [-t tests]
#   defaults: -n 200000 -c 50 -P 1 -t ping_inline,ping_mbulk,set,get,incr,mset
#
# Needs redis-benchmark (Debian: redis-tools); redis-server is optional (Debian: redis-server).
# Both servers listen on loopback on free ports and are stopped at the end.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

N=200000 C=50 P=1 TESTS=ping_inline,ping_mbulk,set,get,incr,mset
while getopts "n:c:P:t:" opt; do
  case $opt in
    n) N=$OPTARG ;; c) C=$OPTARG ;; P) P=$OPTARG ;; t) TESTS=$OPTARG ;;
    *) echo "usage: $0 [-n requests] [-c clients] [-P pipeline] [-t tests]" >&2; exit 2 ;;
  esac
done
command -v redis-benchmark >/dev/null || { echo "redis-benchmark not found (apt-get install redis-tools)" >&2; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

cargo build --release -q
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT

EK_PORT=$(free_port)
"${CARGO_TARGET_DIR:-target}/release/emberkv" --port "$EK_PORT" --loglevel warning &
pids+=($!)
RS_PORT=""
if command -v redis-server >/dev/null; then
  RS_PORT=$(free_port)
  redis-server --port "$RS_PORT" --save '' --appendonly no --loglevel warning &
  pids+=($!)
fi
sleep 0.5

bench() { # bench PORT -> "test rps" lines
  redis-benchmark -p "$1" -n "$N" -c "$C" -P "$P" -t "$TESTS" --csv -q 2>/dev/null \
    | tail -n +2 | tr -d '"' | awk -F, '{gsub(/ /, "_", $1); print $1, $2}'
}

echo "redis-benchmark -n $N -c $C -P $P -t $TESTS"
bench "$EK_PORT" > /tmp/emberkv-bench.$$
if [ -n "$RS_PORT" ]; then
  bench "$RS_PORT" > /tmp/redis-bench.$$
  printf '%-28s %14s %14s %8s\n' test emberkv redis ratio
  join <(sort /tmp/emberkv-bench.$$) <(sort /tmp/redis-bench.$$) \
    | awk '{ printf "%-28s %14.0f %14.0f %8.2f\n", $1, $2, $3, ($3 > 0 ? $2 / $3 : 0) }'
  rm -f /tmp/redis-bench.$$
else
  printf '%-28s %14s\n' test emberkv
  awk '{ printf "%-28s %14.0f\n", $1, $2 }' /tmp/emberkv-bench.$$
fi
rm -f /tmp/emberkv-bench.$$
