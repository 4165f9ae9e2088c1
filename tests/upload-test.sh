#!/bin/sh
# tests/upload-test.sh - XEP-0363 file upload end to end against a real
# uxmppd: a slot asked for over XMPP (tests/upload-probe.py), then curl:
# PUT 201 with the CORS headers, GET with type, length, the CSP,
# Content-Disposition and Last-Modified (If-Modified-Since: 304), HEAD
# without a body, Range (206 with Content-Range, a suffix range, 416), the
# CORS preflight, /metrics off by default; refusals: a second PUT 409, a
# wrong signature 403, an expired PUT URL 403, unknown files 404, a body
# larger than the slot 413, smaller 400, chunked 411, a PUT while
# http_upload_max_concurrent are under way 503 (and the held slot usable
# after its connection went, no .part left), and 503 for a file the disk
# cannot take (a server under RLIMIT_FSIZE); a HEAD and two GETs
# pipelined on one connection behind a 100 kB streamed body, over HTTP
# and HTTPS; then a 100 MB upload and download, SHA-256 compared, with the
# server's peak RSS (VmHWM) no more than UPLOAD_RSS_SLACK_KB (10240) above
# its RSS before (not under AddressSanitizer, whose quarantine keeps freed
# memory).  UPLOAD_BIG_MB=0 skips the big transfer (visibly).
TEST_NAME=upload
. "$(dirname "$0")/lib.sh"
need "$UXMPPD" "$SCANSION"
command -v curl >/dev/null 2>&1 || { skip curl "curl not installed"; summary; exit; }
new_port port
new_port hport
[ "$hport" != "$port" ] || new_port hport
new_port sport
while [ "$sport" = "$port" ] || [ "$sport" = "$hport" ]; do new_port sport; done
BIG_MB=${UPLOAD_BIG_MB:-100}
SLACK_KB=${UPLOAD_RSS_SLACK_KB:-10240}
TTL=8

cat >"$tmp/conf" <<EOC
c2s_listen = 127.0.0.1:$port
http_listen = 127.0.0.1:$hport
https_listen = 127.0.0.1:$sport
data_dir = $tmp/data
store_sync = none
log_level = debug
log_file = $tmp/log
http_upload = yes
http_upload_url = http://localhost:$hport/upload
http_upload_max_bytes = 209715200
http_upload_quota_bytes = 0
http_upload_put_ttl_s = $TTL
http_upload_max_concurrent = 1
EOC
mkdir -p "$tmp/data"
echo password | "$UXMPPD" -c "$tmp/conf" adduser romeo@localhost >/dev/null
start_server "$tmp/conf"
"$SCANSION" --wait-port "127.0.0.1:$hport" --wait-pid "$srv_pid" --timeout 10 ||
    abort "no HTTP listener on $hport"

# slot NAME SIZE TYPE: PUT, GET and AUTH set (or a failed check)
slot() {
	"$PY" "$ROOT/tests/upload-probe.py" "$port" slot romeo "$2" "$1" "$3" \
	    >"$tmp/slot" 2>"$tmp/out" || return 1
	PUT=$(sed -n 1p "$tmp/slot")
	GET=$(sed -n 2p "$tmp/slot")
	AUTH=$(sed -n 3p "$tmp/slot")
}
# http OUT CURL-ARGS...: the status code; headers in OUT.h, body in OUT.b
http() {
	_o=$1
	shift
	curl -s -D "$tmp/$_o.h" -o "$tmp/$_o.b" -w '%{http_code}' "$@" 2>"$tmp/out"
}
# hdr OUT NAME: a header's value
hdr() {
	tr -d '\r' <"$tmp/$1.h" | sed -n "s/^$2: //ip" | head -n 1
}
# is NAME GOT WANT [DETAIL]
is() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got '$2', want '$3'${4:+ ($4)}"; fi
}

printf 'hello world' >"$tmp/hello"
slot "hello world.txt" 11 text/plain || abort "no slot: $(cat "$tmp/out")"
is get-before-put "$(http g0 "$GET")" 404
# the signature's last hex digit changed (to 0, or to 1 when it is 0)
sig_end=${PUT%/*}
sig_end=${sig_end#"${sig_end%?}"}
[ "$sig_end" = 0 ] && wrong=1 || wrong=0
is put-wrong-signature "$(http p0 -X PUT -H 'Content-Type: text/plain' \
    --data-binary @"$tmp/hello" "${PUT%?/*}$wrong/hello%20world.txt")" 403
printf 'hello world!' >"$tmp/hello12"
is put-too-large "$(http p1 -X PUT -H 'Content-Type: text/plain' \
    --data-binary @"$tmp/hello12" "$PUT")" 413
printf 'hello worl' >"$tmp/hello10"
is put-too-small "$(http p2 -X PUT -H 'Content-Type: text/plain' \
    --data-binary @"$tmp/hello10" "$PUT")" 400
is put-chunked "$(http p3 -X PUT -H 'Content-Type: text/plain' \
    -H 'Transfer-Encoding: chunked' --data-binary @"$tmp/hello" "$PUT")" 411
is put-wrong-type "$(http p4 -X PUT -H 'Content-Type: image/png' \
    --data-binary @"$tmp/hello" "$PUT")" 400
is put "$(http p5 -X PUT -H 'Content-Type: text/plain' -H "Authorization: $AUTH" \
    -H 'Origin: https://web.example' --data-binary @"$tmp/hello" "$PUT")" 201
is put-cors-origin "$(hdr p5 Access-Control-Allow-Origin)" https://web.example
is put-cors-credentials "$(hdr p5 Access-Control-Allow-Credentials)" true
is put-again "$(http p6 -X PUT -H 'Content-Type: text/plain' \
    --data-binary @"$tmp/hello" "$PUT")" 409
is file-stored "$(cat "$tmp/data/upload/"* 2>/dev/null)" "hello world" \
    "$(ls "$tmp/data/upload")"

is get "$(http g1 "$GET")" 200
is get-body "$(cat "$tmp/g1.b")" "hello world"
is get-type "$(hdr g1 Content-Type)" text/plain
is get-length "$(hdr g1 Content-Length)" 11
is get-csp "$(hdr g1 Content-Security-Policy)" "default-src 'none'; media-src 'self'; frame-ancestors 'none';"
is get-disposition "$(hdr g1 Content-Disposition)" "inline; filename*=UTF-8''hello%20world.txt"
lm=$(hdr g1 Last-Modified)
is get-not-modified "$(http g4 -H "If-Modified-Since: $lm" "$GET")" 304
is not-modified-no-length "$(hdr g4 Content-Length)" ""
is get-modified-since-other "$(http g5 -H "If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT" "$GET")" 200
is get-cors "$(hdr g1 Access-Control-Allow-Origin)" '*'
is head "$(http h1 -I "$GET")" 200
is head-length "$(hdr h1 Content-Length)" 11
is range "$(http r1 -r 2-4 "$GET")" 206
is range-body "$(cat "$tmp/r1.b")" llo
is range-header "$(hdr r1 Content-Range)" "bytes 2-4/11"
is range-suffix "$(http r2 -H 'Range: bytes=-3' "$GET")$(cat "$tmp/r2.b")" 206rld
is range-open "$(http r3 -H 'Range: bytes=6-' "$GET")$(cat "$tmp/r3.b")" 206world
is range-unsatisfiable "$(http r4 -r 11- "$GET")" 416
is range-416-header "$(hdr r4 Content-Range)" "bytes */11"
is range-several-whole "$(http r5 -r 0-1,3-4 "$GET")$(cat "$tmp/r5.b")" "200hello world"
is metrics-off-by-default "$(http m1 "http://127.0.0.1:$hport/metrics")" 404
is get-unknown "$(http g2 "${GET%/*/*}/0123456789abcdef0123456789abcdef/x")" 404
is get-wrong-name "$(http g3 "${GET%/*}/other.txt")" 404
is options "$(http o1 -X OPTIONS -H 'Origin: https://web.example' \
    -H 'Access-Control-Request-Method: PUT' "$PUT")" 200
is options-methods "$(hdr o1 Access-Control-Allow-Methods)" "OPTIONS, HEAD, GET, PUT"
is options-headers "$(hdr o1 Access-Control-Allow-Headers)" "Authorization, Content-Type"
# 503: one PUT at a time (http_upload_max_concurrent = 1)
slot held.bin 100000 application/octet-stream || fail slot-held "$(cat "$tmp/out")"
HPUT=$PUT HAUTH=$AUTH HGET=$GET
"$PY" "$ROOT/tests/upload-probe.py" "$port" hold "$hport" "$HPUT" "$HAUTH" \
    100000 >"$tmp/hold" 2>&1 &
hold_pid=$!
i=0
until grep -q "upload: PUT [0-9a-f]* 100000 bytes" "$tmp/log" 2>/dev/null ||
    [ $i -ge 100 ]; do
	"$SCANSION" --wait-exit "$hold_pid" --timeout 0.1 2>/dev/null && break
	i=$((i + 1))
done
slot second.txt 11 text/plain || fail slot-second "$(cat "$tmp/out")"
is busy-503 "$(http b1 -X PUT -H 'Content-Type: text/plain' \
    --data-binary @"$tmp/hello" "$PUT")" 503
is busy-retry-after "$(hdr b1 Retry-After)" 10
kill "$hold_pid" 2>/dev/null
wait "$hold_pid" 2>/dev/null
head -c 100000 /dev/zero >"$tmp/zero"
i=0
while st=$(http b2 -X PUT -H 'Content-Type: application/octet-stream' --data-binary @"$tmp/zero" "$HPUT") && [ "$st" = 503 ] &&
    [ $i -lt 50 ]; do
	"$SCANSION" --wait-exit "$srv_pid" --timeout 0.1 2>/dev/null
	i=$((i + 1))
done
is held-slot-after-abort "$st" 201
is no-part-left "$(ls "$tmp/data/upload" | grep -c part)" 0
is second-after-busy "$(http b3 -X PUT -H 'Content-Type: text/plain' \
    --data-binary @"$tmp/hello" "$PUT")" 201

# pipelined behind a body larger than one streamed piece
out=$("$PY" "$ROOT/tests/upload-probe.py" "$port" pipelined "$hport" \
    "${HGET#http://localhost:$hport}" 2>&1)
is pipelined-head-get-get "$(echo $out)" "200 0 200 100000 200 100000"
out=$("$PY" "$ROOT/tests/upload-probe.py" "$port" pipelined "$sport" \
    "${HGET#http://localhost:$hport}" tls 2>&1)
is pipelined-over-tls "$(echo $out)" "200 0 200 100000 200 100000"

# the PUT URL expires http_upload_put_ttl_s after the slot request
slot late.txt 11 text/plain || fail slot-late "$(cat "$tmp/out")"
# a short body is 400 while the URL is valid, 403 once it has expired
start=$(date +%s)
while st=$(http e1 -X PUT -H 'Content-Type: text/plain' \
    --data-binary @"$tmp/hello10" "$PUT") && [ "$st" = 400 ] &&
    [ $(($(date +%s) - start)) -le $((TTL + 5)) ]; do
	"$SCANSION" --wait-exit "$srv_pid" --timeout 0.5 2>/dev/null
done
is put-expired "$st" 403
is put-expired-after "$(($(date +%s) - start >= TTL - 1))" 1 "after $(($(date +%s) - start)) s"

# a big file: memory stays flat both ways
if [ "$BIG_MB" -gt 0 ]; then
	head -c $((BIG_MB * 1048576)) /dev/urandom >"$tmp/big"
	slot big.bin $((BIG_MB * 1048576)) application/octet-stream ||
	    fail slot-big "$(cat "$tmp/out")"
	rss0=$(sed -n 's/^VmRSS:[^0-9]*\([0-9]*\).*/\1/p' /proc/"$srv_pid"/status)
	is big-put "$(curl -s -o /dev/null -w '%{http_code}' -X PUT \
	    -H 'Content-Type: application/octet-stream' --data-binary @"$tmp/big" "$PUT")" 201
	is big-get-sha256 "$(curl -s "$GET" | sha256sum | cut -d' ' -f1)" \
	    "$(sha256sum <"$tmp/big" | cut -d' ' -f1)"
	hwm=$(sed -n 's/^VmHWM:[^0-9]*\([0-9]*\).*/\1/p' /proc/"$srv_pid"/status)
	if [ "${BUILD:-build}" = build-asan ]; then
		# ASan keeps freed blocks in quarantine (up to 256 MB)
		skip big-rss-flat "AddressSanitizer build (peak ${hwm} kB)"
	elif [ $((hwm - rss0)) -le "$SLACK_KB" ]; then
		pass big-rss-flat "peak ${hwm} kB, ${rss0} kB before, ${BIG_MB} MB each way"
	else
		fail big-rss-flat "peak ${hwm} kB, ${rss0} kB before (slack ${SLACK_KB} kB)"
	fi
	rm -f "$tmp/big"
else
	skip big "UPLOAD_BIG_MB=0"
fi

stop_server
rc=$?
check $rc "clean-exit" "exit status $rc"

# 503 when the disk cannot take the file: the same server under a 16 MB
# file size limit (RLIMIT_FSIZE) asked to take 20 MB
"$PY" -c 'import os, resource, sys
resource.setrlimit(resource.RLIMIT_FSIZE, (16 << 20, 16 << 20))
os.execv(sys.argv[1], sys.argv[1:])' "$UXMPPD" -c "$tmp/conf" >>"$tmp/stderr" 2>&1 &
srv_pid=$!
"$SCANSION" --wait-port "127.0.0.1:$hport" --wait-pid "$srv_pid" --timeout 10 ||
    abort "server under a file size limit did not start"
head -c $((20 << 20)) /dev/zero >"$tmp/twenty"
slot twenty.bin $((20 << 20)) application/octet-stream || fail slot-twenty "$(cat "$tmp/out")"
is no-space-503 "$(http n1 -X PUT -H 'Content-Type: application/octet-stream' \
    --data-binary @"$tmp/twenty" "$PUT")" 503
is no-space-retry-after "$(hdr n1 Retry-After)" 60
is no-space-no-part "$(ls "$tmp/data/upload" | grep -c part)" 0
is no-space-still-serving "$(http n2 "$GET")" 404
slot small.txt 11 text/plain || fail slot-small "$(cat "$tmp/out")"
is no-space-small-fits "$(http n3 -X PUT -H 'Content-Type: text/plain' \
    --data-binary @"$tmp/hello" "$PUT")" 201
rm -f "$tmp/twenty"
stop_server
rc=$?
check $rc "clean-exit-limited" "exit status $rc"
finish
