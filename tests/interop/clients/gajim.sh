#!/bin/bash
# tests/interop/clients/gajim.sh - Gajim (Debian's gajim, 1.7) under Xvfb
# as the client under test; run by `make interop-desktop`, not by CI.
#
# Profile: a fresh HOME with settings.sqlite written by
# desktop/gajim-seed.py (Gajim's own Settings class: one active account,
# custom host/port, STARTTLS, password in the settings, no keyring), so
# no account wizard.  Certificate: Gajim keeps the certificates a user
# accepted in its "Trust" dialog as PEM files in
# ~/.local/share/gajim/cert_store/; we put $UXMPPD_CERT there (Gajim then
# accepts exactly that certificate for the UNKNOWN_CA error; a hostname
# mismatch or expiry would still fail).  Gajim refuses to run as root:
# under root it runs as nobody.  It gets its own D-Bus session bus (Gajim
# is a single-instance GApplication: `gajim xmpp:URI` hands the URI to the
# running one) and an Xvfb display with no window manager; keyboard focus
# follows the pointer, so xdotool moves the pointer over the widget it
# types into.  Checks: the peer's answers, Gajim's message archive
# (logs.db) and screenshots kept as build/interop/gajim.STEP.png.
if [ "${INTEROP_DESKTOP:-}" != 1 ]; then
	echo "skip desktop client: run by make interop-desktop (INTEROP_DESKTOP=1)"
	exit 0
fi
. "$INTEROP_DIR/peer.sh"
. "$INTEROP_DIR/steps.sh"
need_cmds "sh tests/interop/install-apps.sh desktop" gajim Xvfb xdotool \
    import sqlite3 dbus-daemon
A=$INTEROP_JID_A B=$INTEROP_JID_B PW=$INTEROP_PASSWORD R=$INTEROP_ROOM T=15
NICK=${A%%@*}	# Gajim's default nick: the account's localpart
tok=g$$
APP=gajim INPUT_X=680 INPUT_Y=476
. "$INTEROP_DIR/desktop/session.sh"
desktop_x
"${GENV[@]}" /usr/bin/python3 "$INTEROP_DIR/desktop/gajim-seed.py" uxi "$A" \
    "$PW" "$UXMPPD_HOST" "$UXMPPD_PORT" >"$work/seed.log" 2>&1
cp "$UXMPPD_CERT" "$h/.local/share/gajim/cert_store/uxmppd.pem"
desktop_bus
gajim_uri() { $asuser "${GENV[@]}" gajim "$1" >>"$work/gajim-uri.log" 2>&1; }
# db_has KIND TEXT T: Gajim's archive has a message with TEXT (KIND: 2
# groupchat in, 4 chat in, 6 chat out).
db_has() {
	for _i in $(seq $(($3 * 10))); do
		[ "$(sqlite3 "file:$h/.local/share/gajim/logs.db?mode=ro" \
		    "select count(*) from logs where kind=$1 and message='$2'" 2>/dev/null)" -ge 1 ] &&
		    return 0
		sleep 0.1
	done
	return 1
}

if ! peer_start "$B/peer" "$PW" 1; then
	step login FAIL "peer: $PEER_REPLY"
	exit 0
fi
# A second resource of A sees Gajim's presence (no roster needed).
if ! peer_start "$A/r2" "$PW" 3; then
	step login FAIL "peer as $A/r2: $PEER_REPLY"
	exit 0
fi
$asuser "${GENV[@]}" gajim --verbose >"$work/gajim.log" 2>&1 &
gpid=$!
try peer_cmd 3 expect-presence "$A/gajim" 40
if [ -z "$fail" ] && ! grep -q 'WAIT_FOR_TLS_PROCEED' "$work/gajim.log"; then
	fail="no STARTTLS in Gajim's log"
fi
wait_window Gajim 10 || [ -n "$fail" ] || fail="no Gajim window"
sleep 1
result login "STARTTLS; server certificate from Gajim's cert_store; $A/r2 saw $A/gajim online"
# roster: the account's other resource (A/r2) and the peer subscribe to
# each other (both approve); Gajim gets the roster push and must hold the
# peer with subscription both: in its roster cache (cache.db) or, failing
# that, in the roster push its --verbose log shows it received.
try peer_cmd 3 subscribe "$B"
try P approve-all
try peer_cmd 3 approve-all
try peer_cmd 3 expect-subscribed "$B" $T
try P expect-subscribed "$A" $T
rost=
for _i in $(seq 100); do
	[ -n "$fail" ] && break
	if sqlite3 "file:$h/.cache/gajim/cache.db?mode=ro" "select roster from roster" 2>/dev/null |
	    tr -d ' \n' | grep -o "\"$B\":{[^}]*}" | grep -q '"subscription":"both"'; then
		rost="cache.db"; break
	fi
	if tr -d '\n' <"$work/gajim.log" | grep -o "<item [^>]*>" | grep "$B" | grep -q "subscription=.both."; then
		rost="roster push in Gajim's log"; break
	fi
	sleep 0.1
done
[ -z "$rost" ] && [ -z "$fail" ] && fail="Gajim holds no subscription=both item for $B"
result roster "$B with subscription both ($rost), after $A/r2 and $B approved each other"
# presence: the peer's available presence (sent to Gajim once subscribed)
# must be in what Gajim received (its --verbose log).
for _i in $(seq $((T * 10))); do
	tr -d '\n' <"$work/gajim.log" | grep -o "<presence [^>]*>" | grep "$B/peer" | grep -vq "unavailable" && break
	sleep 0.1
done
[ -z "$fail" ] && ! tr -d '\n' <"$work/gajim.log" | grep -o "<presence [^>]*>" | grep "$B/peer" | grep -vq unavailable &&
	fail="no available presence from $B/peer in Gajim's log"
try P expect-presence "$A/gajim" $T
result presence "Gajim received $B/peer's presence (its log); $B saw $A/gajim's"

gajim_uri "xmpp:$B?message"
wait_window "Start / Join Chat" 10 || fail="no Start Chat dialog"
sleep 1
if [ -z "$fail" ]; then
	xdotool mousemove 600 248 click 1
	sleep 0.2
	xdotool key Return
	sleep 1.5
	type_in "out-$tok"
fi
try P expect-message "$A" "out-$tok" $T
result msg-out "typed with xdotool into the chat with $B"

try P send "$A/gajim" "in-$tok"
db_has 4 "in-$tok" $T || [ -n "$fail" ] || fail="not in Gajim's archive (logs.db)"
sleep 0.5
result msg-in "in Gajim's archive and on screen (gajim.msg-in.png)"

try P join "$R" peer
if [ -z "$fail" ]; then
	gajim_uri "xmpp:$R?join"
	wait_window "Start / Join Chat" 10 || fail="no join dialog"
	sleep 1.5
fi
if [ -z "$fail" ]; then
	# The dialog first lists the address, then shows the room with its
	# Join button (bottom right).
	xdotool mousemove 600 248 click 1
	sleep 0.2
	xdotool key Return
	sleep 2
	xdotool mousemove 815 714 click 1
fi
try P expect-presence "$R/$NICK" $T
sleep 0.5
result muc-join "peer saw $R/$NICK"

[ -z "$fail" ] && type_in "gc-out-$tok"
try P expect-groupchat "$R" "$NICK" "gc-out-$tok" $T
result groupchat-out

try P groupchat "$R" "gc-in-$tok"
db_has 2 "gc-in-$tok" $T || [ -n "$fail" ] || fail="not in Gajim's archive (logs.db)"
sleep 0.5
result groupchat-in "in Gajim's archive and on screen (gajim.groupchat-in.png)"

# muc-pm: the peer writes privately to Gajim's nick (must land in
# logs.db); Gajim writes back through the chat opened with
# `gajim xmpp:ROOM/NICK?message` (Gajim 1.7 has no /msg command).
try P pm "$R" "$NICK" "pm-in-$tok"
for _i in $(seq $((T * 10))); do
	[ "$(sqlite3 "file:$h/.local/share/gajim/logs.db?mode=ro" \
	    "select count(*) from logs where message='pm-in-$tok'" 2>/dev/null)" -ge 1 ] && break
	sleep 0.1
done
[ -z "$fail" ] && [ "$(sqlite3 "file:$h/.local/share/gajim/logs.db?mode=ro" \
    "select count(*) from logs where message='pm-in-$tok'" 2>/dev/null)" -lt 1 ] &&
	fail="private message from $R/peer not in Gajim's archive"
shot muc-pm-in
if [ -z "$fail" ]; then
	gajim_uri "xmpp:$R/peer?message"
	wait_window "Start / Join Chat" 10 && { sleep 1; xdotool mousemove 600 248 click 1; sleep 0.2; xdotool key Return; }
	sleep 1.5
	type_in "pm-out-$tok"
fi
try P expect-pm "$R" "$NICK" "pm-out-$tok" $T
result muc-pm "pm from $R/peer in logs.db; typed pm reached the peer from $R/$NICK"

# carbons: the peer writes to the account's other resource (A/r2); the
# app gets the message only as a carbon copy, and must store it.
try P send "$A/r2" "carbon-$tok"
try peer_cmd 3 expect-message "$B" "carbon-$tok" $T
db_has 4 "carbon-$tok" $T || [ -n "$fail" ] || fail="carbon copy not in the app's message store"
sleep 0.5
result carbons "a message to $A/r2 reached the app's store"

# sm-resume: Gajim (nbxmpp) enables XEP-0198 with resumption; kill its
# TCP connection (ss -K), the peer writes meanwhile, Gajim reconnects by
# itself and must resume (<resumed/> in its log) and store the message.
grep -q "<enable xmlns=.urn:xmpp:sm:3. resume=.true." "$work/gajim.log" ||
	fail="Gajim did not enable stream management with resumption"
pyid=$(pgrep -n -u 65534 -f "gajim --verbose" 2>/dev/null)
[ "$(id -u)" = 0 ] || pyid=$gpid
sport=$(ss -tnpH state established "dst $UXMPPD_HOST:$UXMPPD_PORT" 2>/dev/null |
	grep "pid=$pyid," | awk '{print $3}' | sed 's/.*://' | head -n 1)
[ -z "$fail" ] && [ -z "$sport" ] && fail="Gajim's TCP connection not found (ss)"
if [ -z "$fail" ]; then
	nres=$(grep -c "<resumed " "$work/gajim.log")
	ss -K -tn "dst $UXMPPD_HOST:$UXMPPD_PORT" "sport = :$sport" >/dev/null 2>&1
fi
try P send "$A/gajim" "cut-$tok"
db_has 4 "cut-$tok" 60 || [ -n "$fail" ] || fail="message sent while cut not in Gajim's archive"
if [ -z "$fail" ] && [ "$(grep -c "<resumed " "$work/gajim.log")" -le "$nres" ]; then
	fail="reconnected without <resumed/> (fresh session)"
fi
result sm-resume "connection killed, <resumed/>, message sent meanwhile stored"
# leave: the app's own "quit" action (its Quit menu item), activated over
# its D-Bus session bus; the peer must see it leave the room and the other
# resource of the account must see it go offline.
$asuser "${GENV[@]}" gdbus call --session --dest org.gajim.Gajim --object-path /org/gajim/Gajim \
    --method org.gtk.Actions.Activate quit '[]' '{}' >"$work/quit.log" 2>&1 ||
	fail="quit action: $(head -c 200 "$work/quit.log")"
# With unread messages (the carbon) Gajim asks "You still have unread
# messages": its red Quit button.
sleep 1.5
kill -0 "$gpid" 2>/dev/null && xdotool mousemove 629 304 click 1
try P expect-unavailable "$R/$NICK" $T
try peer_cmd 3 expect-unavailable "$A/gajim" $T
for i in $(seq 50); do kill -0 "$gpid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$gpid" 2>/dev/null && [ -z "$fail" ] && fail="still running after quit"
[ -z "$fail" ] && gpid=
result leave "quit action: peer saw it leave the room, $A/r2 saw it go offline"

# direct-tls (after leave: this second Gajim joins the room from the
# bookmark too, and must not keep the nick in it): a second Gajim (own profile, own D-Bus bus) seeded with
# custom_type DIRECT TLS on $UXMPPD_TLS_PORT, resource gajim-tls: A/r2
# must see it online and its TCP connection must go to the direct-TLS port.
h2=$work/home2
mkdir -p "$h2/run"; chmod 700 "$h2/run"
G2=(env -i HOME="$h2" PATH=/usr/bin:/bin DISPLAY=":$dn" LANG=C.UTF-8 NO_AT_BRIDGE=1 GTK_A11Y=none
    XDG_CONFIG_HOME="$h2/.config" XDG_DATA_HOME="$h2/.local/share"
    XDG_CACHE_HOME="$h2/.cache" XDG_RUNTIME_DIR="$h2/run")
"${G2[@]}" /usr/bin/python3 "$INTEROP_DIR/desktop/gajim-seed.py" uxi "$A" \
    "$PW" "$UXMPPD_HOST" "$UXMPPD_TLS_PORT" "DIRECT TLS" gajim-tls >"$work/seed2.log" 2>&1
cp "$UXMPPD_CERT" "$h2/.local/share/gajim/cert_store/uxmppd.pem"
[ -n "$asuser" ] && chown -R 65534:65534 "$h2"
read -r dbaddr2 dbpid2 < <($asuser "${G2[@]}" dbus-daemon --session --fork \
    --print-address=1 --print-pid=1 | tr '\n' ' ')
G2+=(DBUS_SESSION_BUS_ADDRESS="$dbaddr2")
$asuser "${G2[@]}" gajim --verbose >"$work/gajim-tls.log" 2>&1 &
g2pid=$!
try peer_cmd 3 expect-presence "$A/gajim-tls" 40
if [ -z "$fail" ]; then
	ss -tnpH state established "dst $UXMPPD_HOST:$UXMPPD_TLS_PORT" 2>/dev/null | grep -q gajim ||
		fail="no Gajim connection to the direct-TLS port $UXMPPD_TLS_PORT (ss)"
	grep -q WAIT_FOR_TLS_PROCEED "$work/gajim-tls.log" && fail="second Gajim used STARTTLS"
fi
try P send "$A/gajim-tls" "tls-$tok"
for _i in $(seq $((T * 10))); do
	[ "$(sqlite3 "file:$h2/.local/share/gajim/logs.db?mode=ro" \
	    "select count(*) from logs where kind=4 and message='tls-$tok'" 2>/dev/null)" -ge 1 ] && break
	sleep 0.1
done
[ -z "$fail" ] && [ "$(sqlite3 "file:$h2/.local/share/gajim/logs.db?mode=ro" \
    "select count(*) from logs where kind=4 and message='tls-$tok'" 2>/dev/null)" -lt 1 ] &&
	fail="message to $A/gajim-tls not in the second Gajim's archive"
result direct-tls "custom_type DIRECT TLS on port $UXMPPD_TLS_PORT: online, message stored"
cp "$work/gajim-tls.log" "$INTEROP_LOG_PREFIX.gajim-tls.log" 2>/dev/null
$asuser "${G2[@]}" gdbus call --session --dest org.gajim.Gajim --object-path /org/gajim/Gajim \
    --method org.gtk.Actions.Activate quit '[]' '{}' >/dev/null 2>&1
sleep 1.5
kill -0 "$g2pid" 2>/dev/null && xdotool mousemove 629 304 click 1
for i in $(seq 30); do kill -0 "$g2pid" 2>/dev/null || break; sleep 0.1; done
kill "$g2pid" 2>/dev/null
kill "$dbpid2" 2>/dev/null

