#!/usr/bin/env python3
# bench/tls-mem.py PID PORT MODE [N]
#
# Per-connection memory of a running uxmppd: opens N (default 1000) idle
# client connections in MODE and prints the growth of the server's VmRSS
# divided by N.
#   plain     stream header sent, features received (no TLS)
#   starttls  STARTTLS, handshake, new stream, features received
#   direct    TLS handshake on a direct-TLS port, features received
# The connections stay open until the figure is printed.  Raise the open
# file limit first (ulimit -n) for large N.
import socket
import ssl
import sys
import time

HEADER = (b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
          b"xmlns:stream='http://etherx.jabber.org/streams' to='localhost' "
          b"version='1.0'>")


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise SystemExit("no VmRSS for pid %d" % pid)


def read_until(s, marker):
    data = b""
    while marker not in data:
        chunk = s.recv(65536)
        if not chunk:
            raise SystemExit("server closed the connection")
        data += chunk
    return data


def open_one(port, mode, ctx):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    if mode == "direct":
        s = ctx.wrap_socket(s, server_hostname="localhost")
    s.sendall(HEADER)
    read_until(s, b"</stream:features>")
    if mode == "starttls":
        s.sendall(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
        read_until(s, b"<proceed")
        s = ctx.wrap_socket(s, server_hostname="localhost")
        s.sendall(HEADER)
        read_until(s, b"</stream:features>")
    return s


def main():
    pid, port, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 1000
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    # Warm up: the first sessions allocate the server's shared state.
    warm = [open_one(port, mode, ctx) for _ in range(10)]
    time.sleep(0.3)
    before = rss_kib(pid)
    conns = [open_one(port, mode, ctx) for _ in range(n)]
    time.sleep(0.5)
    after = rss_kib(pid)
    print("%s: %d connections, VmRSS %d -> %d KiB, %.1f KiB per connection"
          % (mode, n, before, after, (after - before) / n))
    for s in conns + warm:
        s.close()


main()
