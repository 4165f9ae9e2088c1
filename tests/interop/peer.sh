# tests/interop/peer.sh - drive tests/interop/peer.py from a bash client
# script.  Source it (bash, not sh: it needs read -t/-u):
#
#   . "$INTEROP_DIR/peer.sh"
#   peer_start JID PASSWORD [SLOT]     SLOT 1 (default) or 2: two peers at once
#   peer_cmd [SLOT] COMMAND ARGS...    returns 0 on "ok"; the rest of the
#                                      answer (data or reason) in $PEER_REPLY
#   peer_stop [SLOT]                   quit, then kill if it lingers
#
# peer_start returns non-zero (reason in $PEER_REPLY) when the peer did not
# log in.  The peer's stderr is appended to $PEER_LOG (default: our stderr).
# Slot 1 uses file descriptors 6 and 7, slot 2 uses 8 and 9.
PEER_PY=${PEER_PY:-$(command -v /usr/bin/python3 || command -v python3)}
PEER_REPLY=
peer_tmp=$(mktemp -d "${TMPDIR:-/tmp}/interop-peer.XXXXXX")

peer_start() {
	_s=${3:-1}
	mkfifo "$peer_tmp/in$_s" "$peer_tmp/out$_s" || return 1
	if [ -n "${PEER_LOG:-}" ]; then
		"$PEER_PY" "$INTEROP_DIR/peer.py" "$1" "$2" \
		    <"$peer_tmp/in$_s" >"$peer_tmp/out$_s" 2>>"$PEER_LOG" &
	else
		"$PEER_PY" "$INTEROP_DIR/peer.py" "$1" "$2" \
		    <"$peer_tmp/in$_s" >"$peer_tmp/out$_s" &
	fi
	eval "peer_pid_$_s=\$!"
	if [ "$_s" = 2 ]; then
		exec 8>"$peer_tmp/in$_s" 9<"$peer_tmp/out$_s"
	else
		exec 6>"$peer_tmp/in$_s" 7<"$peer_tmp/out$_s"
	fi
	_fd=$([ "$_s" = 2 ] && echo 9 || echo 7)
	if ! read -r -t 30 -u "$_fd" _line; then
		PEER_REPLY="peer.py did not start"
		return 1
	fi
	if [ "$_line" != ready ]; then
		PEER_REPLY=$_line
		return 1
	fi
	return 0
}

peer_cmd() {
	_s=1
	case $1 in 1|2) _s=$1; shift ;; esac
	_w=$([ "$_s" = 2 ] && echo 8 || echo 6)
	_r=$([ "$_s" = 2 ] && echo 9 || echo 7)
	if ! echo "$*" >&"$_w" 2>/dev/null; then
		PEER_REPLY="peer exited"
		return 1
	fi
	if ! read -r -t 60 -u "$_r" _line; then
		PEER_REPLY="no answer from peer"
		return 1
	fi
	case $_line in
	ok) PEER_REPLY=; return 0 ;;
	"ok "*) PEER_REPLY=${_line#ok }; return 0 ;;
	"fail "*) PEER_REPLY=${_line#fail }; return 1 ;;
	*) PEER_REPLY="peer said: $_line"; return 1 ;;
	esac
}

peer_stop() {
	_s=${1:-1}
	eval "_pid=\${peer_pid_$_s:-}"
	[ -n "$_pid" ] || return 0
	peer_cmd "$_s" quit >/dev/null 2>&1
	for _i in 1 2 3 4 5 6 7 8 9 10; do
		kill -0 "$_pid" 2>/dev/null || break
		sleep 0.2
	done
	kill -KILL "$_pid" 2>/dev/null
	wait "$_pid" 2>/dev/null
	eval "peer_pid_$_s="
	if [ "$_s" = 2 ]; then exec 8>&- 9<&-; else exec 6>&- 7<&-; fi
}

peer_cleanup() {
	peer_stop 1
	peer_stop 2
	rm -rf "$peer_tmp"
}
