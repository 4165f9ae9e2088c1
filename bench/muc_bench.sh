#!/bin/sh
# bench/muc_bench.sh - run bench/muc_bench against a fresh uxmppd on a free
# loopback port (temporary data dir, accounts b0..bN, no fsync).
#   usage: bench/muc_bench.sh [-w] [OCCUPANTS...]  (default 10 100 1000)
#   -w: every client over WebSocket (RFC 7395) on an http_listen port
# Environment: UXMPPD (server, default ./uxmppd), MUC_BENCH (the client,
# default build/muc_bench), SCANSION (for --free-port/--wait-port).
set -u
LOGLEVEL=${LOGLEVEL:-warn}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
UXMPPD=${UXMPPD:-$ROOT/uxmppd}
MUC_BENCH=${MUC_BENCH:-$ROOT/build/muc_bench}
SCANSION=${SCANSION:-$ROOT/tests/scansion}
ws=
if [ "${1:-}" = -w ]; then
	ws=-w
	shift
fi
tmp=$(mktemp -d /tmp/muc-bench.XXXXXX)
port=$("$SCANSION" --free-port) || { echo "no free port"; exit 1; }
hport=$("$SCANSION" --free-port) || { echo "no free port"; exit 1; }
cat >"$tmp/uxmppd.conf" <<EOC
domain = localhost
muc_domain = conference.localhost
c2s_listen = 127.0.0.1:$port
http_listen = 127.0.0.1:$hport
data_dir = $tmp/data
store_sync = none
log_level = ${LOGLEVEL}
log_file = $tmp/uxmppd.log
EOC
mkdir -p "$tmp/data"
max=1000
for n in "$@"; do [ "$n" -gt "$max" ] && max=$n; done
[ $# -gt 0 ] && { max=0; for n in "$@"; do [ "$n" -gt "$max" ] && max=$n; done; }
i=0
while [ $i -lt $max ]; do
	echo bench | "$UXMPPD" -c "$tmp/uxmppd.conf" adduser "b$i@localhost" >/dev/null || exit 1
	i=$((i + 1))
done
"$UXMPPD" -c "$tmp/uxmppd.conf" >"$tmp/server.out" 2>&1 &
pid=$!
"$SCANSION" --wait-port "127.0.0.1:$port" --wait-pid "$pid" --timeout 10 || { kill $pid; exit 1; }
ulimit -n 4096 2>/dev/null
"$SCANSION" --wait-port "127.0.0.1:$hport" --wait-pid "$pid" --timeout 10 || { kill $pid; exit 1; }
[ -n "$ws" ] && cport=$hport || cport=$port
SERVER_PID=$pid "$MUC_BENCH" 127.0.0.1 "$cport" b bench $ws "$@"
rc=$?
echo "server RSS after the run: $(grep VmRSS /proc/$pid/status | tr -s ' ' | cut -d' ' -f2-)"
kill -TERM $pid
wait $pid
[ -n "${KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
exit $rc
