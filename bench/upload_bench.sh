#!/bin/sh
# bench/upload_bench.sh [MB] - XEP-0363 transfer throughput over loopback:
# a fresh uxmppd (store_sync = none; the upload itself is always fsynced
# before its 201), one MB-sized file (default 100) of random bytes, curl
# PUT and GET over HTTP and over HTTPS (TLS 1.3 with the generated
# certificate), each the best of three; beside them what the disk and a
# static file server do with the same file: dd with conv=fsync into the
# same directory (the floor of an fsynced upload) and curl GET from
# python3 -m http.server (a static file server in the standard library).
# The server's peak RSS (VmHWM) after all of it.
# Environment: UXMPPD, SCANSION, PYTHON.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
UXMPPD=${UXMPPD:-$ROOT/uxmppd}
SCANSION=${SCANSION:-$ROOT/tests/scansion}
PY=${PYTHON:-python3}
mb=${1:-100}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/upload-bench.XXXXXX")
srv=
web=
trap '[ -n "$srv" ] && kill "$srv" 2>/dev/null; [ -n "$web" ] && kill "$web" 2>/dev/null; rm -rf "$tmp"' EXIT
port=$("$SCANSION" --free-port) && hport=$("$SCANSION" --free-port) &&
    sport=$("$SCANSION" --free-port) && wport=$("$SCANSION" --free-port) ||
    { echo "no free port"; exit 1; }
cat >"$tmp/conf" <<EOC
c2s_listen = 127.0.0.1:$port
http_listen = 127.0.0.1:$hport
https_listen = 127.0.0.1:$sport
data_dir = $tmp/data
store_sync = none
log_level = warn
log_file = $tmp/log
http_upload = yes
http_upload_url = http://localhost:$hport/upload
http_upload_max_bytes = $((mb * 1048576 + 1))
http_upload_quota_bytes = 0
EOC
mkdir -p "$tmp/data" "$tmp/web"
echo password | "$UXMPPD" -c "$tmp/conf" adduser romeo@localhost >/dev/null || exit 1
"$UXMPPD" -c "$tmp/conf" &
srv=$!
"$SCANSION" --wait-port "127.0.0.1:$sport" --wait-pid "$srv" --timeout 10 || exit 1
head -c $((mb * 1048576)) /dev/urandom >"$tmp/web/file"
sum=$(sha256sum <"$tmp/web/file" | cut -d' ' -f1)

# best MB/s of three runs of: CMD... (curl's time_total from its -w)
best() {
	b=0
	for _ in 1 2 3; do
		t=$("$@") || { echo "failed: $*" >&2; exit 1; }
		r=$(awk -v mb="$mb" -v t="$t" 'BEGIN { printf "%d", mb / t }')
		[ "$r" -gt "$b" ] && b=$r
	done
	echo "$b"
}
put() {	# a new slot each time; $1: http or https
	"$PY" "$ROOT/tests/upload-probe.py" "$port" slot romeo $((mb * 1048576)) \
	    f.bin application/octet-stream >"$tmp/slot" || return 1
	u=$(sed -n 1p "$tmp/slot")
	[ "$1" = https ] && u=https://localhost:$sport${u#http://localhost:$hport}
	sed -n 2p "$tmp/slot" >"$tmp/get"
	curl -sk -o /dev/null -w '%{http_code} %{time_total}\n' -X PUT \
	    -H 'Content-Type: application/octet-stream' --data-binary @"$tmp/web/file" \
	    "$u" >"$tmp/put.out"
	[ "$(cut -d' ' -f1 "$tmp/put.out")" = 201 ] || return 1
	cut -d' ' -f2 "$tmp/put.out"
}
get() {	# $1: http or https
	u=$(cat "$tmp/get")
	[ "$1" = https ] && u=https://localhost:$sport${u#http://localhost:$hport}
	curl -sk -o "$tmp/got" -w '%{time_total}\n' "$u" || return 1
	[ "$(sha256sum <"$tmp/got" | cut -d' ' -f1)" = "$sum" ] || return 1
	rm -f "$tmp/got"
}
ddsync() {
	s=$(date +%s.%N)
	dd if="$tmp/web/file" of="$tmp/data/dd" bs=1M conv=fsync 2>/dev/null || return 1
	awk -v s="$s" -v e="$(date +%s.%N)" 'BEGIN { print e - s }'
	rm -f "$tmp/data/dd"
}
static() {
	curl -s -o "$tmp/got" -w '%{time_total}\n' "http://127.0.0.1:$wport/file" || return 1
	rm -f "$tmp/got"
}
echo "upload_bench: ${mb} MB, best of 3, MB/s"
echo "  PUT  http   $(best put http)"
echo "  GET  http   $(best get http)"
echo "  PUT  https  $(best put https)"
echo "  GET  https  $(best get https)"
echo "  dd conv=fsync (disk floor for PUT)  $(best ddsync)"
(cd "$tmp/web" && exec "$PY" -m http.server -b 127.0.0.1 "$wport" >/dev/null 2>&1) &
web=$!
"$SCANSION" --wait-port "127.0.0.1:$wport" --wait-pid "$web" --timeout 10 || exit 1
echo "  GET  python3 -m http.server         $(best static)"
echo "  uxmppd peak RSS $(sed -n 's/^VmHWM:[^0-9]*//p' /proc/"$srv"/status)"
