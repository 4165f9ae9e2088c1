#!/bin/sh
# bench/mam_bench.sh - message archive figures (make bench-mam): build
# MESSAGES archived messages with build/mam_bench (see its header; default
# 10 million over 1000 users plus a 1-million-message archive), then start
# uxmppd on that data directory: its start time (to the port accepting)
# and RSS.  usage: mam_bench.sh [mam_bench options]
# Environment: UXMPPD, SCANSION (for --free-port), MAM_BENCH, TMPDIR.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
UXMPPD=${UXMPPD:-$ROOT/uxmppd}
SCANSION=${SCANSION:-$ROOT/tests/scansion}
MAM_BENCH=${MAM_BENCH:-$ROOT/build/mam_bench}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mam-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/data"
"$MAM_BENCH" "$@" "$tmp/data" || exit 1
echo "   on disk: $(du -sh "$tmp/data/archive" | cut -f1)"
port=$("$SCANSION" --free-port) || { echo "no free port"; exit 1; }
cat >"$tmp/uxmppd.conf" <<EOC
c2s_listen = 127.0.0.1:$port
data_dir = $tmp/data
store_sync = none
log_level = warn
log_file = $tmp/uxmppd.log
archive_expires_days = 0
EOC
t0=$(date +%s%N)
"$UXMPPD" -c "$tmp/uxmppd.conf" >"$tmp/server.out" 2>&1 &
pid=$!
"$SCANSION" --wait-port "127.0.0.1:$port" --wait-pid "$pid" --timeout 30 ||
    { kill $pid; exit 1; }
t1=$(date +%s%N)
rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
echo "5. uxmppd start with the archives on disk: $(( (t1 - t0) / 1000000 )) ms" \
    "to accepting clients, RSS $rss KiB"
kill -TERM $pid
wait $pid
