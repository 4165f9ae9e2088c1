# tests/interop/tmux.sh - drive a terminal client inside tmux from a bash
# client script (profanity.sh, poezio.sh).  Source it:
#
#   . "$INTEROP_DIR/tmux.sh"
#   tmux_start WIN COMMAND...    a detached window named WIN (220x50, or
#                                $TMUX_COLS x $TMUX_ROWS) running
#                                COMMAND (one private tmux server per
#                                script, no ~/.tmux.conf)
#   tmux_type WIN TEXT...        type TEXT literally, then Enter
#   tmux_wait WIN T ERE          poll the visible screen (every 0.1 s, up
#                                to T seconds) until a line matches the
#                                extended regex ERE; 0 if it did.  The
#                                last screen is in $TMUX_SCREEN, the first
#                                matching line in $TMUX_LINE
#   tmux_save WIN NAME           keep the screen as an artifact:
#                                $INTEROP_LOG_PREFIX.NAME.txt
#   tmux_alive WIN               0 while WIN's program still runs
#   tmux_stop                    end the tmux server (and the clients)
#
# Wait on conditions, never on fixed sleeps: every check is a tmux_wait
# for a line that only the awaited event can put on the screen (use a
# fresh token in message bodies).
TMUX_SOCK=interop-${INTEROP_CLIENT:-client}-$$
TMUX_SCREEN=
TMUX_LINE=

_tm() { tmux -L "$TMUX_SOCK" "$@"; }

tmux_start() {
	_w=$1
	shift
	if _tm has-session -t "=uxi" 2>/dev/null; then
		_tm new-window -d -t uxi -n "$_w" "$@"
	else
		# remain-on-exit keeps a crashed client's last screen readable.
		_tm -f /dev/null new-session -d -s uxi -n "$_w" -x "${TMUX_COLS:-220}" -y "${TMUX_ROWS:-50}" "$@" &&
		    _tm set-option -t uxi -g remain-on-exit on >/dev/null &&
		    _tm set-option -t uxi -g history-limit 5000 >/dev/null
	fi
}

tmux_type() {
	_w=$1
	shift
	_tm send-keys -t "uxi:$_w" -l -- "$*" && _tm send-keys -t "uxi:$_w" Enter
}

tmux_screen() { _tm capture-pane -p -J -t "uxi:$1" 2>/dev/null; }

tmux_wait() {
	_w=$1 _t=$2 _re=$3
	_end=$(($(date +%s%N) / 1000000 + ${_t%.*} * 1000))
	while :; do
		TMUX_SCREEN=$(tmux_screen "$_w")
		TMUX_LINE=$(printf '%s\n' "$TMUX_SCREEN" | grep -m1 -E -- "$_re")
		[ -n "$TMUX_LINE" ] && return 0
		[ "$(($(date +%s%N) / 1000000))" -ge "$_end" ] && return 1
		sleep 0.1
	done
}

tmux_save() {
	[ -n "${INTEROP_LOG_PREFIX:-}" ] || return 0
	tmux_screen "$1" >"$INTEROP_LOG_PREFIX.$2.txt"
}

tmux_alive() {
	[ "$(_tm display-message -p -t "uxi:$1" '#{pane_dead}' 2>/dev/null)" = 0 ]
}

tmux_stop() { _tm kill-server 2>/dev/null; }
