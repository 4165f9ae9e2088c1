#!/bin/bash
# tests/interop/run.sh [CLIENT...] - real XMPP clients against one uxmppd.
#
# Starts one fresh uxmppd on free loopback ports (STARTTLS required on the
# client port, XEP-0368 direct TLS on a second one, the self-signed
# certificate generated at first start), creates three accounts per client,
# then runs each client script tests/interop/clients/CLIENT.{sh,py,js}
# or tests/interop/pep/CLIENT.py (the PEP rows: two libraries, one
# scenario, steps login subscribe caps publish notify fetch; their table
# comes second) or tests/interop/mam/CLIENT.py (the MAM rows, steps login
# send page order ids from with; the third table) or
# tests/interop/upload/CLIENT.py (XEP-0363 rows, steps login disco upload
# deliver download range; the fourth table) (all of them when no CLIENT
# is named), several at once,
# each under timeout(1).  A script prints, in this order,
#     step NAME ok|FAIL|n/a [reason]
# for NAME in: login roster presence msg-out msg-in muc-join groupchat-out
# groupchat-in muc-pm carbons sm-resume direct-tls leave; or one line
#     skip REASON
# when what it needs is not installed.  A step not printed is a FAIL ("not
# run").  The result is one table (client x step: ok, FAIL, n/a, SKIP), the
# reason of every FAIL and n/a, and "N passed, N failed, N skipped" (ok
# cells pass, FAIL cells fail, n/a cells do not count, a SKIP row counts
# one skipped); the exit status is non-zero on any FAIL.
#
# What a client script gets in its environment:
#   UXMPPD_HOST UXMPPD_PORT       127.0.0.1 and the STARTTLS client port
#   UXMPPD_TLS_PORT               the direct TLS (XEP-0368) port
#   UXMPPD_HTTPS_PORT             HTTPS (https_listen): wss://localhost:PORT/xmpp-websocket
#                                 and the uploads (http_upload_url https://localhost:PORT/upload)
#   UXMPPD_WEB_PORT               free, for a browser row's page at
#                                 http://localhost:PORT (websocket_origins)
#   UXMPPD_DOMAIN UXMPPD_MUC      localhost, conference.localhost
#   UXMPPD_CERT                   the server certificate (PEM), to pin/trust
#   INTEROP_CLIENT                the client's name (its script's basename)
#   INTEROP_JID_A                 <client>-a@localhost: the client under test
#   INTEROP_JID_B                 <client>-b@localhost: for the reference peer
#   INTEROP_JID_C                 <client>-c@localhost: a spare (second peer)
#   INTEROP_PASSWORD              the password of all three
#   INTEROP_ROOM                  <client>@conference.localhost (its own room)
#   INTEROP_DIR                   tests/interop (peer.py, peer.sh, peerctl.py)
#   INTEROP_ARTIFACTS             kept after the run (default build/interop)
#   INTEROP_LOG_PREFIX            $INTEROP_ARTIFACTS/<client>: prefix for the
#                                 script's own extra logs and screenshots
#   PEER_LOG                      where peer.sh sends the peer's stderr
# Kept in INTEROP_ARTIFACTS: <client>.out (stdout), <client>.log (stderr),
# <client>.peer-*.log, uxmppd.log, table.md.
#
# Environment: UXMPPD, SCANSION (binaries), INTEROP_TIMEOUT (seconds per
# client, default 60), INTEROP_JOBS (clients at once, default 4),
# INTEROP_SERVER_CONF (extra config lines, e.g. "sm_resume_timeout_s = 0"
# to check that every sm-resume cell then fails), KEEP=1 (keep the
# temporary directory: config, data, server stderr).
# The temporary directory, cleanup, counting and the server start are
# tests/lib.sh's.
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
TEST_NAME=interop
COUNT_SKIPS=1
. "$ROOT/tests/lib.sh"
ART=${INTEROP_ARTIFACTS:-$ROOT/build/interop}
TIMEOUT_S=${INTEROP_TIMEOUT:-60}
JOBS=${INTEROP_JOBS:-4}
PY=/usr/bin/python3	# Debian's, with the apt-installed client libraries
[ -x "$PY" ] || PY=python3
PASSWORD=interop-pw
STEPS="login roster presence msg-out msg-in muc-join groupchat-out
groupchat-in muc-pm carbons sm-resume direct-tls leave"
# The PEP rows (tests/interop/pep/NAME.py): two libraries, one scenario each.
PEP_STEPS="login subscribe caps publish notify fetch"
# The MAM rows (tests/interop/mam/NAME.py): history fetched by a client.
MAM_STEPS="login send page order ids from with"
# The upload rows (tests/interop/upload/NAME.py): XEP-0363 up and down.
UPLOAD_STEPS="login disco upload deliver download range"

need "$UXMPPD" "$SCANSION"

clients=("$@")
if [ ${#clients[@]} -eq 0 ]; then
	for f in "$HERE"/clients/*.sh "$HERE"/clients/*.py "$HERE"/clients/*.js \
	    "$HERE"/pep/*.py "$HERE"/mam/*.py "$HERE"/upload/*.py; do
		[ -f "$f" ] || continue
		case ${f##*/} in *common.py) continue ;; esac
		b=${f##*/}
		clients+=("${b%.*}")
	done
	mapfile -t clients < <(printf '%s\n' "${clients[@]}" | sort -u)
fi
script_of() {
	for ext in sh py js; do
		if [ -f "$HERE/clients/$1.$ext" ]; then
			echo "$HERE/clients/$1.$ext"
			return 0
		fi
	done
	for d in pep mam upload; do
		if [ -f "$HERE/$d/$1.py" ]; then
			echo "$HERE/$d/$1.py"
			return 0
		fi
	done
	return 1
}
steps_of() {
	case $(script_of "$1") in
	*/pep/*) echo "$PEP_STEPS" ;;
	*/mam/*) echo "$MAM_STEPS" ;;
	*/upload/*) echo "$UPLOAD_STEPS" ;;
	*) echo "$STEPS" ;;
	esac
}
for c in "${clients[@]}"; do
	if ! script_of "$c" >/dev/null; then
		echo "interop: no script tests/interop/clients/$c.{sh,py,js}, pep/$c.py, mam/$c.py or upload/$c.py" >&2
		exit 2
	fi
done

mkdir -p "$ART"
new_port port
new_port tport
while [ "$tport" = "$port" ]; do new_port tport; done
new_port hport
while [ "$hport" = "$port" ] || [ "$hport" = "$tport" ]; do new_port hport; done
new_port wport
while [ "$wport" = "$port" ] || [ "$wport" = "$tport" ] || [ "$wport" = "$hport" ]; do
	new_port wport
done
conf=$tmp/uxmppd.conf
cat >"$conf" <<EOF
domain = localhost
muc_domain = conference.localhost
c2s_listen = 127.0.0.1:$port
c2s_direct_tls_listen = 127.0.0.1:$tport
https_listen = 127.0.0.1:$hport
websocket_origins = http://localhost:$wport
http_upload = yes
http_upload_url = https://localhost:$hport/upload
data_dir = $tmp/data
store_sync = none
log_level = debug
log_file = $ART/uxmppd.log
require_encryption = yes
allow_plain_unencrypted = no
${INTEROP_SERVER_CONF:-}
EOF
mkdir -p "$tmp/data"
rm -f "$ART/uxmppd.log"
for c in "${clients[@]}"; do
	for u in a b c; do
		if ! printf '%s\n' "$PASSWORD" | "$UXMPPD" -c "$conf" adduser \
		    "$c-$u@localhost" >"$tmp/adduser" 2>&1; then
			abort "adduser $c-$u@localhost: $(cat "$tmp/adduser")"
		fi
	done
done
if ! server_up "$conf" "$port" || ! "$SCANSION" --wait-port \
    "127.0.0.1:$tport" --wait-pid "$srv_pid" --timeout 10 ||
    ! "$SCANSION" --wait-port "127.0.0.1:$hport" --wait-pid "$srv_pid" \
    --timeout 10; then
	abort "server did not start: $(tail -n 3 "$tmp/stderr" "$ART/uxmppd.log")"
fi
cert=$tmp/data/tls-cert.pem
[ -s "$cert" ] || abort "no generated certificate at $cert"
cp "$cert" "$ART/uxmppd-cert.pem"

run_client() {
	c=$1
	s=$(script_of "$c")
	rm -f "$ART/$c".*
	case $s in
	*.sh) cmd=(bash "$s") ;;
	*.py) cmd=("$PY" -P "$s") ;;	# -P: clients/slixmpp.py is not slixmpp
	*.js) cmd=(node "$s") ;;
	esac
	env UXMPPD_HOST=127.0.0.1 UXMPPD_PORT="$port" UXMPPD_TLS_PORT="$tport" \
	    UXMPPD_HTTPS_PORT="$hport" UXMPPD_WEB_PORT="$wport" \
	    UXMPPD_DOMAIN=localhost UXMPPD_MUC=conference.localhost \
	    UXMPPD_CERT="$ART/uxmppd-cert.pem" INTEROP_CLIENT="$c" \
	    INTEROP_JID_A="$c-a@localhost" INTEROP_JID_B="$c-b@localhost" \
	    INTEROP_JID_C="$c-c@localhost" INTEROP_PASSWORD="$PASSWORD" \
	    INTEROP_ROOM="$c@conference.localhost" INTEROP_DIR="$HERE" \
	    INTEROP_ARTIFACTS="$ART" INTEROP_LOG_PREFIX="$ART/$c" \
	    PEER_LOG="$ART/$c.peer.log" \
	    timeout -k 5 "$TIMEOUT_S" "${cmd[@]}" \
	    </dev/null >"$ART/$c.out" 2>"$ART/$c.log"
	echo $? >"$tmp/$c.rc"
}

started=$(date +%s)
pids=()
for c in "${clients[@]}"; do
	# At most JOBS at once; never wait for the server itself.
	while [ "$(jobs -rp | grep -cvx "$srv_pid")" -ge "$JOBS" ]; do
		wait -n "${pids[@]}" 2>/dev/null
	done
	run_client "$c" &
	pids+=($!)
done
wait "${pids[@]}"
elapsed=$(($(date +%s) - started))

# The tables: the client rows, then the PEP rows, then the MAM rows,
# each with its steps.
notes=$tmp/notes
: >"$notes"
: >"$ART/table.md"
table() {
	local steps=$1 c s w line md mdsep out rc skip l st why cell
	shift
	[ $# -eq 0 ] && return
	w=14
	for c in "$@"; do [ ${#c} -ge $w ] && w=$((${#c} + 1)); done
	line=$(printf "%-${w}s" client)
	md="| client |"
	mdsep="| --- |"
	for s in $steps; do
		line="$line $s"
		md="$md $s |"
		mdsep="$mdsep --- |"
	done
	echo "$line"
	{ echo "$md"; echo "$mdsep"; } >>"$ART/table.md"
	for c in "$@"; do
		out=$ART/$c.out
		rc=$(cat "$tmp/$c.rc" 2>/dev/null || echo 1)
		line=$(printf "%-${w}s" "$c")
		md="| $c |"
		skip=$(grep -m1 '^skip' "$out" 2>/dev/null | sed 's/^skip *//')
		if grep -q '^skip' "$out" 2>/dev/null && ! grep -q '^step ' "$out"; then
			for s in $steps; do
				line="$line $(printf "%-${#s}s" SKIP)"
				md="$md SKIP |"
			done
			echo "$c: SKIP: $skip" >>"$notes"
			skipped=$((skipped + 1))
		else
			for s in $steps; do
				l=$(grep -m1 "^step $s " "$out" 2>/dev/null)
				st=$(echo "$l" | awk '{print $3}')
				why=$(echo "$l" | cut -d' ' -f4-)
				[ "$(echo "$l" | wc -w)" -le 3 ] && why=
				case $st in
				ok) passed=$((passed + 1)); cell=ok ;;
				n/a) cell=n/a; echo "$c $s n/a: $why" >>"$notes" ;;
				FAIL)
					failed=$((failed + 1)); cell=FAIL
					echo "$c $s FAIL: $why" >>"$notes" ;;
				*)
					failed=$((failed + 1)); cell=FAIL
					why="not run"
					[ "$rc" = 124 ] && why="not run (timed out after ${TIMEOUT_S}s)"
					[ -n "$l" ] && why="bad line: $l"
					if ! grep -q '^step ' "$out" 2>/dev/null; then
						why="$why (rc $rc; stderr: $(tail -n 1 "$ART/$c.log" 2>/dev/null | cut -c1-120))"
					fi
					echo "$c $s FAIL: $why" >>"$notes" ;;
				esac
				# ok and mechanism names etc. are kept for the notes.
				if [ "$cell" = ok ] && [ -n "$why" ]; then
					echo "$c $s ok: $why" >>"$notes"
				fi
				line="$line $(printf "%-${#s}s" "$cell")"
				md="$md $cell |"
			done
		fi
		echo "$line"
		echo "$md" >>"$ART/table.md"
	done
}
cl_rows=() pep_rows=() mam_rows=() up_rows=()
for c in "${clients[@]}"; do
	case $(steps_of "$c") in
	"$PEP_STEPS") pep_rows+=("$c") ;;
	"$MAM_STEPS") mam_rows+=("$c") ;;
	"$UPLOAD_STEPS") up_rows+=("$c") ;;
	*) cl_rows+=("$c") ;;
	esac
done
tables=0
for group in cl pep mam up; do
	case $group in
	cl) steps=$STEPS rows=("${cl_rows[@]}") ;;
	pep) steps=$PEP_STEPS rows=("${pep_rows[@]}") ;;
	mam) steps=$MAM_STEPS rows=("${mam_rows[@]}") ;;
	up) steps=$UPLOAD_STEPS rows=("${up_rows[@]}") ;;
	esac
	[ ${#rows[@]} -eq 0 ] && continue
	[ $tables -gt 0 ] && { echo; echo >>"$ART/table.md"; }
	table "$steps" "${rows[@]}"
	tables=$((tables + 1))
done
echo
sed 's/^/  /' "$notes"
{ echo; sed 's/^/- /' "$notes"; } >>"$ART/table.md"

# The server must have survived every client and must stop cleanly.
if ! kill -0 "$srv_pid" 2>/dev/null; then
	fail server "uxmppd died during the run: $(tail -n 3 "$tmp/stderr")"
	srv_pid=
else
	stop_server
	rc=$?
	if [ "$rc" -ne 0 ]; then
		fail server "exit status $rc after SIGTERM"
	fi
fi
if sanitizer_report "$tmp/stderr" "$ART/uxmppd.log"; then
	fail server "sanitizer report (see $ART/uxmppd.log)"
fi
echo "logs: $ART (${elapsed}s)"
summary
