#!/bin/sh
# tests/http-test.sh - the HTTP listener and XMPP over WebSocket against a
# real uxmppd over real sockets (tests/http-probe.py, one case each):
# 404, 405 with Allow, HEAD without a body, pipelined and chunked requests
# on one keep-alive connection, 400/413/414/431 with the close after
# them, a slow head answered 408 and closed (slowloris); the WebSocket
# handshake (accept value, subprotocol, version, origin check), a
# WebSocket session (RFC 7395 <open/>, SASL, the new <open/>, bind)
# exchanging messages with a TCP client, ping/pong, fragmentation,
# <close/> and the closing handshake, bad frames closed with 1002 and
# 1009, a wrong <open/> namespace; XEP-0156 host-meta and host-meta.json
# naming the endpoint; /metrics (http_metrics = loopback) in the
# Prometheus text format, its session, connection and stanza counts
# following two clients exchanging messages.  Prints PASS/FAIL lines and
# "N passed, N failed".
TEST_NAME=http
. "$(dirname "$0")/lib.sh"
new_port port
new_port hport
[ "$hport" != "$port" ] || new_port hport

cat >"$tmp/conf" <<EOC
c2s_listen = 127.0.0.1:$port
http_listen = 127.0.0.1:$hport
data_dir = $tmp/data
store_sync = always
log_level = debug
log_file = $tmp/log
http_header_timeout_s = 2
http_max_body_bytes = 4096
http_metrics = loopback
max_stanza_bytes = 65536
EOC
mkdir -p "$tmp/data"
for u in romeo juliet; do
	echo password | "$UXMPPD" -c "$tmp/conf" adduser "$u@localhost" >/dev/null
done
start_server "$tmp/conf"
"$SCANSION" --wait-port "127.0.0.1:$hport" --wait-pid "$srv_pid" --timeout 10 ||
    abort "no HTTP listener on $hport"

for c in not-found method head pipelined bad-request uri-too-long \
    header-too-large body-too-large slowloris ws-no-protocol ws-origin \
    ws-session ws-bad-frames ws-bad-open host-meta metrics; do
	out=$("$PY" "$ROOT/tests/http-probe.py" "$hport" "$port" "$c" 2>&1)
	check $? "$c" "$out"
done

stop_server
rc=$?
check $rc "clean-exit" "exit status $rc"
finish
