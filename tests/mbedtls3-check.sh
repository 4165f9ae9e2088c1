#!/bin/sh
# tests/mbedtls3-check.sh - uxmppd against mbedTLS 3.6 (make test-mbedtls3).
#
# Debian 12 ships mbedTLS 2.28, which `make test` uses.  This check builds
# uxmppd against Debian 13's mbedTLS 3.6 as well:
#   fetch    the mbedtls source package from Debian's mirror with a private
#            apt configuration (sources list, lists, caches all under
#            MBEDTLS3_CACHE; the machine's apt state is not touched), and
#            the upstream tarball's SHA-256 checked against the one below;
#            when the suite has moved to a newer 3.6 point release, that
#            one (verified by apt against the signed archive) is built
#            instead, with a NOTE line, so a Debian update cannot break CI
#   lib      the static libraries built with plain make (library/Makefile)
#            after Debian's config.h changes (debian/rules)
#   build    uxmppd, the runner and the TLS unit tests in their own BUILD
#            dir with MBEDTLS_PREFIX (Makefile) pointing at that build
#   linked   those objects used the 3.6 headers and no libmbed*.so
#   test_*   test_tls, test_sasl, test_c2s
#   tls-test tests/tls-test.sh, and from its output tls13/exporter: a TLS
#            1.3 session (openssl s_client) and SCRAM-*-PLUS with
#            tls-exporter (uxmppd's runner); tls12: slixmpp's SCRAM-*-PLUS
#            with tls-unique over TLS 1.2
#   scenarios every scenario over STARTTLS (tests/run-scenarios.sh)
# The download and the library build are kept in MBEDTLS3_CACHE (default
# /var/tmp/uxmppd-mbedtls3) and reused.  Without a cached build and
# without access to the mirror it prints SKIP and "0 passed, 0 failed".
# Prints PASS/FAIL lines and "N passed, N failed" (the sum of the steps'
# own counts; fetch, lib, build and linked count one each).
#
# Environment: MBEDTLS3_CACHE, MBEDTLS3_MIRROR (a Debian mirror, default
# http://deb.debian.org/debian), MBEDTLS3_BUILD (default "$BUILD-mbedtls3",
# i.e. build-mbedtls3), CC.
TEST_NAME=m3
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1
CACHE=${MBEDTLS3_CACHE:-/var/tmp/uxmppd-mbedtls3}
MIRROR=${MBEDTLS3_MIRROR:-http://deb.debian.org/debian}
SUITE=trixie
VER=3.6.6
SHA256=8fb65fae8dcae5840f793c0a334860a411f884cc537ea290ce1c52bb64ca007a
TARBALL=mbedtls_$VER.orig.tar.bz2
B3=${MBEDTLS3_BUILD:-${BUILD:-build}-mbedtls3}
PREFIX=$CACHE/mbedtls-$VER-prefix
JOBS=$(nproc 2>/dev/null || echo 2)

# tests/lib.sh's fail, with the end of $tmp/out: a build's error is last.
fail() {
	echo "FAIL $1: $2"
	failed=$((failed + 1))
	if [ -s "$tmp/out" ]; then
		tail -n 20 "$tmp/out" | sed 's/^/    | /'
	fi
}
finish() {
	summary
	exit
}
# A step with its own "N passed, N failed" line in $tmp/out: add its
# counts (tests/lib.sh's count_step) and say PASS or FAIL.
counted() {
	count_step "$2" "$tmp/out"
	if [ "$step_failed" -eq 0 ]; then
		echo "PASS $1: $step_line"
	else
		echo "FAIL $1: ${step_line:-exit $2}"
		grep -E '^(FAIL|SKIP)|FAILED|: (CHECK|check) ' "$tmp/out" | head -n 20 |
		    sed 's/^/    | /'
	fi
}

mkdir -p "$CACHE" || { fail cache "cannot create $CACHE"; finish; }
# One run at a time per cache.
if command -v flock >/dev/null 2>&1; then
	exec 9>"$CACHE/lock"
	flock 9
fi

# --- fetch: Debian 13's source package, private apt state ---
# Every apt path is redirected into $CACHE/apt: no file under /etc/apt or
# /var/lib/apt, /var/cache/apt is written, and the machine's sources
# (sources.list.d) are not read.  apt.conf.d still applies (proxies).
# Downloads run as the calling user (APT::Sandbox::User), so the cache
# needs no permissions for _apt; InRelease is still signature-checked.
apt_private() {
	a=$CACHE/apt
	apt-get -q -o Dir::Etc::sourcelist="$a/sources.list" \
	    -o Dir::Etc::sourceparts="$a/sources.list.d" \
	    -o Dir::Etc::preferencesparts="$a/preferences.d" \
	    -o Dir::State="$a/state" -o Dir::State::Lists="$a/state/lists" \
	    -o Dir::Cache="$a/cache" -o Acquire::Languages=none \
	    -o APT::Sandbox::User="$(id -un)" "$@"
}
fetch() {
	a=$CACHE/apt
	key=/usr/share/keyrings/debian-archive-keyring.gpg
	[ -e "$key" ] || key=/usr/share/keyrings/debian-archive-keyring.pgp
	if ! command -v apt-get >/dev/null 2>&1 || [ ! -e "$key" ]; then
		echo "SKIP mbedtls3: no apt-get or no Debian archive keyring here"
		finish
	fi
	mkdir -p "$a/sources.list.d" "$a/preferences.d" \
	    "$a/state/lists/partial" "$a/cache/archives/partial" "$CACHE/src"
	echo "deb-src [signed-by=$key] $MIRROR $SUITE main" >"$a/sources.list"
	apt_private update >"$tmp/out" 2>&1
	rc=$?
	# No way to the mirror is a SKIP; anything else (a bad signature,
	# a missing suite) a FAIL.
	if grep -q -E 'Could not resolve|Temporary failure|Could not connect|Connection (failed|timed out|refused)|Network is unreachable|No route to host' "$tmp/out"; then
		echo "SKIP mbedtls3: cannot reach $MIRROR ($SUITE)"
		tail -n 5 "$tmp/out" | sed 's/^/    | /'
		finish
	fi
	if [ $rc -ne 0 ] || grep -q -E '^(W|E): ' "$tmp/out"; then
		fail fetch "apt-get update ($MIRROR $SUITE) failed"
		finish
	fi
	rm -f "$CACHE/src/"mbedtls_*
	if ! (cd "$CACHE/src" && apt_private source --download-only mbedtls) \
	    >"$tmp/out" 2>&1; then
		fail fetch "apt-get source mbedtls ($SUITE) failed"
		finish
	fi
	if [ ! -f "$CACHE/src/$TARBALL" ]; then
		# A newer 3.6 point release in the suite: apt has checked it
		# against Debian's signed archive, so build that one rather
		# than fail CI over a distribution update (the pin below is
		# for the version last reviewed).
		other=$(cd "$CACHE/src" && ls mbedtls_3.6.*.orig.tar.bz2 2>/dev/null |
		    head -n 1)
		if [ -z "$other" ]; then
			: >"$tmp/out"
			fail fetch "$SUITE ships no mbedTLS 3.6 tarball: $(cd \
			    "$CACHE/src" && ls 2>/dev/null | tr '\n' ' ')"
			finish
		fi
		echo "NOTE $SUITE now ships $other (apt verified it against" \
		    "the signed archive); $TARBALL is the version last pinned"
		TARBALL=$other
		VER=${other#mbedtls_}
		VER=${VER%.orig.tar.bz2}
		SHA256=$(sha256sum "$CACHE/src/$TARBALL" | cut -d' ' -f1)
		PREFIX=$CACHE/mbedtls-$VER-prefix
	fi
}

sum_ok() {
	[ -f "$CACHE/src/$TARBALL" ] &&
	    [ "$(sha256sum "$CACHE/src/$TARBALL" | cut -d' ' -f1)" = "$SHA256" ]
}

# The configuration debian/rules (13) sets on top of upstream's default,
# then the static libraries into $PREFIX/include and $PREFIX/lib.
build_lib() (
	# (set -e does not apply inside an if condition: exit by hand)
	rm -rf "$CACHE/mbedtls-$VER" "$PREFIX"
	tar -C "$CACHE" -xjf "$CACHE/src/$TARBALL" || exit 1
	cd "$CACHE/mbedtls-$VER" || exit 1
	for opt in MBEDTLS_DEPRECATED_WARNING MBEDTLS_THREADING_C \
	    MBEDTLS_THREADING_PTHREAD MBEDTLS_CMAC_C MBEDTLS_SSL_DTLS_SRTP; do
		python3 scripts/config.py set $opt || exit 1
	done
	env -u MAKEFLAGS -u MFLAGS make -C library -j"$JOBS" static || exit 1
	mkdir -p "$PREFIX/lib" && cp -R include "$PREFIX/" &&
	    cp library/libmbedcrypto.a library/libmbedx509.a \
	    library/libmbedtls.a "$PREFIX/lib/"
)

if [ -f "$PREFIX/stamp" ] && [ "$(cat "$PREFIX/stamp")" = "$SHA256" ]; then
	pass fetch "cached $TARBALL in $CACHE"
	pass lib "cached static libraries in $PREFIX"
else
	if sum_ok; then
		pass fetch "cached $TARBALL, sha256 $SHA256"
	else
		fetch
		if ! sum_ok; then
			: >"$tmp/out"
			fail fetch "$TARBALL: sha256 $(sha256sum "$CACHE/src/$TARBALL" | cut -d' ' -f1), expected $SHA256"
			rm -f "$CACHE/src/$TARBALL"
			finish
		fi
		pass fetch "$TARBALL from $MIRROR $SUITE, sha256 $SHA256"
	fi
	# --- lib: Debian's configuration, static libraries, plain make ---
	if ! build_lib >"$tmp/out" 2>&1; then
		fail lib "building mbedTLS $VER failed"
		finish
	fi
	rm -rf "$CACHE/mbedtls-$VER"
	echo "$SHA256" >"$PREFIX/stamp"
	pass lib "mbedTLS $VER static libraries (Debian's config) in $PREFIX"
fi

# --- build: uxmppd, the runner and the unit tests against it ---
UXMPPD=$ROOT/$B3/uxmppd
SCANSION=$ROOT/$B3/scansion
export UXMPPD SCANSION
BUILD=$B3
export BUILD
if env -u MAKEFLAGS -u MFLAGS make --no-print-directory -j"$JOBS" \
    BUILD="$B3" MBEDTLS_PREFIX="$PREFIX" "$B3/uxmppd" "$B3/scansion" \
    "$B3/test_tls" "$B3/test_sasl" "$B3/test_c2s" >"$tmp/out" 2>&1; then
	pass build "$B3/uxmppd, scansion, test_tls, test_sasl, test_c2s"
else
	fail build "make BUILD=$B3 MBEDTLS_PREFIX=$PREFIX failed"
	finish
fi
: >"$tmp/out"
if grep -q "$PREFIX/include/mbedtls/ssl.h" "$B3/tls.d" &&
    ! grep -q "/usr/include/mbedtls/" "$B3/tls.d" &&
    ! ldd "$UXMPPD" "$B3/test_tls" 2>/dev/null | grep -q libmbed; then
	pass linked "$VER headers, static libraries, no libmbed*.so"
else
	fail linked "$B3 did not use $PREFIX only"
fi

# --- the tests ---
for t in test_tls test_sasl test_c2s; do
	"$B3/$t" >"$tmp/out" 2>&1
	counted "$t" $?
done
sh tests/tls-test.sh >"$tmp/out" 2>&1
counted tls-test $?
cp "$tmp/out" "$tmp/tls.out"
: >"$tmp/out"
if grep -q -E '^PASS openssl-starttls: .*TLSv1\.3' "$tmp/tls.out"; then
	pass tls13 "openssl s_client negotiated TLS 1.3"
else
	fail tls13 "no TLS 1.3 with openssl s_client (see openssl-* above)"
fi
if grep -q -E '^PASS scansion-starttls: .*PLUS tls-exporter' "$tmp/tls.out"; then
	pass exporter "SCRAM-SHA-256-PLUS bound with tls-exporter"
else
	fail exporter "no SCRAM-*-PLUS with tls-exporter (see scansion-* above)"
fi
# Python's ssl binds only with tls-unique, so tests/tls-client.py stays
# on TLS 1.2: the 3.x server's TLS 1.2 path and its tls-unique.
if grep -q -E '^PASS slixmpp-SCRAM-SHA-256-PLUS: .*TLSv1\.2' "$tmp/tls.out"; then
	pass tls12 "slixmpp SCRAM-SHA-256-PLUS (tls-unique) over TLS 1.2"
elif grep -q '^SKIP slixmpp' "$tmp/tls.out"; then
	echo "SKIP tls12: python3-slixmpp not installed"
else
	fail tls12 "no SCRAM-*-PLUS over TLS 1.2 (see slixmpp-* above)"
fi
SCANSION_TLS=starttls sh tests/run-scenarios.sh >"$tmp/out" 2>&1
counted scenarios-starttls $?
finish
