#!/bin/bash
# tests/interop/clients/profanity.sh - Profanity (Debian's profanity, 0.13)
# as the client under test, typed into through tmux; peer.py is the other
# side.  Every check on Profanity's side is a line it put on its screen
# (tmux capture-pane), with a fresh token in each message body; the
# screens are kept as build/interop/profanity.STEP.txt, Profanity's debug
# log as profanity.profanity.log.
#
# Certificate: Profanity shows the untrusted (self-signed) certificate
# with its SHA-1 fingerprint and waits for /tls allow|always|deny.  We
# compare that fingerprint with the one of $UXMPPD_CERT and answer
# "/tls always" only when they are equal (Profanity then keeps it in its
# tlscerts file, so its automatic reconnects trust it too).
. "$INTEROP_DIR/peer.sh"
. "$INTEROP_DIR/tmux.sh"
. "$INTEROP_DIR/steps.sh"
need_cmds "sh tests/interop/install-apps.sh" profanity tmux openssl
A=$INTEROP_JID_A B=$INTEROP_JID_B PW=$INTEROP_PASSWORD R=$INTEROP_ROOM T=10
NICK=prof
tok=p$$
SCREEN_OF=Profanity
save_step() { tmux_save "$W" "$1"; }
type_() { [ -n "$fail" ] && return 1; tmux_type "$W" "$@"; }

work=$(mktemp -d "${TMPDIR:-/tmp}/interop-profanity.XXXXXX")
finish() {
	for h in "$work"/home*; do
		l=$h/.local/share/profanity/logs/profanity.log
		[ -f "$l" ] && cp "$l" "$INTEROP_LOG_PREFIX.${h##*/}.profanity.log"
	done
	tmux_stop
	peer_cleanup
	rm -rf "$work"
}
trap finish EXIT
fp_want=$(openssl x509 -noout -fingerprint -sha1 -in "$UXMPPD_CERT" |
	sed 's/.*=//; s/://g' | tr 'A-F' 'a-f')

# start_prof WIN: Profanity with its own empty HOME ($work/home-WIN).
start_prof() {
	h=$work/home-$1
	mkdir -p "$h"
	tmux_start "$1" env -i HOME="$h" TERM=xterm-256color LANG=C.UTF-8 \
	    PATH=/usr/bin:/bin XDG_CONFIG_HOME="$h/.config" \
	    XDG_DATA_HOME="$h/.local/share" profanity -l DEBUG
}

# login WIN PORT TLSMODE: /connect, password, certificate; sets $fail.
login() {
	W=$1
	see 10 'Type .?/help' "Profanity's start screen"
	type_ "/reconnect 1"
	type_ "/connect $A server $UXMPPD_HOST port $2 tls $3"
	see $T 'Enter password' "password prompt"
	type_ "$PW"
	see $T 'Fingerprint *: [0-9a-f]+|logged in successfully' "certificate prompt"
	if [ -z "$fail" ]; then
		fp=$(printf '%s\n' "$TMUX_SCREEN" | sed -n 's/.*Fingerprint *: *\([0-9a-f]*\).*/\1/p' | tail -n 1)
		if [ "$fp" = "$fp_want" ]; then
			type_ "/tls always"
		elif [ -n "$fp" ]; then
			type_ "/tls deny"
			fail="certificate fingerprint $fp is not the server's ($fp_want)"
		else
			fail="logged in without showing the self-signed certificate"
		fi
	fi
	see $T "$(re "$A")/[^ ]+ logged in successfully" "logged in"
	jid_full=$(printf '%s\n' "$TMUX_LINE" | grep -o "$(re "$A")/[^ ]*")
	# The status bar shows [TLS] once the stream is encrypted.
	see 5 '\[TLS\]' "[TLS] in the status bar"
}

if ! peer_start "$B/peer" "$PW" 1; then
	step login FAIL "peer: $PEER_REPLY"
	exit 0
fi
start_prof main
login main "$UXMPPD_PORT" force
result login "STARTTLS, certificate SHA-1 $fp_want checked and trusted, $jid_full"
W=main
jid_main=$jid_full
[ -n "$jid_full" ] || exit 0

# roster: we ask B, peer approves and asks back, we approve.
try P approve-all
type_ "/roster add $B"
type_ "/sub request $B"
see $T "Received authorization request from $(re "$B")" "B's subscription request"
type_ "/sub allow $B"
see $T "Accepted subscription for $(re "$B")" "subscription accepted"
for i in 1 2 3 4 5; do
	[ -n "$fail" ] && break
	type_ "/sub show $B"
	tmux_wait "$W" 2 "$(re "$B") subscription status: both" && break
	[ $i = 5 ] && fail="subscription of $B not both: $(printf '%s\n' "$TMUX_SCREEN" | grep -m1 'subscription status')"
done
result roster "subscription both shown by /sub show"

try P expect-presence "$jid_full" $T
see $T "\+\+ $(re "$B") \(peer\) is online" "B online"
result presence

type_ "/msg $B out-$tok"
try P expect-message "$A" "out-$tok" $T
see $T "me: out-$tok" "own message in the chat window"
result msg-out

try P send "$jid_full" "in-$tok"
see $T "$(re "$B")/peer: in-$tok" "B's message in the chat window"
result msg-in

try P join "$R" peer
type_ "/join $R nick $NICK"
see $T "You have joined the room as $NICK" "room joined"
try P expect-presence "$R/$NICK" $T
result muc-join "peer saw $R/$NICK"

type_ "gc-out-$tok"
try P expect-groupchat "$R" "$NICK" "gc-out-$tok" $T
result groupchat-out

try P groupchat "$R" "gc-in-$tok"
see $T "peer: gc-in-$tok" "peer's groupchat message in the room window"
result groupchat-in

# From the room window, /msg NICK opens a private chat with the occupant.
type_ "/msg peer pm-out-$tok"
try P expect-pm "$R" "$NICK" "pm-out-$tok" $T
try P pm "$R" "$NICK" "pm-in-$tok"
see $T "peer: pm-in-$tok" "peer's private message in the PM window"
result muc-pm

# carbons: Profanity enables them at login (urn:xmpp:carbons:2); the peer
# writes to another resource of A (A/r2, a second peer.py); the copy must
# show in Profanity's chat window with B.
pl=$work/home-main/.local/share/profanity/logs/profanity.log
grep -q '<enable xmlns="urn:xmpp:carbons:2"/>' "$pl" 2>/dev/null ||
	fail="Profanity did not enable carbons"
if [ -z "$fail" ] && ! peer_start "$A/r2" "$PW" 3; then
	fail="second resource: $PEER_REPLY"
fi
type_ "/msg $B"
try P send "$A/r2" "carbon-$tok"
try peer_cmd 3 expect-message "$B" "carbon-$tok" $T
see $T "$(re "$B")/peer: carbon-$tok" "carbon copy in the chat window"
if [ -z "$fail" ] && ! grep -q "<received xmlns=\"urn:xmpp:carbons:2\"><forwarded.*carbon-$tok" "$pl"; then
	fail="message shown but not received as a carbon (see log)"
fi
peer_stop 3
result carbons "received carbon of a message to $A/r2"

# sm-resume: Profanity (libstrophe) enables XEP-0198 with resume; we kill
# its TCP connection (ss -K: the socket is destroyed, the server sees a
# reset), the peer writes while it is away, Profanity reconnects (1 s
# timer) with <resume/> and must show the message.
if ! grep -q '<enable xmlns="urn:xmpp:sm:3" resume="true"/>' "$pl"; then
	fail="Profanity did not enable stream management with resumption"
fi
sport=$(ss -tnpH state established "dst $UXMPPD_HOST:$UXMPPD_PORT" 2>/dev/null |
	grep '"profanity"' | awk '{print $3}' | sed 's/.*://' | head -n 1)
[ -z "$fail" ] && [ -z "$sport" ] && fail="Profanity's TCP connection not found (ss)"
if [ -z "$fail" ]; then
	ss -K -tn "dst $UXMPPD_HOST:$UXMPPD_PORT" "sport = :$sport" >/dev/null 2>&1
	see $T "Lost connection" "connection lost (ss -K)"
fi
try P send "$jid_full" "cut-$tok"
see 20 "Connection re-established" "reconnected"
see $T "$(re "$B")/peer: cut-$tok" "message sent while cut, after resumption"
# The message must have come after <resumed/>, i.e. from the server's
# queue of the hibernating session, not to a fresh session.
if [ -z "$fail" ]; then
	lr=$(grep -n 'RECV: <resumed ' "$pl" | tail -n 1 | cut -d: -f1)
	lm=$(grep -n "RECV: <message.*cut-$tok" "$pl" | tail -n 1 | cut -d: -f1)
	if [ -z "$lr" ]; then
		fail="reconnected without <resumed/> (fresh session)"
	elif [ -z "$lm" ] || [ "$lm" -lt "$lr" ]; then
		fail="message not redelivered after <resumed/>"
	fi
fi
result sm-resume "<resume/> answered <resumed/>, message sent while cut delivered"

# direct-tls: a second Profanity (own HOME) as A on the XEP-0368 port
# ("tls legacy": TLS from the first byte).
start_prof direct
login direct "$UXMPPD_TLS_PORT" legacy
jid_direct=$jid_full
[ -z "$jid_direct" ] && [ -z "$fail" ] && fail="no JID"
try P send "$jid_direct" "direct-$tok"
see $T "chat message: $(re "$B")/peer" "message notice"
type_ "/win 2"
see $T "$(re "$B")/peer: direct-$tok" "message over direct TLS"
result direct-tls "$jid_direct"
tmux_type direct "/quit"
W=main
jid_full=$jid_main

type_ "/win 3"
see 5 "You have joined the room as $NICK" "room window (/win 3)"
type_ "/close"	# leaves the room (0.13 has no /leave)
try P expect-unavailable "$R/$NICK" $T
type_ "/disconnect"
try P expect-unavailable "$jid_full" $T
type_ "/quit"
for i in $(seq 50); do tmux_alive main || break; sleep 0.1; done
tmux_alive main && [ -z "$fail" ] && fail="Profanity still running after /quit"
result leave "left the room, went offline, quit"
