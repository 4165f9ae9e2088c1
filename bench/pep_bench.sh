#!/bin/sh
# bench/pep_bench.sh - run bench/pep_bench against a fresh uxmppd on a free
# loopback port (temporary data dir, accounts p0..pN, no fsync).
#   usage: bench/pep_bench.sh [CONTACTS...] [-n NODES]   (default 100 1000 -n 10000;
#   CONTACTS 0: the node phase alone)
# Environment: UXMPPD (server, default ./uxmppd), PEP_BENCH (the client,
# default build/pep_bench), SCANSION (for --free-port/--wait-port);
# SERVER=prosody runs the same workload on Prosody (0.12, Debian's
# prosody package) instead: modules roster, saslauth, disco, pep,
# plain-text accounts written as files, everything else in memory, no TLS.
set -u
LOGLEVEL=${LOGLEVEL:-warn}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
UXMPPD=${UXMPPD:-$ROOT/uxmppd}
PEP_BENCH=${PEP_BENCH:-$ROOT/build/pep_bench}
SCANSION=${SCANSION:-$ROOT/tests/scansion}
tmp=$(mktemp -d /tmp/pep-bench.XXXXXX)
port=$("$SCANSION" --free-port) || { echo "no free port"; exit 1; }
cat >"$tmp/uxmppd.conf" <<EOC
domain = localhost
c2s_listen = 127.0.0.1:$port
data_dir = $tmp/data
store_sync = none
log_level = ${LOGLEVEL}
log_file = $tmp/uxmppd.log
EOC
mkdir -p "$tmp/data"
# accounts: every round takes CONTACTS + 1, the node phase NODES/100 + 1
args="$*"
need=0 sizes=0 nodes=10000
while [ $# -gt 0 ]; do
	if [ "$1" = -n ]; then nodes=$2; shift; else need=$((need + $1 + 1)); sizes=1; fi
	shift
done
[ $sizes -eq 0 ] && need=$((101 + 1001))
[ "$nodes" -gt 0 ] && need=$((need + (nodes + 99) / 100 + 1))
if [ "${SERVER:-uxmppd}" = prosody ]; then
	mkdir -p "$tmp/data/localhost/accounts"
	i=0
	while [ $i -lt $need ]; do
		echo 'return { ["password"] = "bench"; };' >"$tmp/data/localhost/accounts/p$i.dat"
		i=$((i + 1))
	done
	cat >"$tmp/prosody.cfg.lua" <<EOC
daemonize = false
run_as_root = true
pidfile = "$tmp/prosody.pid"
data_path = "$tmp/data"
c2s_ports = { $port }
c2s_interfaces = { "127.0.0.1" }
s2s_ports = { }
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
authentication = "internal_plain"
default_storage = "memory"
storage = { accounts = "internal" }
modules_enabled = { "roster"; "saslauth"; "disco"; "pep" }
log = { ${LOGLEVEL} = "$tmp/prosody.log" }
VirtualHost "localhost"
EOC
	ulimit -n 8192 2>/dev/null
	prosody --config "$tmp/prosody.cfg.lua" >"$tmp/server.out" 2>&1 &
	pid=$!
else
	i=0
	while [ $i -lt $need ]; do
		echo bench | "$UXMPPD" -c "$tmp/uxmppd.conf" adduser "p$i@localhost" >/dev/null || exit 1
		i=$((i + 1))
	done
	"$UXMPPD" -c "$tmp/uxmppd.conf" >"$tmp/server.out" 2>&1 &
	pid=$!
fi
"$SCANSION" --wait-port "127.0.0.1:$port" --wait-pid "$pid" --timeout 10 || { kill $pid; exit 1; }
ulimit -n 8192 2>/dev/null
SERVER_PID=$pid "$PEP_BENCH" 127.0.0.1 "$port" p bench $args
rc=$?
echo "server RSS after the run: $(grep VmRSS /proc/$pid/status | tr -s ' ' | cut -d' ' -f2-)"
kill -TERM $pid
wait $pid
[ -n "${KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
exit $rc
