#!/bin/sh
# tests/browser-test.sh - a real browser in make test: the interop row of
# Converse.js in headless Chromium (tests/interop/clients/converse.js:
# login over WebSocket, roster, presence, messages both ways with a
# native client, a room joined and bookmarked, groupchat both ways, a
# screenshot in build/browser/converse.png).  SKIP when Chromium or the
# npm packages (tests/interop/install-deps.sh installs both) are missing.
TEST_NAME=browser
. "$(dirname "$0")/lib.sh"
chromium=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
	skip converse "$chromium not installed (apt-get install chromium)"
	summary
	exit
fi
if [ ! -d "$ROOT/tests/interop/node_modules/converse.js" ] ||
    [ ! -d "$ROOT/tests/interop/node_modules/playwright-core" ]; then
	skip converse "converse.js/playwright-core not installed (sh tests/interop/install-deps.sh)"
	summary
	exit
fi
INTEROP_ARTIFACTS=${INTEROP_ARTIFACTS:-$ROOT/${BUILD:-build}/browser} \
    bash "$ROOT/tests/interop/run.sh" converse >"$tmp/out" 2>&1
rc=$?
grep -E '^  converse' "$tmp/out"
count_step $rc "$tmp/out"
summary
