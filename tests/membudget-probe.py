#!/usr/bin/env python3
# tests/membudget-probe.py PORT NSLOW LOG
#
# The memory budget (max_memory_mb) over real sockets; the server runs
# with a budget of a few MiB (tests/membudget-test.sh).  NSLOW slow
# readers (slow0..) log in and never read; "flood" sends them 8 KB chat
# messages as fast as the server takes them, so their output queues grow
# past the budget; meanwhile alice sends bob a message every 100 ms that
# bob echoes, and every round trip must take less than 1 s.  Checks:
#   - a connection opened during the flood gets our header and a
#     <resource-constraint/> stream error (RFC 6120 §4.9.3.17), then the
#     close;
#   - the server logs closing each slow reader for the budget (LOG is its
#     log file: the probe must not read the slow sockets; what the kernel
#     still holds for a closed one drains at its own pace);
#   - after the flood a new client logs in and is answered;
#   - alice and bob were never cut off and no round trip took 1 s.
# Prints "OK ..." and exits 0, or "FAIL reason" and exits 1.  Accounts:
# alice, bob, flood, probe, slow0..slowN-1, password "password".
import base64
import socket
import sys
import time

HEADER = (b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
          b"xmlns:stream='http://etherx.jabber.org/streams' to='localhost' "
          b"version='1.0'>")


class Fail(Exception):
    pass


def read_until(sock, marker, timeout=5.0):
    data = b""
    end = time.time() + timeout
    while marker not in data:
        left = end - time.time()
        if left <= 0:
            raise Fail("timed out waiting for %r; got %r" % (marker, data[-300:]))
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        if not chunk:
            raise Fail("connection closed waiting for %r; got %r" %
                       (marker, data[-300:]))
        data += chunk
    return data


def login(port, user, resource):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    auth = base64.b64encode(b"\0" + user.encode() + b"\0password").decode()
    s.sendall(HEADER + ("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
              "mechanism='PLAIN'>%s</auth>" % auth).encode())
    read_until(s, b"<success")
    s.sendall(HEADER + ("<iq type='set' id='b'><bind xmlns='urn:ietf:params:"
              "xml:ns:xmpp-bind'><resource>%s</resource></bind></iq>"
              % resource).encode())
    read_until(s, b"</jid>")
    return s


def trimmed(log):
    """The slow readers the server closed for the budget so far."""
    with open(log, errors="replace") as f:
        return sum(1 for line in f if "memory budget:" in line and
                   "closing it with" in line)


def refused_once(port):
    """Open a stream: the stream error when refused, else None."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(HEADER)
    data = read_until(s, b">", 5)
    end = time.time() + 2
    while b"</stream:stream>" not in data and b"<stream:features" not in data:
        if time.time() > end:
            break
        s.settimeout(max(end - time.time(), 0.01))
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        data += chunk
    s.close()
    if b"<resource-constraint" in data:
        return data
    return None


def main():
    port, nslow, log = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    alice = login(port, "alice", "a")
    bob = login(port, "bob", "b")
    slow = []
    for i in range(nslow):
        s = login(port, "slow%d" % i, "s")
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.append(s)
    flood = login(port, "flood", "f")
    flood.settimeout(10.0)
    body = "y" * 8000
    worst = 0.0
    rounds = 0
    refusal = None
    k = 0
    end = time.time() + 60
    next_probe = 0.0
    while trimmed(log) < nslow:
        if time.time() > end:
            raise Fail("after 60 s only %d of %d slow readers closed for "
                       "the budget" % (trimmed(log), nslow))
        # a burst of the flood, round robin over the readers still there
        for _ in range(20):
            i = k % nslow
            k += 1
            msg = ("<message to='slow%d@localhost/s' type='chat'><body>%d %s"
                   "</body></message>" % (i, k, body)).encode()
            flood.sendall(msg)
        # the errors for messages to readers already gone come back:
        # the flooder reads them (or it would be a slow reader itself)
        flood.setblocking(False)
        try:
            while flood.recv(1 << 20):
                pass
        except BlockingIOError:
            pass
        flood.settimeout(10.0)
        # the well-behaved pair
        t0 = time.time()
        alice.sendall(("<message to='bob@localhost/b' type='chat' id='r%d'>"
                       "<body>ping %d</body></message>" % (rounds, rounds))
                      .encode())
        read_until(bob, ("ping %d<" % rounds).encode(), 5)
        bob.sendall(("<message to='alice@localhost/a' type='chat'><body>"
                     "pong %d</body></message>" % rounds).encode())
        read_until(alice, ("pong %d<" % rounds).encode(), 5)
        dt = time.time() - t0
        worst = max(worst, dt)
        rounds += 1
        if dt >= 1.0:
            raise Fail("round trip %d took %.3f s during the flood"
                       % (rounds, dt))
        if refusal is None and time.time() >= next_probe:
            refusal = refused_once(port)
            next_probe = time.time() + 0.05
    if refusal is None:
        # the budget may have been passed between two probes
        for _ in range(5):
            refusal = refused_once(port)
            if refusal is not None:
                break
    if refusal is None:
        raise Fail("no connection was refused with resource-constraint")
    if b"<stream:stream" not in refusal or b"</stream:stream>" not in refusal:
        raise Fail("the refusal is not header, error, close: %r" % refusal)
    # trimmed: a new client is let in again
    deadline = time.time() + 10
    while True:
        try:
            p = login(port, "probe", "p")
            break
        except Fail:
            if time.time() > deadline:
                raise Fail("no login accepted 10 s after the flood")
            time.sleep(0.2)
    p.sendall(b"<iq type='get' id='pp' to='localhost'><ping xmlns='urn:xmpp:"
              b"ping'/></iq>")
    read_until(p, b"id='pp'")
    print("OK %d slow readers closed, a connection refused with "
          "resource-constraint, %d round trips of the pair during the flood "
          "(worst %.0f ms), a login accepted after" %
          (nslow, rounds, worst * 1e3))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (Fail, OSError) as e:
        print("FAIL %s" % e)
        sys.exit(1)
