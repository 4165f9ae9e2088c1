#!/usr/bin/env python3
# tests/scram-probe.py PORT MECH USER...
#
# What an attacker probing for accounts sees: for each USER, a SCRAM
# client-first-message (RFC 5802 §5.1) over a fresh connection, and the
# salt and iteration count of the server-first-message.  Prints one line
# "USER SALT_BASE64 ITERATIONS" each and exits 0; "FAIL: reason", exit 1.
# Python standard library only; used by tests/enumeration-test.sh.
import base64
import socket
import sys
import time

HEADER = (b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
          b"xmlns:stream='http://etherx.jabber.org/streams' to='localhost' "
          b"version='1.0'>")


def read_until(sock, marker, timeout=5.0):
    data = b""
    end = time.time() + timeout
    while marker not in data:
        left = end - time.time()
        if left <= 0:
            raise RuntimeError("timed out; got %r" % data[-300:])
        sock.settimeout(left)
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("closed; got %r" % data[-300:])
        data += chunk
    return data


def probe(port, mech, user):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    first = base64.b64encode(("n,,n=%s,r=probe0123456789" % user).encode())
    s.sendall(HEADER + ("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
              "mechanism='%s'>%s</auth>" % (mech, first.decode())).encode())
    data = read_until(s, b"</challenge>")
    s.close()
    b64 = data.split(b"<challenge", 1)[1].split(b">", 1)[1]
    b64 = b64.split(b"</challenge>", 1)[0]
    attrs = dict(kv.split("=", 1) for kv in
                 base64.b64decode(b64).decode().split(","))
    return attrs["s"], attrs["i"]


def main():
    port, mech = int(sys.argv[1]), sys.argv[2]
    try:
        for user in sys.argv[3:]:
            salt, iterations = probe(port, mech, user)
            print(user, salt, iterations)
    except Exception as e:  # any failure is the test's failure
        print("FAIL: %s" % e)
        return 1
    return 0


sys.exit(main())
