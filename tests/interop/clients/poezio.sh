#!/bin/bash
# tests/interop/clients/poezio.sh - poezio (Debian's poezio, 0.14, on
# slixmpp) as the client under test, typed into through tmux; peer.py is
# the other side.  Every check on poezio's side is a line on its screen
# (tmux capture-pane) with a fresh token; screens are kept as
# build/interop/poezio.STEP.txt, poezio's debug log as poezio.debug.log.
#
# poezio refuses to run as root ("Please do not run poezio as root."), so
# under root it runs as nobody (setpriv) with its own HOME in a temporary
# directory.  Certificate: ca_cert_path is $UXMPPD_CERT (the chain is
# verified against it, hostname included) and `certificate` pins its
# SHA-256 SPKI fingerprint, which poezio compares on every connection.
# Stream management is off by default in poezio: enable_smacks = true.
. "$INTEROP_DIR/peer.sh"
. "$INTEROP_DIR/tmux.sh"
. "$INTEROP_DIR/steps.sh"
# Wide, so that poezio's information panel does not wrap its lines.
TMUX_COLS=400
need_cmds "sh tests/interop/install-apps.sh" poezio tmux openssl
A=$INTEROP_JID_A B=$INTEROP_JID_B PW=$INTEROP_PASSWORD R=$INTEROP_ROOM T=10
NICK=pz
W=pz
tok=z$$
bnick=${B%%@*}
SCREEN_OF=poezio
save_step() { tmux_save "$W" "$1"; }
# input_is TEXT: poezio's input line (the last screen line) ends in TEXT.
input_is() {
	_l=$(tmux_screen "$W" | tail -n 1 | sed 's/ *$//')
	[ "${_l%"$1"}" != "$_l" ]
}
wait_input() {
	for _i in $(seq 50); do input_is "$1" && return 0; sleep 0.1; done
	return 1
}
# type_ TEXT: poezio takes keys that arrive in one read as a paste (a
# paste never opens the command line in the roster tab, and an Enter in
# it is a newline), so: the first key, the rest once it shows, then
# Enter once the whole text shows on the input line.
type_() {
	[ -n "$fail" ] && return 1
	_tm send-keys -t "uxi:$W" -l -- "${1:0:1}"
	wait_input "${1:0:1}" || { fail="input line did not show ${1:0:1}"; return 1; }
	_tm send-keys -t "uxi:$W" -l -- "${1:1}"
	wait_input "$1" || { fail="input line did not show $1"; return 1; }
	_tm send-keys -t "uxi:$W" Enter
}

work=$(mktemp -d "${TMPDIR:-/tmp}/interop-poezio.XXXXXX")
h=$work/home
dbg=$work/debug.log
finish() {
	[ -f "$dbg" ] && cp "$dbg" "$INTEROP_LOG_PREFIX.debug.log"
	tmux_stop
	peer_cleanup
	rm -rf "$work"
}
trap finish EXIT
spki=$(openssl x509 -in "$UXMPPD_CERT" -pubkey -noout |
	openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1 |
	tr 'a-f' 'A-F' | sed 's/../&:/g; s/:$//')
mkdir -p "$h/.config/poezio"
cp "$UXMPPD_CERT" "$h/server-cert.pem"
cat >"$h/.config/poezio/poezio.cfg" <<EOF
[Poezio]
jid = $A/poezio
password = $PW
custom_host = $UXMPPD_HOST
custom_port = $UXMPPD_PORT
force_encryption = true
ca_cert_path = $h/server-cert.pem
certificate = $spki
enable_smacks = true
auto_reconnect = true
enable_carbons = true
EOF
asuser=
if [ "$(id -u)" = 0 ]; then
	chown -R 65534:65534 "$work"
	asuser="setpriv --reuid=65534 --regid=65534 --clear-groups"
fi

if ! peer_start "$B/peer" "$PW" 1; then
	step login FAIL "peer: $PEER_REPLY"
	exit 0
fi
tmux_start "$W" $asuser env -i HOME="$h" TERM=xterm-256color LANG=C.UTF-8 \
    PATH=/usr/bin:/bin XDG_CONFIG_HOME="$h/.config" \
    XDG_DATA_HOME="$h/.local/share" XDG_CACHE_HOME="$h/.cache" \
    poezio -d "$dbg"
see 20 "Your JID is $(re "$A")/[^ ]+" "logged in"
jid_full=$(printf '%s\n' "$TMUX_LINE" | grep -o "$(re "$A")/[^ ]*")
if [ -z "$fail" ] && ! grep -q "RECV: <proceed xmlns=\"urn:ietf:params:xml:ns:xmpp-tls\"" "$dbg"; then
	fail="no STARTTLS in poezio's debug log"
fi
# A pin that did not match would have opened a "Certificate check
# required" tab instead of logging in.
if [ -z "$fail" ] && tmux_wait "$W" 0 "Certificate check required"; then
	fail="poezio rejected the pinned certificate"
fi
result login "STARTTLS, chain checked against the server certificate, SPKI pinned, $jid_full"
[ -n "$jid_full" ] || exit 0

# roster: /add asks B and pre-approves B's request; peer approves and
# asks back.  The contact info window (cursor on B) shows the state.
try P approve-all
type_ "/add $B"
see $T "$(re "$B") accepted your contact proposal" "B accepted"
for i in 1 2 3 4 5 6; do
	[ -n "$fail" ] && break
	tmux_wait "$W" 1 "Subscription: both" &&
	    printf '%s\n' "$TMUX_SCREEN" | grep -q "$(re "$B") (" && break
	_tm send-keys -t "uxi:$W" Down
	[ $i = 6 ] && fail="contact info does not show $B with Subscription: both"
done
result roster "Subscription: both in the contact info"

try P expect-presence "$jid_full" $T
# The roster tab lists a contact with "(N)" only while N > 0 of its
# resources are online.
see $T "\[[+-]\] $(re "$B") \([1-9]" "B online in the roster (resource count)"
result presence

type_ "/message $B out-$tok"
try P expect-message "$A" "out-$tok" $T
see $T "> out-$tok" "own message in the conversation tab"
result msg-out

try P send "$jid_full" "in-$tok"
see $T "$(re "$bnick")> in-$tok" "B's message in the conversation tab"
result msg-in

try P join "$R" peer
type_ "/join $R/$NICK"
see $T "You \($NICK\) joined the room" "room joined"
try P expect-presence "$R/$NICK" $T
result muc-join "peer saw $R/$NICK"

type_ "gc-out-$tok"
try P expect-groupchat "$R" "$NICK" "gc-out-$tok" $T
result groupchat-out

try P groupchat "$R" "gc-in-$tok"
see $T "peer> gc-in-$tok" "peer's groupchat message in the room tab"
result groupchat-in

# /query NICK TEXT in the room tab opens a private tab and sends.  poezio
# 0.14 puts from='ROOM/OWN_NICK' on the private messages it sends
# (PrivateTab.command_say); a server that closes the stream over that
# (invalid-from) loses the message and poezio reconnects.
try P pm "$R" "$NICK" "pm-in-$tok"
type_ "/query peer pm-out-$tok"
try P expect-pm "$R" "$NICK" "pm-out-$tok" $T
sent=$(grep -o "SEND: <message [^>]*from=\"$(re "$R")/[^\"]*\"[^>]*>.*pm-out-$tok" "$dbg" | grep -o 'from="[^"]*"')
if [ -n "$fail" ] && [ -n "$sent" ]; then
	fail="$fail (poezio sent it with $sent; "
	if grep -q 'invalid-from' "$dbg"; then
		fail="${fail}the server closed the stream with invalid-from)"
	else
		fail="${fail}no answer)"
	fi
fi
see $T "peer> pm-in-$tok" "peer's private message in the private tab"
result muc-pm

# carbons: the peer writes to another resource of A (A/r2, a second
# peer.py); the copy must show in poezio's conversation tab with B.
grep -q 'SEND: <iq [^>]*><enable xmlns="urn:xmpp:carbons:2"' "$dbg" ||
	grep -q '<enable xmlns="urn:xmpp:carbons:2" />' "$dbg" ||
	fail="poezio did not enable carbons"
if [ -z "$fail" ] && ! peer_start "$A/r2" "$PW" 3; then
	fail="second resource: $PEER_REPLY"
fi
type_ "/message $B"
try P send "$A/r2" "carbon-$tok"
try peer_cmd 3 expect-message "$B" "carbon-$tok" $T
see $T "$(re "$bnick")> carbon-$tok" "carbon copy in the conversation tab"
if [ -z "$fail" ] && ! grep -q "<received xmlns=\"urn:xmpp:carbons:2\".*carbon-$tok" "$dbg"; then
	fail="message shown but not received as a carbon"
fi
peer_stop 3
result carbons "received carbon of a message to $A/r2"

# sm-resume: kill poezio's TCP connection (ss -K), the peer writes while
# it is away, poezio (slixmpp) reconnects with <resume/>.
grep -q 'SEND: <enable xmlns="urn:xmpp:sm:3" resume="true"' "$dbg" ||
	fail="poezio did not enable stream management with resumption"
ppid=$(pgrep -n -f "poezio -d $dbg" 2>/dev/null)
sport=
[ -n "$ppid" ] && sport=$(ss -tnpH state established "dst $UXMPPD_HOST:$UXMPPD_PORT" 2>/dev/null |
	grep "pid=$ppid," | awk '{print $3}' | sed 's/.*://' | head -n 1)
[ -z "$fail" ] && [ -z "$sport" ] && fail="poezio's TCP connection not found (ss)"
if [ -z "$fail" ]; then
	nres=$(grep -c 'RECV: <resumed ' "$dbg")
	ss -K -tn "dst $UXMPPD_HOST:$UXMPPD_PORT" "sport = :$sport" >/dev/null 2>&1
	for i in $(seq 50); do
		grep -q 'Event triggered: disconnected' "$dbg" && break
		sleep 0.1
	done
fi
try P send "$jid_full" "cut-$tok"
see 20 "$(re "$bnick")> cut-$tok" "message sent while cut"
if [ -z "$fail" ]; then
	lr=$(grep -n 'RECV: <resumed ' "$dbg" | tail -n 1 | cut -d: -f1)
	lm=$(grep -n "RECV: <message.*cut-$tok" "$dbg" | tail -n 1 | cut -d: -f1)
	if [ "$(grep -c 'RECV: <resumed ' "$dbg")" -le "$nres" ]; then
		fail="reconnected without <resumed/> (fresh session)"
	elif [ -z "$lm" ] || [ "$lm" -lt "$lr" ]; then
		fail="message not redelivered after <resumed/>"
	fi
fi
result sm-resume "<resume/> answered <resumed/>, message sent while cut delivered"

step direct-tls n/a "poezio 0.14 has no direct TLS (XEP-0368): Connection.start() connects custom_host/port with STARTTLS only"

type_ "/win 2"
see 5 "You \($NICK\) joined the room" "room tab"
type_ "/part"
try P expect-unavailable "$R/$NICK" $T
type_ "/quit"
try P expect-unavailable "$jid_full" $T
for i in $(seq 50); do tmux_alive "$W" || break; sleep 0.1; done
tmux_alive "$W" && [ -z "$fail" ] && fail="poezio still running after /quit"
result leave "/part, /quit: peer saw both"
