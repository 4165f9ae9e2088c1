#!/bin/bash
# tests/interop/clients/go-sendxmpp.sh - go-sendxmpp (Debian's go-sendxmpp,
# on the go-xmpp library) as the client under test, peer.py as the other
# side.  go-sendxmpp sends one message per run (to a JID, or to a room with
# -c) and with -l listens and prints "STAMP FROM: BODY" lines.  It trusts
# the server certificate through SSL_CERT_FILE (Go's crypto/x509), with
# verification on.  Roster, presence display, MUC private messages,
# carbons and stream management are not features of go-sendxmpp: n/a.
. "$INTEROP_DIR/peer.sh"
trap 'kill $(jobs -p) 2>/dev/null; peer_cleanup' EXIT
if ! command -v go-sendxmpp >/dev/null; then
	echo "skip go-sendxmpp not installed (apt-get install go-sendxmpp)"
	exit 0
fi
A=$INTEROP_JID_A B=$INTEROP_JID_B PW=$INTEROP_PASSWORD R=$INTEROP_ROOM T=10
W=$(mktemp -d)
export HOME=$W SSL_CERT_FILE=$UXMPPD_CERT
G=(go-sendxmpp -u "$A" -p "$PW" -j "$UXMPPD_HOST:$UXMPPD_PORT" --timeout 10)
step() { echo "step $*"; }
# wait_line FILE PATTERN: until a line of FILE matches (grep -E), T seconds
wait_line() {
	for _i in $(seq 1 $((T * 10))); do
		grep -q -E "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

if ! peer_start "$B/peer" "$PW"; then
	step login FAIL "peer: $PEER_REPLY"
	exit 0
fi

# login + msg-out: one run of go-sendxmpp sending to the peer (-d shows
# what it received: SASL success, then the bound stream).
echo "hello from go" | timeout 20 "${G[@]}" -d "$B" >"$W/send.out" 2>&1
rc=$?
cat "$W/send.out" >&2
v=$(grep -o "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>[^<]*" "$W/send.out" |
    sed 's/.*>//' | base64 -d 2>/dev/null | sed 's/^v=//' | base64 -d 2>/dev/null | wc -c)
case $v in
32) mech="SCRAM-SHA-256 or -PLUS (the mechanism is not printed; server signature 32 bytes)" ;;
20) mech="SCRAM-SHA-1 or -PLUS (the mechanism is not printed; server signature 20 bytes)" ;;
*) mech="?" ;;
esac
# No challenge and an empty success: PLAIN (what this go-xmpp does).
if ! grep -q "<challenge" "$W/send.out" &&
    grep -q "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'></success>" "$W/send.out"; then
	mech="PLAIN (inferred: no challenge, empty success; go-sendxmpp chose it over the SCRAM mechanisms offered)"
fi
if [ $rc -eq 0 ] && grep -q "<success" "$W/send.out"; then
	step login ok "$mech over STARTTLS"
else
	step login FAIL "rc $rc: $(grep -v '^<' "$W/send.out" | tail -n 1 | cut -c1-200)"
fi
step roster n/a "go-sendxmpp has no roster management"
step presence n/a "go-sendxmpp neither shows nor sets presence"
if peer_cmd expect-message "$A" hello from go $T; then
	step msg-out ok
else
	step msg-out FAIL "$PEER_REPLY"
fi

# msg-in: go-sendxmpp -l prints what it receives.
timeout 25 "${G[@]}" -l >"$W/listen.out" 2>"$W/listen.err" &
lpid=$!
# it is listening once its presence reached the peer? it sends none; so
# resend until the listener prints (each message is distinct).
got=
for i in 1 2 3 4 5; do
	peer_cmd send "$A" hello to go $i
	if wait_line "$W/listen.out" "^[^ ]+ $B(/[^:]*)?: hello to go $i\$"; then
		got=$i
		break
	fi
done
kill $lpid 2>/dev/null
cat "$W/listen.out" "$W/listen.err" >&2
if [ -n "$got" ]; then
	step msg-in ok "$([ "$got" = 1 ] || echo "message $got (the first came before the listener was up)")"
else
	step msg-in FAIL "go-sendxmpp -l printed no 'hello to go': $(tail -n 1 "$W/listen.err")"
fi

# muc-join and groupchat-in: go-sendxmpp -c -l joins the room as "gonick"
# and prints its messages; the peer (who made the room) sees it join.
peer_cmd join "$R" peer
timeout 30 "${G[@]}" -c -l -a gonick "$R" >"$W/muc.out" 2>"$W/muc.err" &
mpid=$!
if peer_cmd expect-presence "$R/gonick" $T; then
	step muc-join ok
else
	step muc-join FAIL "peer: $PEER_REPLY ($(tail -n 1 "$W/muc.err"))"
fi

echo "gc from go" | timeout 20 "${G[@]}" -c -a gosend "$R" >"$W/gc.out" 2>&1
cat "$W/gc.out" >&2
if peer_cmd expect-groupchat "$R" gosend gc from go $T; then
	step groupchat-out ok
else
	step groupchat-out FAIL "peer: $PEER_REPLY"
fi

peer_cmd groupchat "$R" gc to go
if wait_line "$W/muc.out" "^[^ ]+ $R/peer: gc to go\$"; then
	step groupchat-in ok
else
	step groupchat-in FAIL "the -l listener printed: $(tail -n 2 "$W/muc.out" | tr '\n' '|')"
fi
step muc-pm n/a "go-sendxmpp sends to JIDs and rooms, not to room occupants"
step carbons n/a "go-sendxmpp does not enable message carbons"
step sm-resume n/a "go-xmpp has no stream management"

# direct-tls: -t, to localhost so the certificate name matches.
echo "direct from go" | timeout 20 go-sendxmpp -u "$A" -p "$PW" -t \
    -j "localhost:$UXMPPD_TLS_PORT" --timeout 10 "$B" >"$W/dtls.out" 2>&1
rc=$?
cat "$W/dtls.out" >&2
if [ $rc -ne 0 ]; then
	step direct-tls FAIL "rc $rc: $(tail -n 1 "$W/dtls.out" | cut -c1-200)"
elif peer_cmd expect-message "$A" direct from go $T; then
	step direct-tls ok
else
	step direct-tls FAIL "peer: $PEER_REPLY"
fi

# leave: stop the room listener; the peer must see gonick go.
kill -INT $mpid 2>/dev/null
cat "$W/muc.out" "$W/muc.err" >&2
if peer_cmd expect-unavailable "$R/gonick" $T; then
	step leave ok "listener stopped (SIGINT); the peer saw gonick leave"
else
	step leave FAIL "peer: $PEER_REPLY"
fi
rm -rf "$W"
