#!/usr/bin/env python3
# tests/ratelimit-probe.py PORT CASE
#
# Floods past uxmppd's rate limits over real sockets (Python standard
# library only) while a well-behaved pair of clients, romeo and juliet
# logged in from 127.0.0.3, keeps exchanging messages: each one must
# arrive within one second during the whole flood.  The floods come from
# 127.0.0.2 (the client socket is bound to it; 127.0.0.5 for the
# per-session buckets), which is not on the exemption list; 127.0.0.1 is.  Prints "OK CASE ..." and exits 0, or
# "FAIL CASE: reason" and exits 1.  tests/ratelimit-test.sh starts the
# server with the limits named in each case; accounts romeo, juliet and
# flood, password "password".
#
# Cases:
#   preauth       40 connections that never authenticate from one address:
#                 past max_preauth_per_ip (10) each is refused with a
#                 stream header and <policy-violation/>; the exempt
#                 127.0.0.1 and another address still get in
#   per-ip        authenticated sessions from one address up to
#                 max_connections_per_ip (20): the next is refused; after
#                 one leaves, one more gets in
#   ipv6-64       connections from ::1 (not exempt here) up to
#                 max_connections_per_ipv6_64 (5): the next is refused
#   auth          wrong passwords from one address: past
#                 max_auth_failures_per_ip (5) every attempt, even with
#                 the right password, is answered <temporary-auth-failure/>
#                 only after auth_failure_delay_ms (500), eight at once in
#                 parallel (a timer, not a blocked reactor); the third
#                 failure on one stream closes it (max_auth_failures_per_
#                 stream); another address logs in at once
#   resources     max_resources_per_account (12) resources of one account
#                 bound; the next bind gets <resource-constraint/> (type
#                 wait), the stream stays; binding a bound resource again
#                 replaces it (conflict), it is not refused
#   muc           an occupant sends 60 groupchat messages and 40 presence
#                 changes at once; with muc_max_messages_per_s 5 and
#                 muc_max_presence_per_s 2 (bursts of 5 s) the excess
#                 bounces with <error type='wait'><policy-violation/>;
#                 every message is either reflected or bounced; another
#                 occupant is not held back; past muc_max_rooms_per_user
#                 (3) creating a room gets a cancel policy-violation
#   stanza-rate   one session sends 150 messages at once; with
#                 max_stanzas_per_s 50 and a burst of 50 they take at
#                 least 2 s to arrive, every one arrives, in order
#   byte-rate     one session sends 30 messages of 10 KB at once; with
#                 max_bytes_per_s and its burst at 100000 they take at
#                 least 2 s to arrive, every one arrives, in order
import base64
import socket
import sys
import threading
import time

HEADER = (b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
          b"xmlns:stream='http://etherx.jabber.org/streams' to='localhost' "
          b"version='1.0'>")
FLOOD_IP = "127.0.0.2"
PAIR_IP = "127.0.0.3"
OTHER_IP = "127.0.0.4"
RATE_IP = "127.0.0.5"     # the buckets' flood: 127.0.0.2 is refused by then


class Fail(Exception):
    pass


def connect(port, source, host="127.0.0.1"):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(5)
    if source is not None:
        s.bind((source, 0))
    s.connect((host, port))
    return s


def read_until(sock, marker, timeout=5.0):
    data = b""
    end = time.time() + timeout
    while marker not in data:
        left = end - time.time()
        if left <= 0:
            raise Fail("timed out waiting for %r; got %r" %
                       (marker, data[-300:]))
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


def read_to_close(sock, timeout=5.0):
    data = b""
    end = time.time() + timeout
    while True:
        left = end - time.time()
        if left <= 0:
            raise Fail("server did not close; got %r" % data[-300:])
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk


def login(port, user, resource, source, host="127.0.0.1"):
    s = connect(port, source, host)
    auth = base64.b64encode(b"\0" + user.encode() + b"\0password").decode()
    s.sendall(HEADER + ("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
              "mechanism='PLAIN'>%s</auth>" % auth).encode())
    read_until(s, b"<success")
    s.sendall(HEADER + ("<iq type='set' id='b'><bind xmlns='urn:ietf:params:"
              "xml:ns:xmpp-bind'><resource>%s</resource></bind></iq>"
              % resource).encode())
    read_until(s, b"</jid>")
    return s


def expect_refused(s, what):
    """s was refused at accept: a policy-violation stream error, closed."""
    s.sendall(HEADER)
    data = read_to_close(s)
    if b"<policy-violation" not in data:
        raise Fail("%s: no policy-violation before the close: %r" %
                   (what, data[-300:]))


class Pair:
    """romeo and juliet chat from PAIR_IP in a thread: every message must
    arrive within one second.  stop() raises Fail if one did not."""

    def __init__(self, port):
        self.romeo = login(port, "romeo", "pair", PAIR_IP)
        self.juliet = login(port, "juliet", "pair", PAIR_IP)
        self.worst = 0.0
        self.sent = 0
        self.error = None
        self.done = threading.Event()
        # a daemon: a case that fails before stop() must not hang
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        try:
            while not self.done.is_set():
                self.sent += 1
                marker = ("m%d<" % self.sent).encode()
                start = time.time()
                self.romeo.sendall(("<message to='juliet@localhost/pair' "
                                    "type='chat'><body>m%d</body></message>"
                                    % self.sent).encode())
                read_until(self.juliet, marker, timeout=1.0)
                self.worst = max(self.worst, time.time() - start)
                time.sleep(0.05)
        except (Fail, OSError) as e:
            self.error = "message %d: %s" % (self.sent, e)

    def stop(self):
        # a flood can be over in a few milliseconds: a few messages more
        deadline = time.time() + 2
        while self.sent < 3 and self.error is None and time.time() < deadline:
            time.sleep(0.01)
        self.done.set()
        self.thread.join()
        if self.error is not None:
            raise Fail("the well-behaved pair: " + self.error)
        if self.sent < 2:
            raise Fail("the pair exchanged only %d messages" % self.sent)
        return "pair exchanged %d messages, slowest %.0f ms" % (
            self.sent, self.worst * 1000)


def case_preauth(port):
    pair = Pair(port)
    held, refused = [], 0
    for i in range(40):
        s = connect(port, FLOOD_IP)
        if i < 10:
            held.append(s)
            continue
        expect_refused(s, "connection %d" % (i + 1))
        s.close()
        refused += 1
    # other addresses are not affected; the exempt one never is
    login(port, "romeo", "other", OTHER_IP).close()
    login(port, "romeo", "exempt", "127.0.0.1").close()
    # a held connection that authenticates frees a pre-auth slot
    s = held.pop()
    auth = base64.b64encode(b"\0flood\0password").decode()
    s.sendall(HEADER + ("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
              "mechanism='PLAIN'>%s</auth>" % auth).encode())
    read_until(s, b"<success")
    held.append(s)
    late = connect(port, FLOOD_IP)
    late.sendall(HEADER)
    read_until(late, b"<stream:features")
    held.append(late)
    result = pair.stop()
    for s in held:
        s.close()
    print("OK preauth (%d refused; %s)" % (refused, result))


def case_per_ip(port):
    pair = Pair(port)
    # two accounts: max_resources_per_account is 12
    sessions = [login(port, "flood" if i < 10 else "flood2", "r%d" % i,
                      FLOOD_IP) for i in range(20)]
    for i in range(5):
        s = connect(port, FLOOD_IP)
        expect_refused(s, "session %d" % (21 + i))
        s.close()
    sessions.pop().close()
    deadline = time.time() + 3
    while True:  # the server notices the close on its next turn
        try:
            sessions.append(login(port, "flood", "again", FLOOD_IP))
            break
        except (Fail, OSError):
            if time.time() > deadline:
                raise Fail("no room after a session left")
            time.sleep(0.05)
    result = pair.stop()
    for s in sessions:
        s.close()
    print("OK per-ip (%s)" % result)


def case_ipv6_64(port):
    pair = Pair(port)
    held = [connect(port, None, "::1") for _ in range(5)]
    for s in held:
        s.sendall(HEADER)
        read_until(s, b"<stream:features")
    s = connect(port, None, "::1")
    expect_refused(s, "the sixth from ::1")
    result = pair.stop()
    for s in held:
        s.close()
    print("OK ipv6-64 (%s)" % result)


def sasl_plain(s, user, password, header=True):
    auth = base64.b64encode(("\0%s\0%s" % (user, password)).encode())
    s.sendall((HEADER if header else b"") +
              b"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
              b"mechanism='PLAIN'>" + auth + b"</auth>")


def case_auth(port):
    pair = Pair(port)
    # five failures, two on the first stream, three on a second
    s = connect(port, FLOOD_IP)
    for i in range(2):
        sasl_plain(s, "flood", "Wr0ngSecret", header=(i == 0))
        read_until(s, b"<not-authorized/></failure>")
    s.close()
    s = connect(port, FLOOD_IP)
    sasl_plain(s, "flood", "Wr0ngSecret")
    read_until(s, b"<not-authorized/></failure>")
    sasl_plain(s, "nobody", "Wr0ngSecret", header=False)
    read_until(s, b"<not-authorized/></failure>")
    s.close()
    s = connect(port, FLOOD_IP)
    sasl_plain(s, "flood", "Wr0ngSecret")
    read_until(s, b"<not-authorized/></failure>")
    # the sixth attempt, right password: refused, after the delay
    start = time.time()
    sasl_plain(s, "flood", "password", header=False)
    read_until(s, b"<temporary-auth-failure/></failure>")
    took = time.time() - start
    if took < 0.4:
        raise Fail("refusal after %.2f s, auth_failure_delay_ms is 500" %
                   took)
    # a second refusal is this stream's third failure: closed
    sasl_plain(s, "flood", "password", header=False)
    data = read_to_close(s)
    if (b"<temporary-auth-failure/>" not in data or
            b"<policy-violation" not in data):
        raise Fail("third failure on one stream: %r" % data[-300:])
    s.close()
    # eight refused at once: answered together after one delay
    socks = [connect(port, FLOOD_IP) for _ in range(8)]
    start = time.time()
    for c in socks:
        sasl_plain(c, "flood", "password")
    for c in socks:
        read_until(c, b"<temporary-auth-failure/></failure>")
        c.close()
    took = time.time() - start
    if took > 1.5:
        raise Fail("8 parallel refusals took %.2f s" % took)
    # another address is not affected
    start = time.time()
    login(port, "flood", "other", OTHER_IP).close()
    if time.time() - start > 0.4:
        raise Fail("a login from another address was delayed")
    result = pair.stop()
    print("OK auth (parallel refusals in %.2f s; %s)" % (took, result))


def flood_and_count(port, count, body_bytes):
    """flood/src (RATE_IP) sends count messages at once to flood/sink
    (OTHER_IP); returns the seconds until the last one arrived."""
    src = login(port, "flood", "src", RATE_IP)
    sink = login(port, "flood", "sink", OTHER_IP)
    body = "x" * body_bytes
    msgs = b"".join(("<message to='flood@localhost/sink' type='chat'>"
                     "<body>n%d %s</body></message>" % (i, body)).encode()
                    for i in range(count))
    start = time.time()
    sender = threading.Thread(target=src.sendall, args=(msgs,))
    sender.start()
    data = read_until(sink, ("n%d " % (count - 1)).encode(), timeout=30)
    took = time.time() - start
    sender.join()
    seen = [int(x.split(b" ")[0]) for x in data.split(b"<body>n")[1:]]
    if seen != list(range(count)):
        raise Fail("%d of %d messages arrived, or out of order" %
                   (len(seen), count))
    # the flooder is still served once its input is through
    src.sendall(b"<iq type='get' id='pong' to='localhost'><ping "
                b"xmlns='urn:xmpp:ping'/></iq>")
    read_until(src, b"id='pong'", timeout=10)
    src.close()
    sink.close()
    return took


def case_stanza_rate(port):
    pair = Pair(port)
    took = flood_and_count(port, 150, 10)
    result = pair.stop()
    if took < 1.8:
        raise Fail("150 stanzas at 50/s (burst 50) arrived in %.2f s" % took)
    print("OK stanza-rate (150 in %.2f s; %s)" % (took, result))


def case_byte_rate(port):
    pair = Pair(port)
    took = flood_and_count(port, 30, 10000)
    result = pair.stop()
    if took < 1.8:
        raise Fail("300 KB at 100 KB/s (burst 100 KB) arrived in %.2f s" %
                   took)
    print("OK byte-rate (300 KB in %.2f s; %s)" % (took, result))


def case_resources(port):
    pair = Pair(port)
    res_ip = "127.0.0.6"
    sessions = [login(port, "flood3", "r%d" % i, res_ip) for i in range(12)]
    s = connect(port, res_ip)
    sasl_plain(s, "flood3", "password")
    read_until(s, b"<success")
    s.sendall(HEADER + b"<iq type='set' id='b13'><bind xmlns='urn:ietf:"
              b"params:xml:ns:xmpp-bind'><resource>r12</resource></bind></iq>")
    data = read_until(s, b"</iq>")
    if (b"type='error'" not in data or b"type='wait'" not in data or
            b"<resource-constraint" not in data):
        raise Fail("13th bind: %r" % data[-300:])
    # the stream is still open: the same resource as a bound one is fine
    s.sendall(b"<iq type='set' id='b0'><bind xmlns='urn:ietf:params:xml:"
              b"ns:xmpp-bind'><resource>r0</resource></bind></iq>")
    data = read_until(s, b"</iq>")
    if b"<jid>flood3@localhost/r0</jid>" not in data:
        raise Fail("rebinding r0: %r" % data[-300:])
    read_until(sessions[0], b"<conflict")
    result = pair.stop()
    s.close()
    for c in sessions:
        c.close()
    print("OK resources (%s)" % result)


MUC_NS = b"http://jabber.org/protocol/muc"
ROOM = b"limits@conference.localhost"


def case_muc(port):
    pair = Pair(port)
    src = login(port, "flood", "mucsrc", RATE_IP)
    sink = login(port, "juliet", "mucsink", OTHER_IP)
    src.sendall(b"<presence to='" + ROOM + b"/src'><x xmlns='" + MUC_NS +
                b"'/></presence>")
    read_until(src, b"status code='201'")
    src.sendall(b"<iq type='set' id='cfg' to='" + ROOM + b"'><query xmlns='"
                + MUC_NS + b"#owner'><x xmlns='jabber:x:data' type='submit'"
                b"/></query></iq>")
    read_until(src, b"id='cfg'")
    sink.sendall(b"<presence to='" + ROOM + b"/sink'><x xmlns='" + MUC_NS +
                 b"'/></presence>")
    read_until(sink, b"status code='110'")
    read_until(src, b"/sink'")
    msgs = b"".join(b"<message type='groupchat' id='g%d' to='%s'><body>g%d"
                    b"</body></message>" % (i, ROOM, i) for i in range(60))
    src.sendall(msgs)
    data = b""
    end = time.time() + 10
    while time.time() < end:
        reflected = data.count(b"type='groupchat'")
        bounced = data.count(b"<policy-violation")
        if reflected + bounced >= 60:
            break
        src.settimeout(0.5)
        try:
            data += src.recv(65536)
        except socket.timeout:
            pass
    if reflected + bounced != 60:
        raise Fail("of 60 messages %d reflected, %d bounced" %
                   (reflected, bounced))
    if bounced < 20 or reflected < 25:
        raise Fail("%d reflected, %d bounced: want the burst of 25 "
                   "through and most of the rest bounced" %
                   (reflected, bounced))
    if b"type='error'" not in data or b"type='wait'" not in data:
        raise Fail("the bounce is not a wait error: %r" % data[-400:])
    # the other occupant is not held back by it
    start = time.time()
    sink.sendall(b"<message type='groupchat' id='s1' to='" + ROOM +
                 b"'><body>from the sink</body></message>")
    read_until(sink, b"from the sink")
    if time.time() - start > 1.0:
        raise Fail("the other occupant waited %.2f s" %
                   (time.time() - start))
    pres = b"".join(b"<presence to='%s/src' id='p%d'><status>s%d</status>"
                    b"</presence>" % (ROOM, i, i) for i in range(40))
    src.sendall(pres)
    data = b""
    end = time.time() + 10
    while time.time() < end and data.count(b"<policy-violation") < 20:
        src.settimeout(0.5)
        try:
            data += src.recv(65536)
        except socket.timeout:
            pass
    pbounced = data.count(b"<policy-violation")
    if pbounced < 20:
        raise Fail("of 40 presence changes only %d bounced" % pbounced)
    # muc_max_rooms_per_user (3): two more rooms, the fourth refused
    for i in range(3):
        src.sendall(b"<presence to='own%d@conference.localhost/src'><x "
                    b"xmlns='%s'/></presence>" % (i, MUC_NS))
        data = read_until(src, b"own%d@conference.localhost/src'" % i)
        while b"</presence>" not in data.split(b"own%d@" % i, 1)[1]:
            data += src.recv(65536)
    tail = data.split(b"own2@", 1)[1]
    if b"<policy-violation" not in tail or b"type='cancel'" not in tail:
        raise Fail("the fourth room was not refused: %r" % data[-300:])
    result = pair.stop()
    src.close()
    sink.close()
    print("OK muc (%d reflected, %d bounced, %d presences bounced; %s)" %
          (reflected, bounced, pbounced, result))


CASES = {
    "muc": case_muc,
    "resources": case_resources,
    "stanza-rate": case_stanza_rate,
    "byte-rate": case_byte_rate,
    "auth": case_auth,
    "preauth": case_preauth,
    "per-ip": case_per_ip,
    "ipv6-64": case_ipv6_64,
}


def main():
    port, case = int(sys.argv[1]), sys.argv[2]
    try:
        CASES[case](port)
    except (Fail, OSError) as e:
        print("FAIL %s: %s" % (case, e))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
