#!/bin/sh
# tests/interop/install-deps.sh - install what the interop clients need
# (Debian/Ubuntu, as root): apt packages that are missing, then the npm
# packages of tests/interop/package-lock.json.  Prints what it installs
# and why; installs nothing that is already there.
set -u
cd "$(dirname "$0")" || exit 1

# package  why
want="python3-slixmpp:the reference peer (peer.py) and the slixmpp row
python3-nbxmpp:the nbxmpp row (Gajim's XMPP library)
python3-aioxmpp:the aioxmpp row
python3-aiohttp:the slixmpp-upload row (slixmpp's XEP-0363 PUT, the HTTPS download)
libstrophe-dev:the libstrophe row (strophe_client.c, built by make interop)
pkg-config:finding libstrophe for make interop
go-sendxmpp:the go-sendxmpp row (go-xmpp)
nodejs:the xmpp.js row
npm:installing xmpp.js (@xmpp/client) from package-lock.json
chromium:the Converse.js row (a real browser, headless; make test too)
tmux:terminal clients driven in tmux (profanity, poezio rows)"

missing=
echo "$want" | {
	while IFS=: read -r pkg why; do
		if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null |
		    grep -q "install ok installed"; then
			continue
		fi
		# nodejs/npm may come from elsewhere (nodesource, nvm)
		case $pkg in
		nodejs) command -v node >/dev/null && continue ;;
		npm) command -v npm >/dev/null && continue ;;
		esac
		echo "install-deps: $pkg: for $why"
		missing="$missing $pkg"
	done
	if [ -n "$missing" ]; then
		if [ "$(id -u)" -ne 0 ]; then
			echo "install-deps: run as root: apt-get install -y$missing"
			exit 1
		fi
		echo "install-deps: apt-get update, then apt-get install -y$missing"
		apt-get update -q >/dev/null || exit 1
		DEBIAN_FRONTEND=noninteractive apt-get install -y $missing || exit 1
	fi
} || exit 1

if [ ! -d node_modules/@xmpp/client ] || [ ! -d node_modules/converse.js ] ||
    [ ! -d node_modules/playwright-core ]; then
	echo "install-deps: npm ci in tests/interop: xmpp.js (@xmpp/client), converse.js and playwright-core as pinned in package-lock.json"
	npm ci --no-audit --no-fund || exit 1
fi
echo "install-deps: done"
