#!/bin/sh
# tests/ratelimit-test.sh - the rate limits against a real uxmppd over
# real sockets: each case of tests/ratelimit-probe.py floods past one
# limit from 127.0.0.2 while a pair of clients from 127.0.0.3 keeps
# exchanging messages within one second; the log lines are checked here.
# Prints PASS/FAIL lines and "N passed, N failed".
TEST_NAME=ratelimit
. "$(dirname "$0")/lib.sh"
new_port port

cat >"$tmp/conf" <<EOC
c2s_listen = 127.0.0.1:$port
c2s_listen = [::1]:$port
data_dir = $tmp/data
store_sync = none
log_level = info
log_file = $tmp/log
limits_exempt = 127.0.0.1
max_preauth_per_ip = 10
max_connections_per_ip = 20
max_connections_per_ipv6_64 = 5
max_auth_failures_per_ip = 5
auth_failure_delay_ms = 500
max_resources_per_account = 12
muc_max_messages_per_s = 5
muc_max_rooms_per_user = 3
muc_max_presence_per_s = 2
max_stanzas_per_s = 50
max_stanzas_burst = 50
max_bytes_per_s = 100000
max_bytes_burst = 100000
EOC
mkdir -p "$tmp/data"
for u in romeo juliet flood flood2 flood3; do
	echo password | "$UXMPPD" -c "$tmp/conf" adduser "$u@localhost" >/dev/null
done
start_server "$tmp/conf"

for c in preauth per-ip ipv6-64 auth resources muc stanza-rate byte-rate; do
	out=$("$PY" "$ROOT/tests/ratelimit-probe.py" "$port" "$c" 2>&1)
	check $? "$c" "$out"
done
n=$(grep -c "refusing connection ip=127.0.0.2 on=127.0.0.1:$port limit=max_preauth_per_ip" "$tmp/log")
# 30 refusals in well under a second or two: one line a second
[ "$n" -ge 1 ] && [ "$n" -le 3 ]
check $? "preauth-logged" "$n refusal lines for max_preauth_per_ip (want 1 to 3)"
grep -q "refusing connection ip=127.0.0.2 .*limit=max_connections_per_ip " "$tmp/log"
check $? "per-ip-logged" "no refusal line for max_connections_per_ip"
grep -q "refusing connection ip=::1 .*limit=max_connections_per_ipv6_64" "$tmp/log"
check $? "ipv6-64-logged" "no refusal line for max_connections_per_ipv6_64"
grep -q "auth failed ip=127.0.0.2 user=flood mechanism=PLAIN reason=not-authorized" "$tmp/log" &&
    grep -q "auth failed ip=127.0.0.2 user=nobody " "$tmp/log" &&
    grep -q "auth refused ip=127.0.0.2 user=- mechanism=PLAIN reason=max_auth_failures_per_ip" "$tmp/log"
check $? "auth-logged" "no auth failed/refused lines for 127.0.0.2"
grep -q "muc room own2@conference.localhost refused for flood@localhost limit=muc_max_rooms_per_user" "$tmp/log"
check $? "rooms-logged" "no room refused line"
grep -q "bind refused user=flood3@localhost limit=max_resources_per_account" "$tmp/log"
check $? "resources-logged" "no bind refused line"
! grep -q "Wr0ngSecret" "$tmp/log"
check $? "no-password-logged" "a password in the log"
# The fail2ban filter of README "Rate limits", with <HOST> as fail2ban
# expands it (an address): it matches the failures and refusals of
# 127.0.0.2 and nothing else.
regex=$(sed -n 's/^ *failregex = //p' "$ROOT/README.md")
[ -n "$regex" ] && "$PY" - "$regex" "$tmp/log" >"$tmp/out" 2>&1 <<'EOP'
import re, sys
rx = re.compile(sys.argv[1].replace("<HOST>", r"(?P<host>[0-9a-fA-F.:]+)"))
hosts = {}
for line in open(sys.argv[2]):
    m = rx.search(line)
    if m:
        hosts[m.group("host")] = hosts.get(m.group("host"), 0) + 1
print(hosts)
sys.exit(0 if list(hosts) == ["127.0.0.2"] and hosts["127.0.0.2"] >= 15 else 1)
EOP
check $? "fail2ban-filter" "$(cat "$tmp/out")"
! grep -q "refusing connection ip=127.0.0.[134]" "$tmp/log"
check $? "others-not-refused" "$(grep -m1 'refusing connection ip=127.0.0.[134]' "$tmp/log")"

stop_server
rc=$?
check $rc "clean-exit" "exit status $rc"
finish
