#!/bin/bash
# tests/interop/clients/dino.sh - Dino (Debian's dino-im, 0.4) under Xvfb
# as the client under test; run by `make interop-desktop`, not by CI.
#
# Profile: Dino creates dino.db at its first start (a first run we let it
# do, then stop); we add the account row (bare_jid, resourcepart "dino",
# password, enabled) with sqlite3, so no account wizard.  Dino 0.4 has no
# host/port setting: it connects to the domain's SRV records or to
# localhost:5222, so desktop/tcp-forward.py forwards 127.0.0.1:5222 to
# $UXMPPD_PORT (the step fails if 5222 is taken).  Certificate: Dino
# trusts only the system CAs (it waives an unknown CA for .onion domains
# alone), so Dino runs in a private mount namespace (unshare -m) where
# /etc/ssl/certs/ca-certificates.crt is bind-mounted over by a copy with
# $UXMPPD_CERT appended: the machine's own store is untouched.  Like
# Gajim it runs as nobody under root, with its own D-Bus session bus and
# an Xvfb display with no window manager (focus follows the pointer).
# Checks: the peer's answers, Dino's message store (dino.db) and
# screenshots kept as build/interop/dino.STEP.png.
if [ "${INTEROP_DESKTOP:-}" != 1 ]; then
	echo "skip desktop client: run by make interop-desktop (INTEROP_DESKTOP=1)"
	exit 0
fi
. "$INTEROP_DIR/peer.sh"
. "$INTEROP_DIR/steps.sh"
need_cmds "sh tests/interop/install-apps.sh desktop" dino-im Xvfb xdotool \
    import sqlite3 dbus-daemon unshare
A=$INTEROP_JID_A B=$INTEROP_JID_B PW=$INTEROP_PASSWORD R=$INTEROP_ROOM T=15
tok=g$$
APP=dino INPUT_X=700 INPUT_Y=662
. "$INTEROP_DIR/desktop/session.sh"
desktop_x
desktop_bus
db=$h/.local/share/dino/dino.db
# db_has DIRECTION TEXT T: Dino's store has a message with TEXT
# (DIRECTION 0 received, 1 sent).
db_has() {
	for _i in $(seq $(($3 * 10))); do
		[ "$(sqlite3 "file:$db?mode=ro" \
		    "select count(*) from message where direction=$1 and body='$2'" 2>/dev/null)" -ge 1 ] &&
		    return 0
		sleep 0.1
	done
	return 1
}

# First run: Dino creates its database; then it is stopped.
run_dino() {
	unshare -m sh -c 'mount --bind "$1" /etc/ssl/certs/ca-certificates.crt && shift && exec "$@"' \
	    sh "$work/ca-bundle.pem" $asuser "${GENV[@]}" dino-im >>"$work/dino.log" 2>&1 &
	gpid=$!
}
cat /etc/ssl/certs/ca-certificates.crt "$UXMPPD_CERT" >"$work/ca-bundle.pem"
run_dino
for i in $(seq 100); do
	[ -s "$db" ] && sqlite3 "file:$db?mode=ro" 'select 1 from account limit 1' >/dev/null 2>&1 && break
	sleep 0.1
done
wait_window Dino 10
kill "$gpid" 2>/dev/null
wait "$gpid" 2>/dev/null
gpid=
if ! sqlite3 "$db" "insert into account(bare_jid, resourcepart, password, alias, enabled) values('$A', 'dino', '$PW', '${A%%@*}', 1)" 2>"$work/sql.err"; then
	step login FAIL "could not seed dino.db: $(cat "$work/sql.err")"
	exit 0
fi
/usr/bin/python3 "$INTEROP_DIR/desktop/tcp-forward.py" 5222 "$UXMPPD_PORT" >"$work/fwd.out" 2>&1 &
fpid=$!
for i in $(seq 50); do [ -s "$work/fwd.out" ] && break; sleep 0.1; done
if ! grep -q listening "$work/fwd.out"; then
	step login FAIL "cannot forward 127.0.0.1:5222 (Dino's only port): $(cat "$work/fwd.out")"
	exit 0
fi

if ! peer_start "$B/peer" "$PW" 1; then
	step login FAIL "peer: $PEER_REPLY"
	exit 0
fi
if ! peer_start "$A/r2" "$PW" 3; then
	step login FAIL "peer as $A/r2: $PEER_REPLY"
	exit 0
fi
run_dino
try peer_cmd 3 expect-presence "$A/dino" 40
wait_window Dino 10 || [ -n "$fail" ] || fail="no Dino window"
sleep 1
result login "STARTTLS via localhost:5222; server certificate in a private CA bundle; $A/r2 saw $A/dino online"
# roster: the account's other resource (A/r2) and the peer subscribe to
# each other (both approve); Dino gets the roster push and must store the
# peer with subscription both in dino.db (table roster).
try peer_cmd 3 subscribe "$B"
try P approve-all
try peer_cmd 3 approve-all
try peer_cmd 3 expect-subscribed "$B" $T
try P expect-subscribed "$A" $T
sub=
for _i in $(seq 100); do
	sub=$(sqlite3 "file:$db?mode=ro" "select subscription from roster where jid='$B'" 2>/dev/null)
	[ "$sub" = both ] && break
	sleep 0.1
done
[ "$sub" = both ] || [ -n "$fail" ] || fail="dino.db roster: '$B' subscription '${sub:-none}'"
result roster "dino.db roster: $B subscription both, after $A/r2 and $B approved each other"
# presence: Dino keeps no presence log or store; what is checked is the
# app's presence reaching the now subscribed peer (not only its own
# resource, as in login).
try P expect-presence "$A/dino" $T
result presence "$B saw $A/dino's presence through the subscription (Dino stores no received presence)"

# The message from the peer comes first: it opens the conversation that
# the message from Dino is then typed into.
try P send "$A/dino" "in-$tok"
db_has 0 "in-$tok" $T || [ -n "$fail" ] || fail="not in Dino's store (dino.db)"
sleep 1
shot msg-in
in_fail=$fail
fail=
[ -n "$in_fail" ] && fail="no conversation to type into ($in_fail)"
[ -z "$fail" ] && type_in "out-$tok"
try P expect-message "$A" "out-$tok" $T
db_has 1 "out-$tok" 5 || [ -n "$fail" ] || fail="sent but not in Dino's store"
result msg-out "typed with xdotool into the conversation with $B"
fail=$in_fail
if [ -z "$fail" ]; then step msg-in ok "in Dino's store and on screen (dino.msg-in.png)"; else step msg-in FAIL "$fail"; fi
fail=
# The room: `dino-im xmpp:ROOM?join` (handed to the running instance)
# opens the Join Channel dialog with the address filled in; the nick
# field and the Join button are at fixed places (no window manager).
NICK=dinonick
try P join "$R" peer
if [ -z "$fail" ]; then
	$asuser "${GENV[@]}" dino-im "xmpp:$R?join" >>"$work/dino-uri.log" 2>&1 &
	wait_window "Join Channel" 10 || sleep 3
	sleep 1
	xdotool mousemove 218 171 click 1
	sleep 0.3
	xdotool type --delay 15 "$NICK"
	sleep 0.3
	xdotool mousemove 320 27 click 1
fi
try P expect-presence "$R/$NICK" $T
sleep 1
result muc-join "peer saw $R/$NICK"

[ -z "$fail" ] && type_in "gc-out-$tok"
try P expect-groupchat "$R" "$NICK" "gc-out-$tok" $T
result groupchat-out

try P groupchat "$R" "gc-in-$tok"
db_has 0 "gc-in-$tok" $T || [ -n "$fail" ] || fail="not in Dino's store (dino.db)"
sleep 0.5
result groupchat-in "in Dino's store and on screen (dino.groupchat-in.png)"

# muc-pm: Dino 0.4 has private conversations in rooms (GROUPCHAT_PM):
# the peer's private message must land in dino.db; it opens the private
# conversation ("peer from ROOM"), which the answer is typed into: the top
# row, as the newest (Dino sorts by time in whole seconds, so the pm is
# sent a second after the room's last message; a wrong row would send a
# groupchat message, which expect-pm does not take).
sleep 1.2
try P pm "$R" "$NICK" "pm-in-$tok"
db_has 0 "pm-in-$tok" $T || [ -n "$fail" ] || fail="private message from $R/peer not in dino.db"
sleep 1
shot muc-pm-in
if [ -z "$fail" ]; then
	xdotool mousemove 150 80 click 1
	sleep 1
	type_in "pm-out-$tok"
fi
try P expect-pm "$R" "$NICK" "pm-out-$tok" $T
db_has 1 "pm-out-$tok" 5 || [ -n "$fail" ] || fail="sent but not in Dino's store"
result muc-pm "pm from $R/peer in dino.db; answer typed in the private conversation reached the peer from $R/$NICK"

# carbons: the peer writes to the account's other resource (A/r2); the
# app gets the message only as a carbon copy, and must store it.
try P send "$A/r2" "carbon-$tok"
try peer_cmd 3 expect-message "$B" "carbon-$tok" $T
db_has 0 "carbon-$tok" $T || [ -n "$fail" ] || fail="carbon copy not in the app's message store"
sleep 0.5
result carbons "a message to $A/r2 reached the app's store"

# sm-resume: kill Dino's TCP connection (to the forwarder: ss -K; the
# forwarder then closes its side to the server without </stream>), the
# peer writes meanwhile; Dino reconnects by itself and must resume.  Dino
# keeps no protocol log, so the evidence of <resume/> is the server's
# log line for this resource; the message must reach dino.db.
srvlog=$INTEROP_ARTIFACTS/uxmppd.log
nres=$(grep -c "resumed jid=$A/dino\$" "$srvlog" 2>/dev/null)
sport=$(ss -tnpH state established "dst 127.0.0.1:5222" 2>/dev/null |
	grep '"dino-im"' | awk '{print $3}' | sed 's/.*://' | head -n 1)
[ -z "$sport" ] && fail="Dino's TCP connection not found (ss)"
[ -z "$fail" ] && ss -K -tn "dst 127.0.0.1:5222" "sport = :$sport" >/dev/null 2>&1
try P send "$A/dino" "cut-$tok"
db_has 0 "cut-$tok" 60 || [ -n "$fail" ] || fail="message sent while cut not in Dino's store"
if [ -z "$fail" ] && [ "$(grep -c "resumed jid=$A/dino\$" "$srvlog")" -le "$nres" ]; then
	fail="reconnected without resuming (server log: no resumed jid=$A/dino)"
fi
result sm-resume "connection killed, resumed (server log), message sent meanwhile stored"
step direct-tls n/a "Dino 0.4 has no host/port/TLS-mode setting: direct TLS only from _xmpps-client._tcp SRV records of the domain (no DNS of ours in the test; a forwarder on 5223 is never tried)"

# leave: the app's own "quit" action (its Quit menu item), activated over
# its D-Bus session bus; the peer must see it leave the room and the other
# resource of the account must see it go offline.
$asuser "${GENV[@]}" gdbus call --session --dest im.dino.Dino --object-path /im/dino/Dino \
    --method org.gtk.Actions.Activate quit '[]' '{}' >"$work/quit.log" 2>&1 ||
	fail="quit action: $(head -c 200 "$work/quit.log")"
try P expect-unavailable "$R/$NICK" $T
try peer_cmd 3 expect-unavailable "$A/dino" $T
for i in $(seq 50); do kill -0 "$gpid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$gpid" 2>/dev/null && [ -z "$fail" ] && fail="still running after quit"
[ -z "$fail" ] && gpid=
result leave "quit action: peer saw it leave the room, $A/r2 saw it go offline"
