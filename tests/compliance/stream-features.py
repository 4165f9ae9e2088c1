#!/usr/bin/env python3
# tests/compliance/stream-features.py PORT DIRECT_PORT CAFILE JID PASSWORD
#
# The checks of the Conversations compliance tester that a scansion
# scenario cannot express, because they look at the stream itself rather
# than at stanzas (Python standard library only).  Prints one line per
# check, "PASS name: detail" or "FAIL name: reason", and exits 0 when the
# login itself worked (whatever the checks say), 2 when it did not.
#
# The tester logs in and then looks at every stream feature the server
# advertised on that connection: its client library keeps the features of
# each <stream:features/> (before TLS, after TLS, after SASL) until the
# connection closes.  So this probe does the same login (STARTTLS when
# offered, SASL PLAIN, resource binding) and checks the union:
#   rfc6121_roster_versioning
#                      <ver xmlns='urn:xmpp:features:rosterver'/>
#   xep0115_caps       <c xmlns='http://jabber.org/protocol/caps'/>, here
#                      also with the hash, node and ver attributes that
#                      XEP-0115 §6.3 requires (a <c/> without them is no use)
#   xep0198_sm         <sm xmlns='urn:xmpp:sm:3'/>
#   xep0352_csi        <csi xmlns='urn:xmpp:csi:0'/>
# and, on the direct-TLS port:
#   xep0368_direct_tls a TLS handshake with SNI = the domain and ALPN
#                      "xmpp-client" whose certificate verifies for the
#                      domain (here against CAFILE, the server's own
#                      certificate; the tester trusts the system CAs), then
#                      a stream header answered with "<?xml".  The tester
#                      finds the port through the _xmpps-client._tcp SRV
#                      record, which is DNS, not the server.
import base64
import socket
import ssl
import sys
import time
import xml.etree.ElementTree as ET

PORT, DPORT, CAFILE, JID, PASSWORD = sys.argv[1:6]
USER, DOMAIN = JID.split("@", 1)
HEADER = ("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
          "xmlns:stream='http://etherx.jabber.org/streams' to='%s' "
          "version='1.0'>" % DOMAIN).encode()
NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls"
NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
NS_BIND = "urn:ietf:params:xml:ns:xmpp-bind"


class Fail(Exception):
    pass


def read_until(sock, marker, timeout=5.0, markers=None):
    """Read until marker (or any of markers) is seen, or 21 bytes when
    marker is None; returns everything read."""
    data = b""
    end = time.time() + timeout

    def done():
        if markers is not None:
            return any(m in data for m in markers)
        if marker is None:
            return len(data) >= 21
        return marker in data
    while not done():
        left = end - time.time()
        if left <= 0:
            raise Fail("timed out waiting for %r; got %r" %
                       (markers or marker, data))
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        if not chunk:
            raise Fail("closed waiting for %r; got %r" %
                       (markers or marker, data))
        data += chunk
    return data


def features(sock, stage, seen):
    """Send a stream header, read <stream:features/>, record its children."""
    sock.sendall(HEADER)
    data = read_until(sock, b"</stream:features>").decode()
    start = data.find("<stream:features")
    if start < 0:
        raise Fail("no <stream:features/> after the header (%s)" % stage)
    body = data[start:data.index("</stream:features>")]
    body = body[body.index(">") + 1:]
    root = ET.fromstring("<features>" + body + "</features>")
    for el in root:
        seen.append((stage, el))
    return root


def has(root, ns, name):
    return root.find("{%s}%s" % (ns, name)) is not None


def login(seen):
    sock = socket.create_connection(("127.0.0.1", int(PORT)), timeout=5)
    f = features(sock, "before TLS", seen)
    if has(f, NS_TLS, "starttls"):
        sock.sendall(("<starttls xmlns='%s'/>" % NS_TLS).encode())
        read_until(sock, b"<proceed")
        ctx = ssl.create_default_context(cafile=CAFILE)
        sock = ctx.wrap_socket(sock, server_hostname=DOMAIN)
        f = features(sock, "after TLS", seen)
    mechs = [m.text for m in f.iter("{%s}mechanism" % NS_SASL)]
    if "PLAIN" not in mechs:
        raise Fail("PLAIN not offered (mechanisms: %s)" % mechs)
    cred = base64.b64encode(("\0%s\0%s" % (USER, PASSWORD)).encode())
    sock.sendall(("<auth xmlns='%s' mechanism='PLAIN'>%s</auth>" %
                  (NS_SASL, cred.decode())).encode())
    reply = read_until(sock, None, markers=(b"</success>", b"<success/>",
                       b"</failure>"))
    if b"<success" not in reply:
        raise Fail("SASL PLAIN failed: %r" % reply)
    f = features(sock, "after SASL", seen)
    if not has(f, NS_BIND, "bind"):
        raise Fail("no <bind/> after SASL")
    sock.sendall(("<iq type='set' id='b1'><bind xmlns='%s'/></iq>" %
                  NS_BIND).encode())
    reply = read_until(sock, b"</iq>")
    if b"type='result'" not in reply and b'type="result"' not in reply:
        raise Fail("resource binding failed: %r" % reply)
    sock.sendall(b"</stream:stream>")
    sock.close()


def report(name, found, detail):
    if found:
        print("PASS %s: %s" % (name, detail))
    else:
        print("FAIL %s: %s" % (name, detail))


def check_feature(seen, name, ns, local, attrs=()):
    tag = "{%s}%s" % (ns, local)
    els = [(stage, el) for stage, el in seen if el.tag == tag]
    if not els:
        report(name, False, "no <%s xmlns='%s'/> in any stream:features" %
               (local, ns))
        return
    for stage, el in els:
        missing = [a for a in attrs if not el.get(a)]
        if not missing:
            report(name, True, "<%s xmlns='%s'/> %s" % (local, ns, stage))
            return
    report(name, False, "<%s xmlns='%s'/> lacks %s" %
           (local, ns, ", ".join(missing)))


def check_direct_tls():
    ctx = ssl.create_default_context(cafile=CAFILE)
    ctx.set_alpn_protocols(["xmpp-client"])
    try:
        raw = socket.create_connection(("127.0.0.1", int(DPORT)), timeout=5)
        sock = ctx.wrap_socket(raw, server_hostname=DOMAIN)
    except (OSError, ssl.SSLError) as e:
        report("xep0368_direct_tls", False,
               "TLS handshake or verification: %s" % e)
        return
    alpn = sock.selected_alpn_protocol()
    if alpn not in (None, "xmpp-client"):
        report("xep0368_direct_tls", False, "ALPN selected %r" % alpn)
        return
    try:
        sock.sendall(HEADER)
        data = read_until(sock, None)  # the tester reads 21 characters
    except (Fail, OSError) as e:
        report("xep0368_direct_tls", False, "no stream header: %s" % e)
        return
    sock.close()
    ok = data.startswith(b"<?xml")
    report("xep0368_direct_tls", ok,
           "certificate verified for %s, ALPN %s, the stream opens with %r"
           % (DOMAIN, alpn or "not negotiated",
              data[:21].decode(errors="replace")))


def main():
    seen = []
    try:
        login(seen)
    except (Fail, OSError, ssl.SSLError, ET.ParseError) as e:
        print("login failed: %s" % e)
        return 2
    check_feature(seen, "rfc6121_roster_versioning",
                  "urn:xmpp:features:rosterver", "ver")
    check_feature(seen, "xep0115_caps", "http://jabber.org/protocol/caps", "c",
                  ("hash", "node", "ver"))
    check_feature(seen, "xep0198_sm", "urn:xmpp:sm:3", "sm")
    check_feature(seen, "xep0352_csi", "urn:xmpp:csi:0", "csi")
    check_direct_tls()
    return 0


sys.exit(main())
