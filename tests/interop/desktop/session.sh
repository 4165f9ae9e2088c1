# tests/interop/desktop/session.sh - the X session of a desktop client
# script (clients/gajim.sh, clients/dino.sh).  Source it after peer.sh
# and steps.sh, with APP set (gajim, dino).  It creates $work, a
# temporary directory with the app's HOME $h=$work/home, and sets a trap
# that at exit stops $gpid (the app), $fpid (a helper of the script, when
# set), the D-Bus daemon and Xvfb, keeps $work/$APP.log as
# $INTEROP_LOG_PREFIX.$APP.log, stops the peers and removes $work.
# $asuser runs a command as nobody under root (Gajim refuses root).
#
#   desktop_x          Xvfb on a free display ($dn, DISPLAY) and GENV, the
#                      app's environment (env -i, HOME=$h, XDG_* under it);
#                      when Xvfb does not start, the login step FAILs and
#                      the script ends
#   desktop_bus        $work to nobody (under root), then a D-Bus session
#                      bus whose address GENV gets: call it once the
#                      profile is written
#   wait_window NAME T a window titled NAME is mapped within T seconds
#   shot NAME          a screenshot, $INTEROP_LOG_PREFIX.NAME.png; also
#                      each step's artifact (save_step, steps.sh)
#   type_in TEXT       click the open chat's message input (at $INPUT_X,
#                      $INPUT_Y), type TEXT, Enter
work=$(mktemp -d "${TMPDIR:-/tmp}/interop-$APP.XXXXXX")
h=$work/home
xpid= dbpid= gpid= fpid=
finish() {
	[ -n "$gpid" ] && kill "$gpid" 2>/dev/null
	[ -n "$dbpid" ] && kill "$dbpid" 2>/dev/null
	[ -n "$xpid" ] && kill "$xpid" 2>/dev/null
	[ -n "$fpid" ] && kill "$fpid" 2>/dev/null
	cp "$work/$APP.log" "$INTEROP_LOG_PREFIX.$APP.log" 2>/dev/null
	peer_cleanup
	rm -rf "$work"
}
trap finish EXIT
asuser=
[ "$(id -u)" = 0 ] && asuser="setpriv --reuid=65534 --regid=65534 --clear-groups"

desktop_x() {
	# Xvfb on a free display (-displayfd: Xvfb picks it and tells us).
	mkfifo "$work/dfd"
	Xvfb -displayfd 3 -screen 0 1280x900x24 -nolisten tcp 3>"$work/dfd" \
	    >"$work/xvfb.log" 2>&1 &
	xpid=$!
	read -r -t 10 dn <"$work/dfd"
	if [ -z "$dn" ]; then
		step login FAIL "Xvfb did not start: $(tail -n 2 "$work/xvfb.log")"
		exit 0
	fi
	export DISPLAY=:$dn
	mkdir -p "$h/run"
	chmod 700 "$h/run"
	GENV=(env -i HOME="$h" PATH=/usr/bin:/bin DISPLAY=":$dn" LANG=C.UTF-8 NO_AT_BRIDGE=1 GTK_A11Y=none
	    XDG_CONFIG_HOME="$h/.config" XDG_DATA_HOME="$h/.local/share"
	    XDG_CACHE_HOME="$h/.cache" XDG_RUNTIME_DIR="$h/run")
}

desktop_bus() {
	[ -n "$asuser" ] && chown -R 65534:65534 "$work"
	read -r dbaddr dbpid < <($asuser "${GENV[@]}" dbus-daemon --session --fork \
	    --print-address=1 --print-pid=1 | tr '\n' ' ')
	GENV+=(DBUS_SESSION_BUS_ADDRESS="$dbaddr")
}

wait_window() {
	for _i in $(seq $(($2 * 10))); do
		xdotool search --onlyvisible --name "$1" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

shot() { import -display ":$dn" -window root "$INTEROP_LOG_PREFIX.$1.png" 2>/dev/null; }
save_step() { shot "$1"; }

type_in() {
	xdotool mousemove "$INPUT_X" "$INPUT_Y" click 1
	sleep 0.3
	xdotool type --delay 15 "$1"
	xdotool key Return
}
