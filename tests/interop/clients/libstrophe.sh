#!/bin/bash
# tests/interop/clients/libstrophe.sh - libstrophe (libstrophe-dev) as the
# client under test: tests/interop/strophe_client (built by make interop)
# drives it, peer.py is the other side.  strophe_client sends what we give
# it as raw XML and matches received stanzas by words (see its header), so
# every check below asserts on the stanza libstrophe parsed.
. "$INTEROP_DIR/peer.sh"
. "$INTEROP_DIR/steps.sh"
trap peer_cleanup EXIT
SC=$INTEROP_DIR/strophe_client
if [ ! -x "$SC" ]; then
	echo "skip strophe_client not built (needs libstrophe-dev; make interop builds it)"
	exit 0
fi
A=$INTEROP_JID_A B=$INTEROP_JID_B PW=$INTEROP_PASSWORD R=$INTEROP_ROOM T=10
S() { peer_cmd 2 "$@"; }	# strophe_client, A/r1; P (steps.sh): peer.py, B/peer

if ! peer_start "$B/peer" "$PW" 1; then
	step login FAIL "peer: $PEER_REPLY"
	exit 0
fi
if ! ctl_start 2 "$SC" "$A/r1" "$PW" "$UXMPPD_HOST" "$UXMPPD_PORT"; then
	step login FAIL "$PEER_REPLY"
	exit 0
fi
read -r mech tls <<<"$PEER_REPLY"
if [ "$tls" = tls ]; then
	step login ok "$mech over STARTTLS"
else
	step login FAIL "session not secured ($PEER_REPLY)"
fi

fail=
try P approve-all
try S raw "<presence/>"
try S raw "<presence to='$B' type='subscribe'/>"
try S expect $T "from=\"$B\"" 'type="subscribe"'
try S raw "<presence to='$B' type='subscribed'/>"
try P expect-subscribed "$A" $T
sleep 0.3
try S raw "<iq type='get' id='ros1'><query xmlns='jabber:iq:roster'/></iq>"
try S expect $T 'id="ros1"' 'type="result"' "jid=\"$B\"" 'subscription="both"'
result roster "subscription=both"

fail=
try S expect $T "<presence" "from=\"$B/peer\""
try P expect-presence "$A/r1" $T
result presence

fail=
try S raw "<message to='$B' type='chat'><body>hello from strophe</body></message>"
try P expect-message "$A" hello from strophe $T
result msg-out

fail=
try P send "$A" hello-to-strophe
try S expect $T "from=\"$B/peer\"" "<body>hello-to-strophe</body>"
result msg-in

fail=
try P join "$R" peer
try S raw "<presence to='$R/strophe'><x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='0'/></x></presence>"
try S expect $T "from=\"$R/strophe\"" 'code="110"'
result muc-join

fail=
try S raw "<message to='$R' type='groupchat'><body>gc from strophe</body></message>"
try P expect-groupchat "$R" strophe gc from strophe $T
result groupchat-out

fail=
try P groupchat "$R" gc-to-strophe
try S expect $T 'type="groupchat"' "from=\"$R/peer\"" "<body>gc-to-strophe</body>"
result groupchat-in

fail=
try S raw "<message to='$R/peer' type='chat'><body>pm from strophe</body><x xmlns='http://jabber.org/protocol/muc#user'/></message>"
try P expect-pm "$R" strophe pm from strophe $T
try P pm "$R" strophe pm-to-strophe
try S expect $T "from=\"$R/peer\"" "<body>pm-to-strophe</body>"
result muc-pm

# carbons: r1 enables them, a peer logged in as A/r2 gets a message, r1
# must get the <received/> copy.
fail=
try S raw "<iq type='set' id='carb1'><enable xmlns='urn:xmpp:carbons:2'/></iq>"
try S expect $T 'id="carb1"' 'type="result"'
try peer_start "$A/r2" "$PW" 3
try P send "$A/r2" carbon-check
try S expect $T '<received xmlns="urn:xmpp:carbons:2"' "<body>carbon-check</body>"
try peer_cmd 3 expect-message "$B" carbon-check $T
peer_stop 3
result carbons

# sm-resume: libstrophe enabled XEP-0198 at login; cut its socket, the
# peer writes meanwhile, libstrophe resumes with its saved state.
fail=
try S cut
try P send "$A/r1" sent-while-cut
try S resume
try S expect $T "<body>sent-while-cut</body>"
result sm-resume "resumed"

fail=
if ctl_start 3 "$SC" "$A/r3" "$PW" "$UXMPPD_HOST" "$UXMPPD_TLS_PORT" direct; then
	read -r mech3 tls3 <<<"$PEER_REPLY"
	[ "$tls3" = tls ] || fail="not secured"
	try P send "$A/r3" over-direct-tls
	try peer_cmd 3 expect $T "<body>over-direct-tls</body>"
else
	fail="direct TLS login: $PEER_REPLY"
fi
peer_stop 3
result direct-tls "$mech3"

fail=
try S raw "<presence to='$R/strophe' type='unavailable'/>"
try P expect-unavailable "$R/strophe" $T
try S quit
try P expect-unavailable "$A/r1" $T
result leave
