#!/bin/sh
# tests/interop/install-apps.sh [desktop] - install the XMPP client apps
# of the interop matrix (Debian/Ubuntu, as root), printing what and why;
# installs nothing that is already there.  Without an argument: the
# terminal clients that make interop runs (CI); "desktop": also what
# make interop-desktop needs.  The libraries and the reference peer:
# tests/interop/install-deps.sh.
set -u
want="tmux:terminal clients are driven in tmux (send-keys, capture-pane)
profanity:the profanity row (clients/profanity.sh)
poezio:the poezio row (clients/poezio.sh)
openssl:certificate fingerprints the terminal clients are checked against
iproute2:ss -K cuts a client's TCP connection for the sm-resume step"
if [ "${1:-}" = desktop ]; then
	want="$want
xvfb:an X display for the desktop clients
gajim:the Gajim row (clients/gajim.sh, make interop-desktop)
dino-im:the Dino row (make interop-desktop)
xdotool:typing and clicking into the desktop clients
imagemagick:screenshots (import -window root) kept as test artifacts
sqlite3:reading the desktop clients' message stores
dbus-daemon:a private D-Bus session bus for each desktop client"
fi
missing=
nl='
'
IFS=$nl
for line in $want; do
	pkg=${line%%:*} why=${line#*:}
	if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
		continue
	fi
	echo "install-apps: $pkg: for $why"
	missing="$missing $pkg"
done
unset IFS
if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "install-apps: run as root: apt-get install -y$missing"
		exit 1
	fi
	echo "install-apps: apt-get install -y$missing"
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y $missing || exit 1
fi
echo "install-apps: done"
