#!/bin/sh
# Make sure mbedTLS's headers are there; install them when we can.
hdr=/usr/include/mbedtls/ssl.h
probe() { printf '#include <mbedtls/ssl.h>\nint main(void){return 0;}\n' |
	${CC:-cc} -x c - -fsyntax-only >/dev/null 2>&1; }
probe && exit 0
if [ "$(id -u)" = 0 ]; then
	if command -v apt-get >/dev/null 2>&1; then
		echo "uxmppd: installing libmbedtls-dev with apt-get" >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q libmbedtls-dev >/dev/null ||
		{ apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q libmbedtls-dev >/dev/null; }
	elif command -v apk >/dev/null 2>&1; then
		apk add mbedtls-dev
	elif command -v opkg >/dev/null 2>&1; then
		opkg update && opkg install libmbedtls
	fi
	probe && exit 0
fi
echo "uxmppd: mbedTLS headers ($hdr) missing; install them: Debian/Ubuntu: 'apt-get install libmbedtls-dev', Alpine: 'apk add mbedtls-dev', OpenWrt: 'opkg install libmbedtls' (as root)" >&2
exit 1
