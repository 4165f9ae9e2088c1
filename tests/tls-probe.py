#!/usr/bin/env python3
# tests/tls-probe.py PORT CASE [DIRECT_PORT]
#
# Raw-socket probes of uxmppd's TLS handling (Python standard library
# only).  Prints "OK CASE ..." and exits 0, or "FAIL CASE: reason" and
# exits 1.  The server must run with require_encryption = yes and a short
# auth_timeout_s (tests/tls-test.sh uses 3).
#
# Cases:
#   features       before TLS only <starttls><required/></starttls> is
#                  offered; SASL before TLS gets <encryption-required/>
#   starttls       STARTTLS, new stream over TLS: no STARTTLS, -PLUS
#                  mechanisms and XEP-0440 channel-binding types offered
#   double         a second STARTTLS over TLS: <failure/>, stream closed
#   injection      bytes sent in the clear right after <starttls/> are
#                  discarded, not answered over TLS (RFC 6120 §5.4.3.3)
#   garbage        garbage instead of a ClientHello: connection closed,
#                  no XML sent after <proceed/>
#   stall          half a ClientHello, then nothing: closed by the server
#                  after the authentication timeout
#   direct-garbage, direct-stall: the same on the direct-TLS port
import socket
import ssl
import sys
import time

DOMAIN = "localhost"
HEADER = ("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
          "xmlns:stream='http://etherx.jabber.org/streams' to='%s' "
          "version='1.0'>" % DOMAIN).encode()
NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls"


class Fail(Exception):
    pass


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    return s


def read_until(sock, marker, timeout=5.0):
    """Read until marker (bytes) is seen; returns everything read."""
    data = b""
    end = time.time() + timeout
    while marker not in data:
        left = end - time.time()
        if left <= 0:
            raise Fail("timed out waiting for %r; got %r" % (marker, data))
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        if not chunk:
            raise Fail("connection closed waiting for %r; got %r" %
                       (marker, data))
        data += chunk
    return data


def wait_closed(sock, timeout):
    """Wait for EOF; returns (seconds waited, bytes received)."""
    start = time.time()
    data = b""
    while True:
        left = start + timeout - time.time()
        if left <= 0:
            raise Fail("still open after %.1fs (got %r)" % (timeout, data))
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        except (ConnectionResetError, ssl.SSLError):
            return time.time() - start, data
        if not chunk:
            return time.time() - start, data
        data += chunk


def starttls(port):
    """Plain connect, STARTTLS, handshake; returns the TLS socket."""
    s = connect(port)
    s.sendall(HEADER)
    read_until(s, b"</stream:features>")
    s.sendall(("<starttls xmlns='%s'/>" % NS_TLS).encode())
    got = read_until(s, b"<proceed")
    if b"/>" not in got.split(b"<proceed", 1)[1]:
        read_until(s, b"/>")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx.wrap_socket(s, server_hostname=DOMAIN)


def case_features(port, _direct):
    s = connect(port)
    s.sendall(HEADER)
    f = read_until(s, b"</stream:features>").decode()
    f = f[f.index("<stream:features"):]
    if "<starttls xmlns='%s'><required/></starttls>" % NS_TLS not in f:
        raise Fail("no required STARTTLS in %s" % f)
    if "mechanisms" in f:
        raise Fail("SASL offered before TLS: %s" % f)
    s.sendall(b"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
              b"mechanism='PLAIN'>AGFsaWNlAHB3</auth>")
    r = read_until(s, b"</failure>").decode()
    if "<encryption-required/>" not in r:
        raise Fail("auth before TLS answered %s" % r)
    s.close()
    return "required STARTTLS only; <encryption-required/>"


def case_starttls(port, _direct):
    t = starttls(port)
    t.sendall(HEADER)
    f = read_until(t, b"</stream:features>").decode()
    for want in ("SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS", "PLAIN",
                 "<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'>",
                 "type='tls-server-end-point'"):
        if want not in f:
            raise Fail("%s missing from %s" % (want, f))
    if "starttls" in f:
        raise Fail("STARTTLS offered again: %s" % f)
    if f.index("SCRAM-SHA-256-PLUS") > f.index("<mechanism>SCRAM-SHA-256<"):
        raise Fail("-PLUS not preferred: %s" % f)
    version = t.version()
    t.close()
    return "over %s: %s" % (version, f[f.index("<sasl-channel"):
                                       f.index("</sasl-channel")])


def case_double(port, _direct):
    t = starttls(port)
    t.sendall(HEADER)
    read_until(t, b"</stream:features>")
    t.sendall(("<starttls xmlns='%s'/>" % NS_TLS).encode())
    r = read_until(t, b"</stream:stream>").decode()
    if "<failure xmlns='%s'/>" % NS_TLS not in r:
        raise Fail("second STARTTLS answered %r" % r)
    wait_closed(t, 5)
    return "<failure/> and closed"


def case_injection(port, _direct):
    s = connect(port)
    s.sendall(HEADER)
    read_until(s, b"</stream:features>")
    # The clear-text <iq/> rides in the same packet as <starttls/>: it must
    # be thrown away, so the first thing over TLS is our new stream.
    s.sendall(("<starttls xmlns='%s'/><iq type='get' id='inj'>"
               "<ping xmlns='urn:xmpp:ping'/></iq>" % NS_TLS).encode())
    read_until(s, b"<proceed")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    t = ctx.wrap_socket(s, server_hostname=DOMAIN)
    t.sendall(HEADER)
    f = read_until(t, b"</stream:features>").decode()
    if "inj" in f or "stream:error" in f:
        raise Fail("injected data answered: %s" % f)
    t.close()
    return "clear-text data after <starttls/> discarded"


def case_garbage(port, direct):
    if direct:
        s = connect(direct)
    else:
        s = connect(port)
        s.sendall(HEADER)
        read_until(s, b"</stream:features>")
        s.sendall(("<starttls xmlns='%s'/>" % NS_TLS).encode())
        read_until(s, b"<proceed xmlns='%s'/>" % NS_TLS.encode())
    s.sendall(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n" + b"\x00" * 64)
    secs, data = wait_closed(s, 5)
    if b"<" in data:
        raise Fail("XML after the TLS failure: %r" % data)
    return "closed after %.2fs (%d bytes, no XML)" % (secs, len(data))


def client_hello():
    """The first flight of a real TLS client, as bytes."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname=DOMAIN)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def case_stall(port, direct):
    if direct:
        s = connect(direct)
    else:
        s = connect(port)
        s.sendall(HEADER)
        read_until(s, b"</stream:features>")
        s.sendall(("<starttls xmlns='%s'/>" % NS_TLS).encode())
        read_until(s, b"<proceed xmlns='%s'/>" % NS_TLS.encode())
    hello = client_hello()
    s.sendall(hello[:len(hello) // 2])
    secs, data = wait_closed(s, 15)
    if secs < 1.5:
        raise Fail("closed too early (%.2fs)" % secs)
    if data:
        raise Fail("server sent %r to a stalled handshake" % data)
    return "closed by the server after %.1fs" % secs


CASES = {
    "features": case_features,
    "starttls": case_starttls,
    "double": case_double,
    "injection": case_injection,
    "garbage": case_garbage,
    "stall": case_stall,
    "direct-garbage": lambda p, d: case_garbage(p, d),
    "direct-stall": lambda p, d: case_stall(p, d),
}


def main():
    port = int(sys.argv[1])
    case = sys.argv[2]
    direct = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    if case.startswith("direct-") and not direct:
        print("FAIL %s: no direct-TLS port given" % case)
        return 1
    if not case.startswith("direct-"):
        direct = 0
    try:
        what = CASES[case](port, direct)
    except (Fail, OSError, ssl.SSLError) as e:
        print("FAIL %s: %s" % (case, e))
        return 1
    print("OK %s: %s" % (case, what))
    return 0


sys.exit(main())
