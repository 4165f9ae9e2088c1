#!/bin/sh
# tests/shutdown-test.sh - signals.  SIGHUP reloads the configuration and
# reopens the log file.  SIGTERM with clients connected: each gets
# <system-shutdown/> and </stream:stream>; an occupant of a room is first
# told it left with status 332 (XEP-0045, service shut down); a change
# acknowledged just before is in the store afterwards; the exit status is
# 0.  Also: IPv4 and IPv6 listeners on one port.  Prints PASS/FAIL lines
# and "N passed, N failed".
TEST_NAME=shutdown
. "$(dirname "$0")/lib.sh"
new_port port

cat >"$tmp/conf" <<EOC
c2s_listen = 127.0.0.1:$port
data_dir = $tmp/data
store_sync = always
log_file = $tmp/log
EOC
mkdir -p "$tmp/data"
for u in romeo juliet; do
	echo password | "$UXMPPD" -c "$tmp/conf" adduser "$u@localhost" >/dev/null
done
start_server "$tmp/conf"

# SIGHUP: the configuration is read again and the log file reopened (log
# rotation: the old file was moved away).
mv "$tmp/log" "$tmp/log.1"
kill -HUP "$srv_pid"
n=0
while [ ! -s "$tmp/log" ] && [ "$n" -lt 50 ]; do
	sleep 0.1
	n=$((n + 1))
done
grep -q "configuration reloaded" "$tmp/log" 2>/dev/null
check $? "sighup-reopens-log" "no 'configuration reloaded' in a new log file"

# Two clients: romeo joins a room, juliet only logs in and sets a roster
# item (acknowledged); then the server gets SIGTERM.
"$PY" - "$port" "$srv_pid" >"$tmp/out" 2>&1 <<'EOP'
import base64, os, signal, socket, sys, time
port, pid = int(sys.argv[1]), int(sys.argv[2])
H = (b"<stream:stream xmlns='jabber:client' xmlns:stream="
     b"'http://etherx.jabber.org/streams' to='localhost' version='1.0'>")
def login(user):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    a = base64.b64encode(b"\0" + user + b"\0password")
    s.sendall(H + b"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
              b"mechanism='PLAIN'>" + a + b"</auth>" + H +
              b"<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:"
              b"xmpp-bind'/></iq>")
    return s
def until(s, marker, data=b""):
    end = time.time() + 5
    while marker not in data and time.time() < end:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    return data
romeo, juliet = login(b"romeo"), login(b"juliet")
until(romeo, b"</jid>"); until(juliet, b"</jid>")
romeo.sendall(b"<presence to='hall@conference.localhost/Romeo'>"
              b"<x xmlns='http://jabber.org/protocol/muc'/></presence>")
until(romeo, b"<subject")
juliet.sendall(b"<iq type='set' id='r1'><query xmlns='jabber:iq:roster'>"
               b"<item jid='romeo@localhost' name='R'/></query></iq>")
until(juliet, b"id='r1'")
os.kill(pid, signal.SIGTERM)
r = until(romeo, b"</stream:stream>")
j = until(juliet, b"</stream:stream>")
ok = True
for name, data in (("romeo", r), ("juliet", j)):
    if b"<system-shutdown" not in data or not data.rstrip().endswith(b"</stream:stream>"):
        print("%s: no system-shutdown/stream close: %r" % (name, data[-300:]))
        ok = False
if b"code='332'" not in r and b'code="332"' not in r:
    print("romeo: no status 332: %r" % r[-400:])
    ok = False
sys.exit(0 if ok else 1)
EOP
check $? "clients-told" "$(tail -c 400 "$tmp/out")"
wait "$srv_pid"
rc=$?
srv_pid=
check $rc "exit-status" "exit status $rc"
"$UXMPPD" -c "$tmp/conf" store-dump | grep -q "^roster	juliet@localhost romeo@localhost"
check $? "store-flushed" "the acknowledged roster item is not in the store"
[ ! -e "$tmp/data/uxmppd.sock" ]
check $? "socket-removed" "the control socket is still there"
"$UXMPPD" -c "$tmp/conf" store-compact >"$tmp/cmd" 2>&1
check $? "lock-released" "$(cat "$tmp/cmd")"
# Listeners for both families on one port ([::] is IPv6 only, beside
# 0.0.0.0), as the README's deployment example has them.
if [ -e /proc/net/if_inet6 ]; then
	new_port p2
	cat >"$tmp/conf2" <<EOC
c2s_listen = 0.0.0.0:$p2
c2s_listen = [::]:$p2
data_dir = $tmp/data2
log_file = $tmp/log2
EOC
	mkdir -p "$tmp/data2"
	"$UXMPPD" -c "$tmp/conf2" >"$tmp/stderr2" 2>&1 &
	srv_pid=$!
	"$SCANSION" --wait-port "127.0.0.1:$p2" --wait-pid "$srv_pid" \
	    --timeout 10 >/dev/null 2>&1 &&
	    grep -q "listening for clients on \[::\]:$p2" "$tmp/log2"
	check $? "ipv4-and-ipv6-listeners" "$(tail -n 2 "$tmp/log2" "$tmp/stderr2")"
	stop_server
	check $? "ipv4-and-ipv6-exit" "exit status"
fi
finish
