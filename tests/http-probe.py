#!/usr/bin/env python3
"""tests/http-probe.py HTTP_PORT C2S_PORT CASE - one HTTP or WebSocket
check against a running uxmppd (tests/http-test.sh starts it with
http_header_timeout_s = 2 and http_max_body_bytes = 4096).  Exit status 0
when the check holds; the reason on stderr otherwise.  Standard library
only: the point is to see the bytes."""
import base64
import hashlib
import os
import re
import socket
import struct
import sys
import time

HOST = "127.0.0.1"
HPORT, CPORT, CASE = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
FRAMING = "urn:ietf:params:xml:ns:xmpp-framing"


def fail(why):
    sys.stderr.write(why + "\n")
    sys.exit(1)


def conn():
    s = socket.create_connection((HOST, HPORT), timeout=5)
    return s


def read_until_closed(s, t=5):
    s.settimeout(t)
    data = b""
    while True:
        try:
            d = s.recv(65536)
        except socket.timeout:
            return data, False
        if not d:
            return data, True
        data += d


def read_response(s, buf=b""):
    """One response: (status, headers dict, body, rest of buf)."""
    s.settimeout(5)
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            fail("closed before a response head: %r" % buf)
        buf += d
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    hdrs = {}
    for l in lines[1:]:
        k, v = l.split(":", 1)
        hdrs[k.strip().lower()] = v.strip()
    return status, hdrs, rest


def body_of(s, hdrs, rest, head=False):
    n = 0 if head else int(hdrs.get("content-length", "0"))
    while len(rest) < n:
        d = s.recv(65536)
        if not d:
            fail("closed inside a body")
        rest += d
    return rest[:n], rest[n:]


def expect_status(req, want, closed=None):
    s = conn()
    s.sendall(req)
    st, h, rest = read_response(s)
    if st != want:
        fail("status %d, want %d" % (st, want))
    if closed is not None:
        _, c = read_until_closed(s, 3)
        if c != closed:
            fail("connection %s" % ("open" if not c else "closed"))
    return h


# ---- WebSocket ----

def ws_frame(op, payload, fin=True, mask=b"\x11\x22\x33\x44"):
    n = len(payload)
    b0 = (0x80 if fin else 0) | op
    if n < 126:
        h = bytes([b0, 0x80 | n])
    elif n < 65536:
        h = bytes([b0, 0x80 | 126]) + struct.pack(">H", n)
    else:
        h = bytes([b0, 0x80 | 127]) + struct.pack(">Q", n)
    return h + mask + bytes(c ^ mask[i % 4] for i, c in enumerate(payload))


class WS:
    def __init__(self, extra=b""):
        self.s = conn()
        key = base64.b64encode(os.urandom(16))
        self.s.sendall(b"GET /xmpp-websocket HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                       b"Upgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
                       b"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
                       b"Sec-WebSocket-Protocol: xmpp\r\n%s\r\n" % (HPORT, key, extra))
        st, h, self.buf = read_response(self.s)
        self.status, self.hdrs = st, h
        want = base64.b64encode(hashlib.sha1(
            key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest()).decode()
        if st == 101 and h.get("sec-websocket-accept") != want:
            fail("Sec-WebSocket-Accept %r, want %r" % (h.get("sec-websocket-accept"), want))
        if st == 101 and h.get("sec-websocket-protocol") != "xmpp":
            fail("no xmpp subprotocol in the answer")

    def send(self, text, op=1):
        self.s.sendall(ws_frame(op, text.encode() if isinstance(text, str) else text))

    def recv(self, t=5):
        """(opcode, payload) of the next frame; (None, None) on close."""
        self.s.settimeout(t)
        while True:
            if len(self.buf) >= 2:
                b0, b1 = self.buf[0], self.buf[1]
                if b1 & 0x80:
                    fail("server frame masked")
                n, hl = b1 & 0x7F, 2
                if n == 126:
                    n, hl = struct.unpack(">H", self.buf[2:4])[0], 4
                elif n == 127:
                    n, hl = struct.unpack(">Q", self.buf[2:10])[0], 10
                if len(self.buf) >= hl + n:
                    p = self.buf[hl:hl + n]
                    self.buf = self.buf[hl + n:]
                    if not b0 & 0x80:
                        fail("server fragmented a message")
                    return b0 & 0x0F, p
            try:
                d = self.s.recv(65536)
            except socket.timeout:
                fail("no frame within %ds (have %r)" % (t, self.buf))
            if not d:
                return None, None
            self.buf += d

    def text(self, t=5):
        op, p = self.recv(t)
        if op != 1:
            fail("expected a text frame, got opcode %r %r" % (op, p))
        return p.decode()

    def expect(self, pattern, t=5):
        m = self.text(t)
        if not re.search(pattern, m):
            fail("message %r does not match %r" % (m, pattern))
        return m


def ws_login(user):
    w = WS()
    if w.status != 101:
        fail("upgrade: status %d" % w.status)
    w.send("<open xmlns='%s' to='localhost' version='1.0'/>" % FRAMING)
    w.expect(r"^<open xmlns='%s'[^>]* from='localhost'[^>]*/>$" % FRAMING)
    w.expect(r"^<stream:features xmlns:stream='http://etherx.jabber.org/streams'>.*PLAIN")
    cred = base64.b64encode(b"\0" + user.encode() + b"\0password").decode()
    w.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>%s</auth>" % cred)
    w.expect(r"^<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'")
    # RFC 7395 §3.5: no restart header, a new <open/>
    w.send("<open xmlns='%s' to='localhost' version='1.0'/>" % FRAMING)
    w.expect(r"^<open ")
    w.expect(r"<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'")
    w.send("<iq type='set' id='b1' xmlns='jabber:client'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
           "<resource>ws</resource></bind></iq>")
    w.expect(r"^<iq xmlns='jabber:client'.*<jid>%s@localhost/ws</jid>" % user)
    return w


def tcp_login(user):
    s = socket.create_connection((HOST, CPORT), timeout=5)
    buf = [b""]

    def until(pat):
        while not re.search(pat, buf[0]):
            d = s.recv(65536)
            if not d:
                fail("tcp client: closed waiting for %r: %r" % (pat, buf[0]))
            buf[0] += d
        m = re.search(pat, buf[0])
        buf[0] = buf[0][m.end():]
        return m
    hdr = (b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
           b"xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>")
    s.sendall(hdr)
    until(rb"</stream:features>")
    cred = base64.b64encode(b"\0" + user.encode() + b"\0password")
    s.sendall(b"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>%s</auth>" % cred)
    until(rb"<success")
    s.sendall(hdr)
    until(rb"</stream:features>")
    s.sendall(b"<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
              b"<resource>tcp</resource></bind></iq><presence/>")
    until(rb"</iq>")
    return s, until


def case_ws_session():
    w = ws_login("romeo")
    w.send("<presence xmlns='jabber:client'/>")
    s, until = tcp_login("juliet")
    # websocket -> tcp
    w.send("<message xmlns='jabber:client' to='juliet@localhost/tcp' type='chat'>"
           "<body>over websocket</body></message>")
    until(rb"from='romeo@localhost/ws'[^>]*>\s*<body>over websocket</body>")
    # tcp -> websocket, one stanza per message, with its namespace
    s.sendall(b"<message to='romeo@localhost/ws' type='chat'><body>to websocket</body></message>")
    while True:
        m = w.text()
        if "to websocket" in m:
            break
    if not m.startswith("<message xmlns='jabber:client'") or not m.endswith("</message>"):
        fail("a stanza frame that is not one standalone element: %r" % m)
    # ping -> pong with the same payload
    w.send(b"hello", op=9)
    while True:
        op, p = w.recv()
        if op == 10:
            break
        if op != 1:
            fail("expected a pong, got %r" % op)
    if p != b"hello":
        fail("pong payload %r" % p)
    # a stanza fragmented over three frames, a ping between them
    w.s.sendall(ws_frame(1, b"<iq xmlns='jabber:client' type='get' id='p1'>", fin=False) +
                ws_frame(9, b"") +
                ws_frame(0, b"<ping xmlns='urn:xmpp:ping'/>", fin=False) + ws_frame(0, b"</iq>"))
    got = ""
    while "id='p1'" not in got:
        op, p = w.recv()
        got = p.decode() if op == 1 else got
    # <close/> -> <close/>, then the WebSocket closing handshake
    w.send("<close xmlns='%s'/>" % FRAMING)
    while True:
        m = w.text()
        if m.startswith("<close"):
            break
    op, p = w.recv()
    if op != 8 or p[:2] != b"\x03\xe8":
        fail("expected a close frame with 1000, got %r %r" % (op, p))
    op, p = w.recv()
    if op is not None:
        fail("not closed after the close frame")


def case_ws_bad_frames():
    w = ws_login("romeo")
    w.s.sendall(b"\x81\x05hello")  # unmasked: 1002
    op, p = w.recv()
    while op == 1:
        op, p = w.recv()
    if op != 8 or p[:2] != struct.pack(">H", 1002):
        fail("unmasked frame: %r %r, want close 1002" % (op, p))
    w = WS()
    w.send("<open xmlns='%s' to='localhost' version='1.0'/>" % FRAMING)
    w.text()
    w.text()
    w.send("x" * 300000)  # over max_stanza_bytes: 1009
    op, p = w.recv()
    if op != 8 or p[:2] != struct.pack(">H", 1009):
        fail("oversize message: %r %r, want close 1009" % (op, p))


def case_ws_bad_open():
    w = WS()
    w.send("<open xmlns='urn:wrong' to='localhost' version='1.0'/>")
    w.expect(r"^<open ")
    w.expect(r"^<stream:error xmlns:stream='http://etherx.jabber.org/streams'><invalid-namespace")
    w.expect(r"^<close xmlns='%s'/>$" % FRAMING)
    w = WS()
    w.send("<open to='localhost' version='1.0'/>")
    w.expect(r"^<open ")
    w.expect(r"<invalid-namespace")


def case_ws_origin():
    w = WS(b"Origin: http://evil.example\r\n")
    if w.status != 403:
        fail("foreign origin: status %d, want 403" % w.status)
    w = WS(b"Origin: http://127.0.0.1:%d\r\n" % HPORT)
    if w.status != 101:
        fail("same origin: status %d, want 101" % w.status)


def case_ws_no_protocol():
    s = conn()
    s.sendall(b"GET /xmpp-websocket HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
              b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
              b"Sec-WebSocket-Version: 13\r\n\r\n")
    st, h, rest = read_response(s)
    if st != 400:
        fail("no subprotocol: %d, want 400" % st)
    expect_status(b"GET /xmpp-websocket HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
                  b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                  b"Sec-WebSocket-Version: 8\r\nSec-WebSocket-Protocol: xmpp\r\n\r\n", 426)


def case_host_meta():
    s = conn()
    s.sendall(b"GET /.well-known/host-meta HTTP/1.1\r\nHost: chat.example:5280\r\n\r\n"
              b"GET /.well-known/host-meta.json HTTP/1.1\r\nHost: chat.example:5280\r\n\r\n"
              b"GET /.well-known/host-meta HTTP/1.1\r\nHost: a'b\r\n\r\n")
    url = "ws://chat.example:5280/xmpp-websocket"
    st, h, rest = read_response(s)
    body, rest = body_of(s, h, rest)
    if st != 200 or h.get("content-type") != "application/xrd+xml" or \
            ("<Link rel='urn:xmpp:alt-connections:websocket' href='%s'/>" % url).encode() not in body \
            or h.get("access-control-allow-origin") != "*":
        fail("host-meta: %d %r %r" % (st, h, body))
    st, h, rest = read_response(s, rest)
    body, rest = body_of(s, h, rest)
    import json
    j = json.loads(body)
    if st != 200 or j["links"] != [{"rel": "urn:xmpp:alt-connections:websocket", "href": url}]:
        fail("host-meta.json: %d %r" % (st, body))
    st, h, rest = read_response(s, rest)
    if st != 400:
        fail("host-meta with a Host to escape: %d" % st)


def case_not_found():
    expect_status(b"GET /nope HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", 404, closed=True)


def case_method():
    h = expect_status(b"DELETE /xmpp-websocket HTTP/1.1\r\nHost: h\r\n\r\n", 405)
    if h.get("allow") != "GET":
        fail("Allow: %r" % h.get("allow"))


def case_head():
    s = conn()
    s.sendall(b"HEAD /xmpp-websocket HTTP/1.1\r\nHost: h\r\n\r\nGET /nope HTTP/1.1\r\nHost: h\r\n\r\n")
    st, h, rest = read_response(s)
    if st != 426 or int(h["content-length"]) == 0:
        fail("HEAD: %d %r" % (st, h))
    # no body: the next bytes are the next response
    st2, h2, rest = read_response(s, rest)
    if st2 != 404:
        fail("after HEAD: %d (a body was sent?)" % st2)


def case_pipelined():
    s = conn()
    s.sendall(b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
              b"POST /b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
              b"3\r\nabc\r\n0\r\n\r\n"
              b"DELETE /xmpp-websocket HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyz")
    rest = b""
    for want in (404, 404, 405):
        st, h, rest = read_response(s, rest)
        if st != want:
            fail("pipelined: %d, want %d" % (st, want))
        _, rest = body_of(s, h, rest)
    # still open (keep-alive), byte by byte
    for c in b"GET /c HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n":
        s.sendall(bytes([c]))
    st, h, rest = read_response(s, rest)
    if st != 404 or h.get("connection") != "close":
        fail("fourth request: %d %r" % (st, h))
    _, c = read_until_closed(s, 3)
    if not c:
        fail("not closed after Connection: close")


def case_bad_request():
    expect_status(b"GET / HTTP/1.1\r\n\r\n", 400, closed=True)
    expect_status(b"GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400, closed=True)


def case_uri_too_long():
    expect_status(b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: h\r\n\r\n", 414, closed=True)


def case_header_too_large():
    expect_status(b"GET / HTTP/1.1\r\nHost: h\r\nX: " + b"a" * 17000 + b"\r\n\r\n", 431, closed=True)
    expect_status(b"GET / HTTP/1.1\r\nHost: h\r\n" +
                  b"".join(b"X-%d: 1\r\n" % i for i in range(70)) + b"\r\n", 431, closed=True)


def case_body_too_large():
    expect_status(b"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5000\r\n\r\n", 413, closed=True)
    expect_status(b"GET /xmpp-websocket HTTP/1.1\r\nHost: h\r\nContent-Length: 5000\r\n\r\n",
                  413, closed=True)
    # chunked past the limit: the answer at the head (404), then the close
    expect_status(b"POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                  b"1000\r\n" + b"a" * 4096 + b"\r\n1\r\n", 404, closed=True)


def metrics():
    s = conn()
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: h\r\n\r\n")
    st, h, rest = read_response(s)
    body, _ = body_of(s, h, rest)
    s.close()
    if st != 200:
        fail("/metrics: %d" % st)
    if h.get("content-type") != "text/plain; version=0.0.4; charset=utf-8":
        fail("/metrics content-type %r" % h.get("content-type"))
    vals, typed = {}, {}
    for line in body.decode().splitlines():
        if line.startswith("# TYPE "):
            typed[line.split()[2]] = line.split()[3]
        elif line and not line.startswith("#"):
            name, v = line.split(" ")
            base = name.split("{")[0]
            for suffix in ("_bucket", "_sum", "_count"):
                if (base.endswith(suffix) and
                        typed.get(base[:-len(suffix)]) == "histogram"):
                    base = base[:-len(suffix)]
            if base not in typed:
                fail("%s without # TYPE" % name)
            vals[name] = float(v) if "." in v else int(v)
    return vals


def case_metrics():
    m0 = metrics()
    for k in ("uxmppd_connections", "uxmppd_sessions", "uxmppd_muc_rooms",
              "uxmppd_stanzas_in_total", "uxmppd_stanzas_out_total",
              "uxmppd_upload_stored_bytes_total", "uxmppd_uptime_seconds",
              "uxmppd_muc_occupants", "uxmppd_store_bytes",
              "uxmppd_store_fsync_seconds_count",
              "process_resident_memory_bytes"):
        if k not in m0:
            fail("no %s in %r" % (k, m0))
    if m0["process_resident_memory_bytes"] < 1 << 20:
        fail("RSS %d" % m0["process_resident_memory_bytes"])
    s1, until1 = tcp_login("romeo")
    s2, until2 = tcp_login("juliet")
    for i in range(3):
        s1.sendall(b"<message to='juliet@localhost/tcp' type='chat'>"
                   b"<body>m%d</body></message>" % i)
    until2(rb"m2</body>")
    m1 = metrics()
    if m1["uxmppd_sessions"] - m0["uxmppd_sessions"] != 2:
        fail("sessions %d -> %d" % (m0["uxmppd_sessions"], m1["uxmppd_sessions"]))
    # connections: the two clients (the /metrics one is new each time)
    if m1["uxmppd_connections"] - m0["uxmppd_connections"] != 2:
        fail("connections %d -> %d" % (m0["uxmppd_connections"],
                                       m1["uxmppd_connections"]))
    # bind iqs, presence, three messages in; results and messages out
    if m1["uxmppd_stanzas_in_total"] - m0["uxmppd_stanzas_in_total"] < 5:
        fail("stanzas in %d -> %d" % (m0["uxmppd_stanzas_in_total"],
                                      m1["uxmppd_stanzas_in_total"]))
    if m1["uxmppd_stanzas_out_total"] - m0["uxmppd_stanzas_out_total"] < 3:
        fail("stanzas out %d -> %d" % (m0["uxmppd_stanzas_out_total"],
                                       m1["uxmppd_stanzas_out_total"]))
    # a stored change (private XML) is one flush: one more fdatasync in
    # the histogram, a longer store.log
    s1.sendall(b"<iq type='set' id='px'><query xmlns='jabber:iq:private'>"
               b"<note xmlns='urn:uxmppd:test'>metrics</note></query></iq>")
    until1(rb"id='px'")
    m2 = metrics()
    fs = "uxmppd_store_fsync_seconds"
    if m2[fs + "_count"] <= m1.get(fs + "_count", 0):
        fail("fsync count %r -> %r" % (m1.get(fs + "_count"), m2[fs + "_count"]))
    if m2[fs + '_bucket{le="+Inf"}'] != m2[fs + "_count"]:
        fail("+Inf bucket %r, count %r" % (m2[fs + '_bucket{le="+Inf"}'],
                                          m2[fs + "_count"]))
    les = [k for k in m2 if k.startswith(fs + "_bucket")]
    if len(les) != 9 or any(m2[a] > m2[b] for a, b in zip(les, les[1:])):
        fail("buckets not cumulative: %r" % [(k, m2[k]) for k in les])
    if m2["uxmppd_store_bytes"] <= m1["uxmppd_store_bytes"]:
        fail("store bytes %d -> %d" % (m1["uxmppd_store_bytes"],
                                       m2["uxmppd_store_bytes"]))
    if m2["uxmppd_muc_occupants"] != 0:
        fail("occupants %d" % m2["uxmppd_muc_occupants"])
    s1.sendall(b"<presence to='metrics@conference.localhost/r'>"
               b"<x xmlns='http://jabber.org/protocol/muc'/></presence>")
    until1(rb"status code='110'")
    m3 = metrics()
    if m3["uxmppd_muc_occupants"] != 1 or m3["uxmppd_muc_rooms"] < 1:
        fail("occupants %d, rooms %d after a join" %
             (m3["uxmppd_muc_occupants"], m3["uxmppd_muc_rooms"]))
    s1.close()
    s2.close()


def case_slowloris():
    s = conn()
    s.sendall(b"GET / HTTP/1.1\r\nHost: h\r\n")
    t0 = time.time()
    data, closed = read_until_closed(s, 6)
    if not closed or not data.startswith(b"HTTP/1.1 408 "):
        fail("slow head: %r closed=%s" % (data, closed))
    if time.time() - t0 > 5:
        fail("408 after %.1fs, timeout is 2s" % (time.time() - t0))
    s = conn()  # a connection that never sends anything
    data, closed = read_until_closed(s, 6)
    if not closed:
        fail("silent connection not closed")


CASES = {n[5:].replace("_", "-"): f for n, f in globals().items() if n.startswith("case_")}
if CASE not in CASES:
    fail("unknown case %s (%s)" % (CASE, " ".join(sorted(CASES))))
CASES[CASE]()
