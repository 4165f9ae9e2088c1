#!/bin/sh
# bench/compare.sh - uxmppd beside Prosody and ejabberd, same run, same
# client (bench/load.c), same settings; one table with the ratios.
#   usage: bench/compare.sh        (make bench-compare; COMPARE_ARGS=...)
# Environment:
#   SERVERS   which servers (default "uxmppd prosody ejabberd"; one not
#             installed prints SKIP and its column stays empty)
#   IDLE_N    idle sessions (default 2000), LOGIN_N login pool (200),
#   ROOMS     MUC room sizes (default "10 100 1000"), MSG_N 1:1 clients (200)
#   RUN_S     seconds each login/fan-out/1:1 phase sends (default 3)
#   LIMIT_S   time bound of every phase (default 120)
#   LOAD, UXMPPD, SCANSION: the binaries (defaults from the tree)
#   RESULTS   a file of earlier result lines: print their table, run nothing
#   KEEP=1    keep the temporary directory (configurations, logs, results)
# Each server runs on loopback, on free ports, with its own data dir in a
# temporary directory, in the foreground of this script (never as a system
# service), pinned with all its threads to CPU 0; the client to CPU 1.
# Settings made equal: one certificate (ECDSA P-256) for all three, plain
# TCP + STARTTLS on one port and direct TLS on another, SCRAM-SHA-1 with
# stored keys (no PBKDF2 on the server at login), accounts created in
# bulk by in-band registration (XEP-0077) from bench/load, no stream
# compression, listen backlogs of 1024, no rate limits or traffic shapers, no message archive,
# rooms made instant by the owner's configuration form with the occupant
# limit raised and presence broadcast to moderators where supported.
# Each idle figure is taken on a freshly started server (RSS is a high
# water mark); the other phases share one start.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LOAD=${LOAD:-$ROOT/build/load}
UXMPPD=${UXMPPD:-$ROOT/uxmppd}
SCANSION=${SCANSION:-$ROOT/tests/scansion}
SERVERS=${SERVERS:-uxmppd prosody ejabberd}
IDLE_N=${IDLE_N:-2000}
LOGIN_N=${LOGIN_N:-200}
ROOMS=${ROOMS:-10 100 1000}
MSG_N=${MSG_N:-200}
RUN_S=${RUN_S:-3}
LIMIT_S=${LIMIT_S:-120}
tmp=$(mktemp -d /tmp/bench-compare.XXXXXX)
chmod 755 "$tmp"
results=$tmp/results
: >"$results"
pid=
# ejabberd starts Erlang's epmd daemon when none runs: stop the one it
# started for us (by its PID), never one that was there before
epmd_before=$(pgrep -x -u ejabberd epmd)
cleanup() {
	[ -n "$pid" ] && stop_server
	e=$(pgrep -x -u ejabberd epmd)
	[ -z "$epmd_before" ] && [ -n "$e" ] && kill $e 2>/dev/null
	[ -n "${KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ncpu=$(nproc)
if [ "$ncpu" -ge 2 ] && command -v taskset >/dev/null; then
	PIN_SERVER="taskset -c 0"
	PIN_CLIENT="taskset -c 1"
else
	PIN_SERVER= PIN_CLIENT=
	echo "note: no pinning ($ncpu CPUs or no taskset)"
fi
max=$IDLE_N
for n in $ROOMS $MSG_N $LOGIN_N 100; do [ "$n" -gt "$max" ] && max=$n; done
ulimit -n 65536 2>/dev/null || ulimit -n 20000 2>/dev/null || ulimit -n 4096

# one certificate for every server
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -days 30 -subj /CN=localhost \
    -addext "subjectAltName=DNS:localhost,DNS:conference.localhost" \
    -keyout "$tmp/key.pem" -out "$tmp/cert.pem" >/dev/null 2>&1 ||
    { echo "openssl cannot make the certificate"; exit 1; }
cat "$tmp/cert.pem" "$tmp/key.pem" >"$tmp/both.pem"
chmod 644 "$tmp"/*.pem

free_port() { "$SCANSION" --free-port || { echo "no free port"; exit 1; }; }

# ---- uxmppd ----
start_uxmppd() {
	d=$tmp/uxmppd
	mkdir -p "$d/data"
	cat >"$d/uxmppd.conf" <<EOC
domain = localhost
muc_domain = conference.localhost
c2s_listen = 127.0.0.1:$port
c2s_direct_tls_listen = 127.0.0.1:$tport
data_dir = $d/data
cert = $tmp/cert.pem
key = $tmp/key.pem
store_sync = none
allow_registration = yes
muc_max_occupants = 5000
max_clients = 60000
log_level = warn
log_file = $d/uxmppd.log
EOC
	$PIN_SERVER "$UXMPPD" -c "$d/uxmppd.conf" >"$d/server.out" 2>&1 &
	pid=$! spid=$!
}

# ---- Prosody (Debian's prosody, 0.12) ----
start_prosody() {
	d=$tmp/prosody
	mkdir -p "$d/data"
	cat >"$d/prosody.cfg.lua" <<EOC
daemonize = false
run_as_root = true
pidfile = "$d/prosody.pid"
data_path = "$d/data"
plugin_paths = { }
c2s_ports = { $port }
c2s_direct_tls_ports = { $tport }
c2s_interfaces = { "127.0.0.1" }
tcp_backlog = 1024
c2s_direct_tls_interfaces = { "127.0.0.1" }
s2s_ports = { }
http_ports = { }
https_ports = { }
c2s_require_encryption = false
authentication = "internal_hashed"
default_storage = "memory"
storage = { accounts = "internal"; roster = "internal" }
allow_registration = true
modules_enabled = { "roster"; "saslauth"; "tls"; "disco"; "register"; "ping" }
modules_disabled = { "s2s"; "offline"; "c2s_limits" }
ssl = { certificate = "$tmp/cert.pem"; key = "$tmp/key.pem" }
c2s_direct_tls_ssl = { certificate = "$tmp/cert.pem"; key = "$tmp/key.pem" }
log = { warn = "$d/prosody.log" }
VirtualHost "localhost"
Component "conference.localhost" "muc"
	muc_room_default_history_length = 0
	muc_room_locking = false
	max_history_messages = 0
EOC
	$PIN_SERVER prosody --config "$d/prosody.cfg.lua" >"$d/server.out" 2>&1 &
	pid=$! spid=$!
}

# ---- ejabberd (Debian's ejabberd, 23.01), run as its own user ----
start_ejabberd() {
	d=$tmp/ejabberd
	mkdir -p "$d/spool" "$d/logs"
	cat >"$d/ejabberd.yml" <<EOC
hosts: [localhost]
loglevel: warning
certfiles: ["$tmp/both.pem"]
listen:
  - port: $port
    ip: "127.0.0.1"
    module: ejabberd_c2s
    starttls: true
    shaper: none
    max_stanza_size: 262144
    backlog: 1024
  - port: $tport
    ip: "127.0.0.1"
    module: ejabberd_c2s
    tls: true
    shaper: none
    max_stanza_size: 262144
    backlog: 1024
registration_timeout: infinity
auth_method: internal
auth_password_format: scram
auth_scram_hash: sha
shaper: {}
shaper_rules:
  c2s_shaper: none
  max_user_sessions: 10
acl:
  local: {user_regexp: ""}
access_rules:
  local: {allow: local}
  c2s: {allow: all}
  register: {allow: all}
  muc_create: {allow: local}
modules:
  mod_roster: {}
  mod_disco: {}
  mod_ping: {}
  mod_register:
    ip_access: all
    access: register
  mod_muc:
    host: conference.localhost
    access_create: muc_create
    max_users: 5000
    max_users_presence: 5000
    history_size: 0
    default_room_options:
      max_users: 5000
      mam: false
EOC
	echo 'ERL_OPTIONS="-env ERL_CRASH_DUMP_BYTES 0"' >"$d/ejabberdctl.cfg"
	chown -R ejabberd "$d"
	ejnode=ejbench$$@localhost
	# as its user, so ejabberdctl needs no su: su's pam_limits would give
	# the VM a soft limit of 1024 files, and it refuses connections past
	# about 1000 ("too many open files")
	$PIN_SERVER su -s /bin/sh ejabberd -c "ulimit -n $(ulimit -n); exec \
	    ejabberdctl --node $ejnode --config $d/ejabberd.yml \
	    --ctl-config $d/ejabberdctl.cfg --spool $d/spool --logs $d/logs \
	    foreground" >"$d/server.out" 2>&1 &
	pid=$!
	# the process doing the work: beam.smp, a descendant of the launcher
	spid=
	i=0
	while [ -z "$spid" ] && [ $i -lt 100 ]; do
		sleep 0.1
		spid=$(find_beam "$pid")
		i=$((i + 1))
	done
}

# The beam.smp among the descendants of $1.
find_beam() {
	for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		if grep -q beam /proc/"$c"/comm 2>/dev/null; then
			echo "$c"
			return
		fi
		find_beam "$c"
	done
}

installed() {
	case $1 in
	uxmppd) [ -x "$UXMPPD" ] ;;
	prosody) command -v prosody >/dev/null ;;
	ejabberd) command -v ejabberdctl >/dev/null && id ejabberd >/dev/null 2>&1 ;;
	esac
}

start_server() {
	"start_$srv"
	if ! "$SCANSION" --wait-port "127.0.0.1:$port" --wait-pid "$pid" \
	    --timeout 60 || [ -z "$spid" ]; then
		echo "$srv did not start:"
		tail -20 "$d/server.out" "$d"/*.log "$d"/logs/*.log 2>/dev/null
		stop_server
		return 1
	fi
	"$SCANSION" --wait-port "127.0.0.1:$tport" --wait-pid "$pid" --timeout 30
	sleep 1
}

stop_server() {
	if [ "$srv" = ejabberd ]; then
		ejabberdctl --node "$ejnode" --ctl-config "$d/ejabberdctl.cfg" \
		    stop >/dev/null 2>&1
	else
		kill -TERM "$pid" 2>/dev/null
	fi
	i=0
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -KILL "$pid" 2>/dev/null
	[ -n "${spid:-}" ] && kill -KILL "$spid" 2>/dev/null
	wait "$pid" 2>/dev/null
	pid=
}

# load WORKLOAD TRANSPORT ARGS...: one run of the client, its RESULT lines
# kept with the server's name.
load() {
	w=$1 t=$2
	shift 2
	p=$port
	[ "$t" = tls ] && p=$tport
	$PIN_CLIENT "$LOAD" -p "$p" -t "$t" -k "$spid" -T "$LIMIT_S" \
	    -D "$RUN_S" "$@" "$w" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	cat "$tmp/out"
	if [ $rc -ne 0 ]; then
		echo "  $srv $w $t failed: $(tail -3 "$tmp/err")"
	fi
	sed -n "s/^RESULT /$srv /p" "$tmp/out" >>"$results"
}

# RESULTS=FILE: no runs, the table of FILE's lines ("SERVER workload ...").
[ -n "${RESULTS:-}" ] && cp "$RESULTS" "$results"
for srv in $SERVERS; do
	[ -n "${RESULTS:-}" ] && break
	if ! installed "$srv"; then
		echo "SKIP $srv: not installed"
		continue
	fi
	echo "== $srv"
	port=$(free_port)
	tport=$(free_port)
	start_server || continue
	echo "  server pid $spid; registering $max accounts"
	$PIN_CLIENT "$LOAD" -p "$port" -T "$LIMIT_S" -n "$max" -c 20 register ||
	    { echo "  $srv: registration failed"; stop_server; continue; }
	for t in plain starttls tls; do
		load login "$t" -n "$LOGIN_N" -c 50
	done
	for r in $ROOMS; do
		load muc plain -n "$r" -c 50
	done
	load muc tls -n 100 -c 50
	load msg plain -n "$MSG_N" -c 50
	load msg tls -n "$MSG_N" -c 50
	stop_server
	for t in plain starttls tls; do
		start_server || break
		load idle "$t" -n "$IDLE_N" -c 50
		stop_server
	done
done

# The table: one row per workload, each server's figure, the peers'
# figures divided by uxmppd's (how many times more it costs them).
echo
echo "server CPU per operation (lower is better); ratio = peer / uxmppd"
awk -v servers="$SERVERS" '
{
	srv = $1; w = $2; t = $3; room = ""; rss = ""
	for (i = 4; i <= NF; i++) {
		if ($i ~ /^per_op=/) { v = substr($i, 8); unit = $(i + 1) }
		if ($i ~ /^rate=/) { rate = substr($i, 6); sub(/\/s$/, "", rate) }
		if ($i ~ /^room=/) { room = " " substr($i, 6) }
		if ($i ~ /^rss_per_session=/) { rss = substr($i, 17) }
	}
	key = w room " " t
	if (!(key in seen)) { seen[key] = 1; order[++nk] = key; units[key] = unit }
	fig[key, srv] = v; rt[key, srv] = rate
	if (rss != "") {
		k2 = "idle RSS/session " t
		if (!(k2 in seen)) { seen[k2] = 1; order[++nk] = k2; units[k2] = "B" }
		fig[k2, srv] = rss; rt[k2, srv] = ""
	}
}
END {
	ns = split(servers, s, " ")
	printf "| workload | unit |"
	for (j = 1; j <= ns; j++) printf " %s |", s[j]
	for (j = 2; j <= ns; j++) printf " %s/%s |", s[j], s[1]
	printf "\n|---|---|"
	for (j = 1; j < 2 * ns; j++) printf "---|"
	printf "\n"
	for (k = 1; k <= nk; k++) {
		key = order[k]
		printf "| %s | %s |", key, units[key]
		for (j = 1; j <= ns; j++) {
			f = fig[key, s[j]]
			r = rt[key, s[j]]
			if (f == "") printf " - |"
			else if (r != "") printf " %s (%s/s) |", f, r
			else printf " %s |", f
		}
		for (j = 2; j <= ns; j++) {
			a = fig[key, s[1]]; b = fig[key, s[j]]
			if (a > 0 && b != "") printf " %.1f |", b / a
			else printf " - |"
		}
		printf "\n"
	}
}' "$results"
