# tests/interop/peer.sh - drive tests/interop/peer.py from a bash client
# script.  Source it (bash, not sh: it needs read -t/-u):
#
#   . "$INTEROP_DIR/peer.sh"
#   peer_start JID PASSWORD [SLOT]     SLOT 1 (default), 2 or 3: up to three
#                                      controllers at once
#   peer_cmd [SLOT] COMMAND ARGS...    returns 0 on "ok"; the rest of the
#                                      answer (data or reason) in $PEER_REPLY
#   peer_stop [SLOT]                   quit, then kill if it lingers
#
# peer_start returns non-zero (reason in $PEER_REPLY) when the peer did not
# log in.  The peer's stderr is appended to $PEER_LOG (default: our stderr).
#   ctl_start SLOT COMMAND ARGS...     another controller with the same
#                                      protocol (e.g. strophe_client)
# Slot 1 uses file descriptors 6 and 7, slot 2 8 and 9, slot 3 4 and 5.
PEER_PY=${PEER_PY:-$(command -v /usr/bin/python3 || command -v python3)}
PEER_REPLY=
# A controller that died must make peer_cmd fail, not kill the script.
trap '' PIPE
peer_tmp=$(mktemp -d "${TMPDIR:-/tmp}/interop-peer.XXXXXX")

peer_start() {
	ctl_start "${3:-1}" "$PEER_PY" "$INTEROP_DIR/peer.py" "$1" "$2"
}

# ctl_start SLOT COMMAND ARGS...: any controller speaking this protocol
# ("ready [data]" first, then one answer line per command), e.g.
# strophe_client; the rest of its ready line is left in $PEER_REPLY.
ctl_start() {
	_s=$1
	shift
	rm -f "$peer_tmp/in$_s" "$peer_tmp/out$_s"
	mkfifo "$peer_tmp/in$_s" "$peer_tmp/out$_s" || return 1
	if [ -n "${PEER_LOG:-}" ]; then
		"$@" <"$peer_tmp/in$_s" >"$peer_tmp/out$_s" 2>>"$PEER_LOG" &
	else
		"$@" <"$peer_tmp/in$_s" >"$peer_tmp/out$_s" &
	fi
	eval "peer_pid_$_s=\$!"
	case $_s in
	2) exec 8>"$peer_tmp/in$_s" 9<"$peer_tmp/out$_s" ;;
	3) exec 4>"$peer_tmp/in$_s" 5<"$peer_tmp/out$_s" ;;
	*) exec 6>"$peer_tmp/in$_s" 7<"$peer_tmp/out$_s" ;;
	esac
	_fds $_s
	if ! read -r -t 30 -u "$_r" _line; then
		PEER_REPLY="$1 did not start"
		return 1
	fi
	case $_line in
	ready) PEER_REPLY=; return 0 ;;
	"ready "*) PEER_REPLY=${_line#ready }; return 0 ;;
	esac
	PEER_REPLY=$_line
	return 1
}

# _fds SLOT: the slot's write and read descriptors in $_w and $_r.
_fds() {
	case $1 in
	2) _w=8; _r=9 ;;
	3) _w=4; _r=5 ;;
	*) _w=6; _r=7 ;;
	esac
}

peer_cmd() {
	_s=1
	case $1 in 1|2|3) _s=$1; shift ;; esac
	_fds $_s
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
	case $_s in
	2) exec 8>&- 9<&- ;;
	3) exec 4>&- 5<&- ;;
	*) exec 6>&- 7<&- ;;
	esac
}

peer_cleanup() {
	peer_stop 1
	peer_stop 2
	peer_stop 3
	rm -rf "$peer_tmp"
}
