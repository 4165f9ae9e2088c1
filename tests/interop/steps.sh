# tests/interop/steps.sh - the step bookkeeping of a bash client script
# (libstrophe.sh, profanity.sh, poezio.sh, gajim.sh, dino.sh).  Source it
# after peer.sh:
#
#   need_cmds HINT CMD...  unless every CMD is on PATH: print "skip CMD not
#                          installed (HINT)" and end the script (status 0)
#   step NAME ok|FAIL|n/a [REASON]   one result line for run.sh
#   P ARG...               a peer.sh command to the peer in slot 1
#   try CMD ARG...         run it unless a check of this step already
#                          failed; when it fails, fail="CMD ARG: $PEER_REPLY"
#   result NAME [DETAIL]   the step's line, ok with DETAIL or FAIL with the
#                          first failure, and a fresh $fail; first it calls
#                          save_step NAME when the script defines it (a
#                          screen or a screenshot as an artifact)
#   see T ERE WHAT         (with tmux.sh) the screen of window $W shows a
#                          line matching ERE within T seconds, else
#                          fail="not on $SCREEN_OF's screen ...: WHAT"
#   re TEXT                TEXT as an extended regex that matches itself
fail=

need_cmds() {
	_hint=$1
	shift
	for _c in "$@"; do
		if ! command -v "$_c" >/dev/null; then
			echo "skip $_c not installed ($_hint)"
			exit 0
		fi
	done
}

step() { echo "step $*"; }

P() { peer_cmd 1 "$@"; }

try() { [ -n "$fail" ] && return 1; "$@" || fail="$1 $2: $PEER_REPLY"; }

result() {
	if declare -F save_step >/dev/null; then
		save_step "$1"
	fi
	if [ -z "$fail" ]; then step "$1" ok "${2:-}"; else step "$1" FAIL "$fail"; fi
	fail=
}

see() {
	[ -n "$fail" ] && return 1
	tmux_wait "$W" "$1" "$2" ||
	    fail="not on ${SCREEN_OF:-the client}'s screen within ${1}s: $3"
}

re() { printf '%s' "$1" | sed 's/[][\.*^$+?(){}|/]/\\&/g'; }
