#!/bin/sh
# bench/idle_bench.sh - what an idle authenticated client costs: a fresh
# uxmppd on a free loopback port, N clients logged in and bound (default
# 10000), the server's RSS before and after.
#   usage: idle_bench.sh [N] [-d] [-w]
# -d: as users' clients do, each of the N its own account (u0.. made here
# first, a few ms each), roster fetched and initial presence sent.
# -w: every client over WebSocket (RFC 7395) on an http_listen port.
# Environment: UXMPPD, SCANSION (for --free-port), IDLE_BENCH (the client).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
UXMPPD=${UXMPPD:-$ROOT/uxmppd}
SCANSION=${SCANSION:-$ROOT/tests/scansion}
IDLE_BENCH=${IDLE_BENCH:-$ROOT/build/idle_bench}
n=${1:-10000}
[ $# -gt 0 ] && shift
distinct=
ws=
for a in "$@"; do
	case $a in
	-d) distinct=-d ;;
	-w) ws=-w ;;
	*) echo "usage: idle_bench.sh [N] [-d] [-w]"; exit 2 ;;
	esac
done
tmp=$(mktemp -d /tmp/idle-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
port=$("$SCANSION" --free-port) || { echo "no free port"; exit 1; }
hport=$("$SCANSION" --free-port) || { echo "no free port"; exit 1; }
cat >"$tmp/uxmppd.conf" <<EOC
c2s_listen = 127.0.0.1:$port
http_listen = 127.0.0.1:$hport
data_dir = $tmp/data
store_sync = none
log_level = warn
log_file = $tmp/uxmppd.log
EOC
mkdir -p "$tmp/data"
if [ "$distinct" = -d ]; then
	i=0
	while [ $i -lt "$n" ]; do
		echo bench | "$UXMPPD" -c "$tmp/uxmppd.conf" adduser "u$i@localhost" >/dev/null || exit 1
		i=$((i + 1))
	done
	user=u
else
	echo bench | "$UXMPPD" -c "$tmp/uxmppd.conf" adduser bench@localhost >/dev/null || exit 1
	user=bench
fi
ulimit -n 20000 2>/dev/null || ulimit -n 4096
"$UXMPPD" -c "$tmp/uxmppd.conf" >"$tmp/server.out" 2>&1 &
pid=$!
"$SCANSION" --wait-port "127.0.0.1:$port" --wait-pid "$pid" --timeout 10 || { kill $pid; exit 1; }
[ -n "$ws" ] && cport=$hport || cport=$port
"$SCANSION" --wait-port "127.0.0.1:$hport" --wait-pid "$pid" --timeout 10 || { kill $pid; exit 1; }
"$IDLE_BENCH" 127.0.0.1 "$cport" "$user" bench "$pid" "$n" $distinct $ws
rc=$?
kill -TERM $pid
wait $pid
exit $rc
