#!/usr/bin/python3
# tests/interop/clients/nbxmpp.py - nbxmpp (python3-nbxmpp, Gajim's XMPP
# library, on a GLib main loop) as the client under test, peer.py as the
# other side.  See ../README.md.
#
# nbxmpp does TLS (Gio), SASL, binding and XEP-0198 itself; we send plain
# nbxmpp stanzas and match what it parsed.  Received stanzas are queued as
# text and matched on every word given, like strophe_client.
import logging
import os
import sys
import time

try:
    import gi
    gi.require_version("Gio", "2.0")
    from gi.repository import Gio, GLib
    from nbxmpp.client import Client
    from nbxmpp.const import ConnectionProtocol, ConnectionType
    from nbxmpp.protocol import Iq, Message, Presence
except (ImportError, ValueError) as e:
    print("skip python3-nbxmpp not installed (%s)" % e)
    sys.exit(0)
sys.path.insert(0, os.environ["INTEROP_DIR"])
from peerctl import Peer  # noqa: E402

logging.basicConfig(level=logging.DEBUG, stream=sys.stderr,
                    format="%(asctime)s %(name)s %(message)s")
E = os.environ
A, B, PW = E["INTEROP_JID_A"], E["INTEROP_JID_B"], E["INTEROP_PASSWORD"]
ROOM, T = E["INTEROP_ROOM"], 10
CTX = GLib.MainContext.default()
MUC = "http://jabber.org/protocol/muc"


def pump():
    CTX.iteration(False)


def step(name, ok, reason=""):
    print(("step %s %s %s" % (name, "ok" if ok else "FAIL", reason)).rstrip(),
          flush=True)


def tls_of(nb):
    v = nb.c.tls_version
    return getattr(v, "value_nick", v)


def run_until(cond, timeout_s=T):
    """Iterate the GLib loop until cond() is true (cond may consume:
    it is not called again once true); False on timeout."""
    end = time.monotonic() + timeout_s
    while True:
        if cond():
            return True
        if time.monotonic() >= end:
            return False
        CTX.iteration(False)
        time.sleep(0.002)


class NB:
    def __init__(self, resource, direct=False):
        self.events = []
        self.inbox = []
        self.mech = "?"
        c = self.c = Client()
        c.set_domain(E["UXMPPD_DOMAIN"])
        c.set_username(A.split("@")[0])
        c.set_resource(resource)
        c.set_password(PW)
        port = E["UXMPPD_TLS_PORT"] if direct else E["UXMPPD_PORT"]
        c.set_custom_host("%s:%s" % (E["UXMPPD_HOST"], port),
                          ConnectionProtocol.TCP,
                          ConnectionType.DIRECT_TLS if direct else
                          ConnectionType.START_TLS)
        c.set_accepted_certificates(
            [Gio.TlsCertificate.new_from_file(E["UXMPPD_CERT"])])
        for sig in ("connected", "disconnected", "connection-failed",
                    "resume-successful", "resume-failed",
                    "login-successful"):
            c.subscribe(sig, self.on_signal)
        c.subscribe("stanza-received", self.on_stanza)
        c.subscribe("stanza-sent", self.on_sent)

    def on_signal(self, _client, signal, *args):
        self.events.append(signal)

    def on_stanza(self, _client, _signal, stanza):
        self.inbox.append(str(stanza))

    def on_sent(self, _client, _signal, data):
        s = str(data)
        if "<auth " in s and "mechanism=" in s:
            self.mech = s.split("mechanism=")[1][1:].split("\"")[0] \
                .split("'")[0]

    def login(self):
        self.c.connect()
        run_until(lambda: "connected" in self.events or
                  "connection-failed" in self.events or
                  "disconnected" in self.events)
        if "connected" not in self.events:
            err = self.c.get_error()
            return "no session: %s %s" % (self.events, err)
        if not self.c.is_stream_secure:
            return "stream not secure"
        return None

    def send(self, st):
        self.c.send_stanza(st)

    def expect(self, *words, timeout_s=T):
        found = []

        def look():
            for i, s in enumerate(self.inbox):
                if all(w in s for w in words):
                    found.append(self.inbox.pop(i))
                    return True
            return False
        if run_until(look, timeout_s):
            return True
        print("expect %r failed; queued: %r" % (words, self.inbox[-5:]),
              file=sys.stderr, flush=True)
        return False


def main():
    a = NB("r1")
    peer = Peer.start(B + "/peer", PW, pump=pump)
    err = a.login()
    if peer is None:
        err = (err + "; " if err else "") + "peer did not log in"
    step("login", err is None, err or "%s over STARTTLS %s" %
         (a.mech, tls_of(a)))
    if err:
        return
    a.send(Presence())

    peer.cmd("approve-all")
    a.send(Presence(to=B, typ="subscribe"))
    got = a.expect('from="%s"' % B, 'type="subscribe"')
    if got:
        a.send(Presence(to=B, typ="subscribed"))
    ok, why = peer.cmd("expect-subscribed %s %d" % (A, T))
    run_until(lambda: False, 0.3)
    a.send(Iq("get", "jabber:iq:roster", attrs={"id": "ros1"}))
    r = a.expect('id="ros1"', 'type="result"', 'jid="%s"' % B,
                 'subscription="both"')
    step("roster", got and ok and r,
         "subscription=both" if r else
         "no subscribe from the peer" if not got else
         ("peer: " + why) if not ok else "roster item is not 'both'")

    p = a.expect("<presence", 'from="%s/peer"' % B)
    ok, why = peer.cmd("expect-presence %s/r1 %d" % (A, T))
    step("presence", p and ok, "" if p and ok else
         "no presence from the peer" if not p else "peer: " + why)

    a.send(Message(to=B, typ="chat", body="hello from nbxmpp"))
    ok, why = peer.cmd("expect-message %s hello from nbxmpp %d" % (A, T))
    step("msg-out", ok, "" if ok else why)

    peer.cmd("send %s hello-to-nbxmpp" % A)
    m = a.expect('from="%s/peer"' % B, "<body>hello-to-nbxmpp</body>")
    step("msg-in", m, "" if m else "nothing received")

    ok, why = peer.cmd("join %s peer" % ROOM)
    pres = Presence(to="%s/nbx" % ROOM)
    pres.setTag("x", namespace=MUC).setTag("history", {"maxstanzas": "0"})
    a.send(pres)
    j = a.expect('from="%s/nbx"' % ROOM, 'code="110"')
    step("muc-join", ok and j, "" if ok and j else
         ("peer: " + why) if not ok else "no self-presence with 110")

    a.send(Message(to=ROOM, typ="groupchat", body="gc from nbxmpp"))
    ok, why = peer.cmd("expect-groupchat %s nbx gc from nbxmpp %d" % (ROOM, T))
    step("groupchat-out", ok, "" if ok else why)

    peer.cmd("groupchat %s gc-to-nbxmpp" % ROOM)
    m = a.expect('type="groupchat"', 'from="%s/peer"' % ROOM,
                 "<body>gc-to-nbxmpp</body>")
    step("groupchat-in", m, "" if m else "nothing received")

    pm = Message(to="%s/peer" % ROOM, typ="chat", body="pm from nbxmpp")
    pm.setTag("x", namespace=MUC + "#user")
    a.send(pm)
    ok, why = peer.cmd("expect-pm %s nbx pm from nbxmpp %d" % (ROOM, T))
    peer.cmd("pm %s nbx pm-to-nbxmpp" % ROOM)
    m = a.expect('from="%s/peer"' % ROOM, "<body>pm-to-nbxmpp</body>")
    step("muc-pm", ok and m, "" if ok and m else
         ("peer: " + why) if not ok else "pm not received")

    # carbons: r1 enables them, a second nbxmpp resource r2 gets a message
    # from the peer, r1 must get the <received/> copy.
    iq = Iq("set", attrs={"id": "carb1"})
    iq.addChild("enable", namespace="urn:xmpp:carbons:2")
    a.send(iq)
    cerr = None if a.expect('id="carb1"', 'type="result"') else \
        "carbons enable not answered"
    a2 = NB("r2")
    if cerr is None:
        cerr = a2.login()
    if cerr is None:
        a2.send(Presence())
        peer.cmd("send %s/r2 carbon-check" % A)
        c = a.expect('<received xmlns="urn:xmpp:carbons:2"',
                     "<body>carbon-check</body>")
        c2 = a2.expect("<body>carbon-check</body>")
        cerr = None if c and c2 else \
            "no received-carbon on r1" if not c else "r2 got nothing"
    step("carbons", cerr is None, cerr or "")
    a2.c.disconnect()

    # sm-resume: shut r1's socket down under nbxmpp, the peer writes
    # meanwhile, reconnect: nbxmpp resumes (XEP-0198).
    serr = None
    if not a.c.sm_supported or not a.c.resumeable:
        serr = "stream management not enabled/resumable (sm_supported=%s)" \
            % a.c.sm_supported
    else:
        a.events.clear()
        a.c._con._con.get_socket().shutdown(True, True)
        run_until(lambda: "disconnected" in a.events, 5)
        peer.cmd("send %s/r1 sent-while-cut" % A)
        if not a.c.resumeable:
            serr = "not resumable after the cut"
        else:
            a.c.connect()
            run_until(lambda: "resume-successful" in a.events or
                      "resume-failed" in a.events or
                      "connection-failed" in a.events)
            if "resume-successful" not in a.events:
                serr = "no resume: %s" % a.events
            elif not a.expect("<body>sent-while-cut</body>"):
                serr = "resumed, but the message did not arrive"
    step("sm-resume", serr is None, serr or "resumed")

    a3 = NB("r3", direct=True)
    derr = a3.login()
    if derr is None:
        peer.cmd("send %s/r3 over-direct-tls" % A)
        if not a3.expect("<body>over-direct-tls</body>"):
            derr = "logged in but no message"
    step("direct-tls", derr is None, derr or "%s, %s" %
         (a3.mech, tls_of(a3)))
    a3.c.disconnect()

    a.send(Presence(to="%s/nbx" % ROOM, typ="unavailable"))
    ok1, why1 = peer.cmd("expect-unavailable %s/nbx %d" % (ROOM, T))
    a.c.disconnect()
    ok2, why2 = peer.cmd("expect-unavailable %s/r1 %d" % (A, T))
    step("leave", ok1 and ok2, "" if ok1 and ok2 else
         "peer: " + (why2 if ok1 else why1))
    peer.quit()


main()
