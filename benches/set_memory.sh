#!/bin/bash
# RSS after 100 000 sets of 10 small integers: emberkv (release) against redis-server.
#   cargo build --release && benches/set_memory.sh [redis-port] [emberkv-port]
# Needs redis-server, redis-cli and python3. Results are recorded in benches/set.rs.
set -e
RP=${1:-27112}
EP=${2:-7312}
BIN=${CARGO_TARGET_DIR:-target}/release/emberkv
DIR=$(mktemp -d)
python3 - "$DIR/load.resp" <<'PY'
import sys
with open(sys.argv[1], "wb") as out:
    for n in range(100000):
        args = [b"SADD", b"set:%d" % n] + [b"%d" % ((n * 7 + j * 13) % 1000) for j in range(10)]
        out.write(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
PY
redis-server --port "$RP" --save '' --appendonly no --daemonize yes --pidfile "$DIR/redis.pid"
"$BIN" --port "$EP" --save '' > "$DIR/emberkv.log" 2>&1 &
EPID=$!
sleep 1
RPID=$(cat "$DIR/redis.pid")
for p in "$RP" "$EP"; do redis-cli -p "$p" --pipe < "$DIR/load.resp" > /dev/null; done
sleep 1
for x in "redis-server $RP $RPID" "emberkv $EP $EPID"; do
  set -- $x
  used=$(redis-cli -p "$2" info memory | grep '^used_memory:' | cut -d: -f2 | tr -d '\r')
  echo "$1: $(grep VmRSS /proc/$3/status | tr -s ' \t' ' '), used_memory $used, $(redis-cli -p "$2" dbsize) keys, $(redis-cli -p "$2" object encoding set:5)"
done
kill "$RPID" "$EPID"
rm -rf "$DIR"
