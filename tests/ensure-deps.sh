#!/bin/sh
# tests/ensure-deps.sh - run by make before it builds anything.  uxmppd's
# only build dependency is mbedTLS (TLS, STARTTLS, the SCRAM hashes and the
# random numbers; libmbedtls, libmbedx509 and libmbedcrypto).  With its
# headers present this prints nothing.  Without them, as root, it says what
# it installs and why, shows each command, and installs the one package;
# as another user it names the command to run and stops make.
hdr=mbedtls/ssl.h
probe() { printf '#include <%s>\nint main(void){return 0;}\n' "$hdr" |
	${CC:-cc} -x c - -fsyntax-only >/dev/null 2>&1; }
say() { echo "uxmppd: $*" >&2; }
# Show a command, then run it.
run() { say "+ $*"; "$@"; }
probe && exit 0
if [ "$(id -u)" = 0 ]; then
	say "the mbedTLS headers (<$hdr>) are missing; uxmppd is built against"
	say "mbedTLS for TLS and SCRAM.  make runs as root, so it installs the"
	say "package with the headers (and the mbedTLS libraries it needs) with"
	say "the system's package manager, and nothing else:"
	if command -v apt-get >/dev/null 2>&1; then
		export DEBIAN_FRONTEND=noninteractive
		run apt-get install -y -q libmbedtls-dev ||
		{ run apt-get update -q && run apt-get install -y -q libmbedtls-dev; }
	elif command -v apk >/dev/null 2>&1; then
		run apk add mbedtls-dev
	elif command -v opkg >/dev/null 2>&1; then
		run opkg update && run opkg install libmbedtls
	else
		say "no apt-get, apk or opkg here"
	fi
	if probe; then
		say "mbedTLS headers installed; building"
		exit 0
	fi
fi
say "mbedTLS headers (<$hdr>) missing; install them: Debian/Ubuntu: 'apt-get install libmbedtls-dev', Alpine: 'apk add mbedtls-dev', OpenWrt: 'opkg install libmbedtls' (as root)"
exit 1
