#!/bin/sh
# tests/control-test.sh - account commands against a running server
# (control.h): adduser, passwd and deluser reach the server through its
# control socket while it holds the store; the new account logs in, the
# old password stops working, a deleted account's session is ended with
# <not-authorized/>, `uxmppd status` reports a held session, the account
# count, the store, RSS and the listener (and exit status 3 with no
# server), `uxmppd --version`, and the same commands still work with the
# server stopped.  Prints PASS/FAIL lines and "N passed, N failed".
TEST_NAME=control
. "$(dirname "$0")/lib.sh"
new_port port

# Can USER log in with PASSWORD?  (a one-action scenario)
login_ok() {
	cat >"$tmp/login.scs" <<EOS
# login

[Client] Someone
	jid: $1@localhost
	password: $2

-----

Someone connects
Someone disconnects
EOS
	"$SCANSION" --connect "127.0.0.1:$port" "$tmp/login.scs" >"$tmp/out" 2>&1
}

cat >"$tmp/conf" <<EOC
c2s_listen = 127.0.0.1:$port
data_dir = $tmp/data
store_sync = always
log_file = $tmp/log
EOC
mkdir -p "$tmp/data"
start_server "$tmp/conf"

echo first | "$UXMPPD" -c "$tmp/conf" adduser alice@localhost >"$tmp/cmd" 2>&1
check $? "adduser-running" "$(cat "$tmp/cmd")"
login_ok alice first
check $? "login-new-account" "$(cat "$tmp/out")"
echo again | "$UXMPPD" -c "$tmp/conf" adduser alice@localhost >"$tmp/cmd" 2>&1
[ $? -ne 0 ] && grep -q "account exists" "$tmp/cmd"
check $? "adduser-exists" "$(cat "$tmp/cmd")"
echo second | "$UXMPPD" -c "$tmp/conf" passwd alice@localhost >"$tmp/cmd" 2>&1
check $? "passwd-running" "$(cat "$tmp/cmd")"
! login_ok alice first
check $? "old-password-refused" "login with the old password worked"
login_ok alice second
check $? "new-password" "$(cat "$tmp/out")"

# A logged-in session of an account deleted meanwhile is ended.
"$PY" - "$port" "$UXMPPD" "$tmp/conf" >"$tmp/out" 2>&1 <<'EOP'
import base64, socket, subprocess, sys, time
port, uxmppd, conf = int(sys.argv[1]), sys.argv[2], sys.argv[3]
h = (b"<stream:stream xmlns='jabber:client' xmlns:stream="
     b"'http://etherx.jabber.org/streams' to='localhost' version='1.0'>")
s = socket.create_connection(("127.0.0.1", port), timeout=5)
auth = base64.b64encode(b"\0alice\0second").decode()
s.sendall(h + ("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism="
          "'PLAIN'>%s</auth>" % auth).encode() + h +
          b"<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:"
          b"xmpp-bind'/></iq>")
data = b""
while b"</jid>" not in data:
    data += s.recv(4096)
subprocess.run([uxmppd, "-c", conf, "deluser", "alice@localhost"], check=True)
end = time.time() + 5
while time.time() < end:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
sys.exit(0 if b"<not-authorized" in data else 1)
EOP
check $? "deluser-ends-session" "$(tail -c 300 "$tmp/out")"
! login_ok alice second
check $? "deleted-account-refused" "login still works"

# uxmppd status, with one logged-in session held open
echo c | "$UXMPPD" -c "$tmp/conf" adduser carol@localhost >/dev/null 2>&1 ||
    fail "status-setup" "adduser carol"
"$PY" - "$port" "$UXMPPD" "$tmp/conf" >"$tmp/status" 2>&1 <<'EOP'
import base64, socket, subprocess, sys
port, uxmppd, conf = int(sys.argv[1]), sys.argv[2], sys.argv[3]
h = (b"<stream:stream xmlns='jabber:client' xmlns:stream="
     b"'http://etherx.jabber.org/streams' to='localhost' version='1.0'>")
s = socket.create_connection(("127.0.0.1", port), timeout=5)
auth = base64.b64encode(b"\0carol\0c").decode()
s.sendall(h + ("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism="
          "'PLAIN'>%s</auth>" % auth).encode() + h +
          b"<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:"
          b"xmpp-bind'/></iq>")
data = b""
while b"</jid>" not in data:
    data += s.recv(4096)
r = subprocess.run([uxmppd, "-c", conf, "status"], capture_output=True)
sys.stdout.write(r.stdout.decode() + r.stderr.decode())
sys.exit(r.returncode)
EOP
check $? "status-runs" "$(cat "$tmp/status")"
grep -q "^version: uxmppd [0-9]" "$tmp/status" &&
    grep -q "^sessions: 1$" "$tmp/status" &&
    grep -q "^connections: 1 (XMPP over TLS 0, plain 1," "$tmp/status" &&
    grep -q "^accounts: 1$" "$tmp/status" &&
    grep -q "^uptime: 0d " "$tmp/status" &&
    grep -q "^store: [1-9][0-9]* bytes in " "$tmp/status" &&
    grep -q "^memory: RSS [1-9][0-9]* KiB$" "$tmp/status" &&
    grep -q "^listener: c2s 127.0.0.1:$port$" "$tmp/status"
check $? "status-values" "$(cat "$tmp/status")"
"$UXMPPD" --version >"$tmp/cmd" 2>&1 &&
    grep -q "^uxmppd [0-9][0-9.]*$" "$tmp/cmd"
check $? "version" "$(cat "$tmp/cmd")"

stop_server
check $? "clean-exit" "server exit status"
"$UXMPPD" -c "$tmp/conf" status >"$tmp/cmd" 2>&1
[ $? -eq 3 ] && grep -q "no server running" "$tmp/cmd"
check $? "status-stopped" "$(cat "$tmp/cmd")"
[ ! -e "$tmp/data/uxmppd.sock" ]
check $? "socket-removed" "control socket left behind"
echo third | "$UXMPPD" -c "$tmp/conf" adduser bob@localhost >"$tmp/cmd" 2>&1 &&
    "$UXMPPD" -c "$tmp/conf" store-dump | grep -q "^account	bob@localhost"
check $? "adduser-stopped" "$(cat "$tmp/cmd")"
finish
