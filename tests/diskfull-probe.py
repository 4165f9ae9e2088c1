#!/usr/bin/env python3
# tests/diskfull-probe.py PORT DATA_DIR PHASE
#
# The clients of tests/diskfull-test.sh (Python standard library only).
# The server's data_dir is a small file system the probe fills up.
# Prints "OK name" / "FAIL name: reason" lines, one per check; exits 1
# after a failure.
#
# Phase "full": romeo and carol store private XML ("before"); then the
# disk is filled (DATA_DIR/filler until ENOSPC).  romeo's next change is
# accepted but its flush fails: his reply is held (it would acknowledge
# what is not on disk), while the store now refuses changes: carol's
# change gets <resource-constraint/>, her read still answers "before",
# and alice and bob, who change nothing, keep chatting both ways within
# a second.  Then the filler goes: with no restart, romeo's reply arrives
# and carol's next change is stored.
# Phase "after-restart": what was acknowledged is there (romeo "during",
# carol "after"), what was refused is not.
import base64
import errno
import os
import socket
import sys
import time

HEADER = (b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
          b"xmlns:stream='http://etherx.jabber.org/streams' to='localhost' "
          b"version='1.0'>")
failed = False


class Fail(Exception):
    pass


def check(ok, name, why=""):
    global failed
    if ok:
        print("OK %s" % name)
    else:
        print("FAIL %s: %s" % (name, why))
        failed = True


class Client:
    def __init__(self, port, user):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.buf = b""
        auth = base64.b64encode(b"\0" + user.encode() + b"\0password")
        self.s.sendall(HEADER + b"<auth xmlns='urn:ietf:params:xml:ns:"
                       b"xmpp-sasl' mechanism='PLAIN'>" + auth + b"</auth>")
        self.wait(b"<success")
        self.s.sendall(HEADER + b"<iq type='set' id='b'><bind xmlns='urn:"
                       b"ietf:params:xml:ns:xmpp-bind'><resource>r"
                       b"</resource></bind></iq>")
        self.wait(b"</jid>")
        self.buf = b""

    def send(self, text):
        self.s.sendall(text.encode())

    def wait(self, marker, timeout=5.0):
        """Data up to and including marker; None on timeout."""
        end = time.time() + timeout
        while marker not in self.buf:
            left = end - time.time()
            if left <= 0:
                return None
            self.s.settimeout(left)
            try:
                chunk = self.s.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                raise Fail("connection closed; got %r" % self.buf[-300:])
            self.buf += chunk
        i = self.buf.index(marker) + len(marker)
        got, self.buf = self.buf[:i], self.buf[i:]
        return got

    def reply(self, ident, timeout=5.0):
        """The stanza answering iq ident (up to its end), or None."""
        got = self.wait(("id='%s'" % ident).encode(), timeout)
        if got is None:
            return None
        head = got[got.rfind(b"<iq"):] + (self.wait(b">", 2.0) or b"")
        if head.endswith(b"/>"):
            return head
        return head + (self.wait(b"</iq>", 2.0) or b"")


def private_set(c, ident, value):
    c.send("<iq type='set' id='%s'><query xmlns='jabber:iq:private'>"
           "<n xmlns='urn:diskfull'>%s</n></query></iq>" % (ident, value))


def private_get(c, ident):
    c.send("<iq type='get' id='%s'><query xmlns='jabber:iq:private'>"
           "<n xmlns='urn:diskfull'/></query></iq>" % ident)
    r = c.reply(ident) or b""
    return r.split(b"<n xmlns='urn:diskfull'>", 1)[-1].split(b"</n>")[0] \
        if b"</n>" in r else b""


def chat(a, b, text):
    """a sends b a message; seconds until b has it, or None."""
    start = time.time()
    a.send("<message to='%s@localhost/r' type='chat'><body>%s</body>"
           "</message>" % (b.user, text))
    if b.wait(("<body>%s</body>" % text).encode(), 3.0) is None:
        return None
    return time.time() - start


def fill(path):
    """Write path until the file system is full."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for size in (65536, 512, 1):
            block = b"\0" * size
            while True:
                try:
                    if os.write(fd, block) < size:
                        break
                except OSError as e:
                    if e.errno != errno.ENOSPC:
                        raise
                    break
    finally:
        os.close(fd)


def login(port, user):
    c = Client(port, user)
    c.user = user
    return c


def phase_full(port, data):
    romeo, carol = login(port, "romeo"), login(port, "carol")
    alice, bob = login(port, "alice"), login(port, "bob")
    private_set(romeo, "r0", "before")
    private_set(carol, "c0", "before")
    check(b"type='result'" in (romeo.reply("r0") or b""), "stored-before")
    check(b"type='result'" in (carol.reply("c0") or b""), "stored-before-2")
    fill(os.path.join(data, "filler"))
    # accepted, but its flush fails: held (bigger than a page, so that
    # it cannot fit in the log's last, partly used one)
    private_set(romeo, "r1", "during" + "." * 9000)
    r = romeo.reply("r1", 1.5)
    check(r is None, "held-reply", "reply while its change is not on "
          "disk: %r" % r)
    time.sleep(0.3)
    private_set(carol, "c1", "refused")
    r = carol.reply("c1") or b""
    check(b"<resource-constraint" in r, "refused-change", repr(r))
    v = private_get(carol, "c2")
    check(v == b"before", "reads-work", repr(v))
    carol.send("<iq type='set' id='c3'><query xmlns='jabber:iq:roster'>"
               "<item jid='nobody@localhost'/></query></iq>")
    r = carol.reply("c3") or b""
    check(b"<resource-constraint" in r, "refused-roster", repr(r))
    for i in range(3):
        t1, t2 = chat(alice, bob, "ab%d" % i), chat(bob, alice, "ba%d" % i)
        check(t1 is not None and t1 < 1.0 and t2 is not None and t2 < 1.0,
              "bystanders-chat-%d" % i, "took %r / %r s" % (t1, t2))
    os.unlink(os.path.join(data, "filler"))
    # writing resumes by itself (retried once a second)
    r = romeo.reply("r1", 5.0) or b""
    check(b"type='result'" in r, "held-reply-released", repr(r))
    private_set(carol, "c4", "after")
    r = carol.reply("c4") or b""
    check(b"type='result'" in r, "resumed", repr(r))
    t = chat(alice, bob, "later")
    check(t is not None and t < 1.0, "bystanders-after", repr(t))


def phase_after_restart(port, data):
    romeo, carol = login(port, "romeo"), login(port, "carol")
    v = private_get(romeo, "r9")
    check(v == b"during" + b"." * 9000, "acknowledged-kept", repr(v[:40]))
    v = private_get(carol, "c9")
    check(v == b"after", "acknowledged-kept-2", repr(v))
    carol.send("<iq type='get' id='c8'><query xmlns='jabber:iq:roster'/>"
               "</iq>")
    r = carol.reply("c8") or b""
    check(b"nobody@localhost" not in r and b"type='result'" in r,
          "refused-not-kept", repr(r))


def main():
    port, data, phase = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    try:
        {"full": phase_full, "after-restart": phase_after_restart}[phase](
            port, data)
    except (Fail, OSError) as e:
        print("FAIL %s: %s" % (phase, e))
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
