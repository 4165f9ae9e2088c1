#!/usr/bin/python3
# tests/interop/clients/slixmpp.py - slixmpp (python3-slixmpp) as the client
# under test, tests/interop/peer.py as the other side.  See ../README.md.
#
# A = INTEROP_JID_A (resources r1, r2 for carbons, r3 over direct TLS),
# B = INTEROP_JID_B (the peer, nick "peer" in the room).
import asyncio
import logging
import os
import ssl
import sys

try:
    import slixmpp
except ImportError:
    print("skip python3-slixmpp not installed")
    sys.exit(0)
sys.path.insert(0, os.environ["INTEROP_DIR"])
from peerctl import AsyncPeer  # noqa: E402

logging.basicConfig(level=logging.DEBUG, stream=sys.stderr,
                    format="%(asctime)s %(name)s %(message)s")
E = os.environ
HOST, PORT, TLS_PORT = E["UXMPPD_HOST"], int(E["UXMPPD_PORT"]), \
    int(E["UXMPPD_TLS_PORT"])
A, B, PW = E["INTEROP_JID_A"], E["INTEROP_JID_B"], E["INTEROP_PASSWORD"]
ROOM = E["INTEROP_ROOM"]
T = 10


def step(name, ok, reason=""):
    st = ok if isinstance(ok, str) else ("ok" if ok else "FAIL")
    print(("step %s %s %s" % (name, st, reason)).rstrip(), flush=True)


def log(*a):
    print(*a, file=sys.stderr, flush=True)


class Client(slixmpp.ClientXMPP):
    def __init__(self, jid):
        super().__init__(jid, PW)
        ctx = ssl.create_default_context(cafile=E["UXMPPD_CERT"])
        ctx.check_hostname = True
        self.ssl_context = ctx
        for p in ("xep_0030", "xep_0045", "xep_0199", "xep_0280",
                  "xep_0198"):
            self.register_plugin(p)
        self.started = asyncio.Event()
        self.resumed = asyncio.Event()
        self.failed = None
        self.mech = None
        self.inbox = []
        self.arrived = asyncio.Event()
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("session_resumed", self.on_resumed)
        self.add_event_handler("failed_auth", self.on_failed)
        self.add_event_handler("auth_success", self.on_auth)
        for ev in ("message", "groupchat_message", "presence",
                   "groupchat_presence",
                   "carbon_received", "carbon_sent"):
            self.add_event_handler(ev, self.make_queue(ev))

    def make_queue(self, ev):
        def q(st):
            self.inbox.append((ev, st))
            self.arrived.set()
        return q

    async def on_start(self, _ev):
        await self.get_roster()
        self.send_presence()
        self.started.set()

    def on_resumed(self, _ev):
        self.resumed.set()

    def on_auth(self, _ev):
        m = getattr(self["feature_mechanisms"], "mech", None)
        self.mech = m.name if m is not None else "?"

    def on_failed(self, _ev):
        self.failed = "authentication failed"
        self.started.set()

    async def wait_for(self, match, timeout_s=T):
        loop = asyncio.get_event_loop()
        deadline = loop.time() + timeout_s
        while True:
            for i, (ev, st) in enumerate(self.inbox):
                if match(ev, st):
                    del self.inbox[i]
                    return st
            left = deadline - loop.time()
            if left <= 0:
                return None
            self.arrived.clear()
            try:
                await asyncio.wait_for(self.arrived.wait(), left)
            except asyncio.TimeoutError:
                pass

    async def login(self, use_ssl=False):
        if use_ssl:
            self.connect((HOST, TLS_PORT), use_ssl=True)
        else:
            self.connect((HOST, PORT), force_starttls=True)
        try:
            await asyncio.wait_for(self.started.wait(), T)
        except asyncio.TimeoutError:
            return "no session within %ds" % T
        if self.failed:
            return self.failed
        if not isinstance(self.socket, (ssl.SSLSocket, ssl.SSLObject)):
            return "not over TLS"
        return None


def tls_version(c):
    try:
        return c.socket.version()
    except Exception:
        return "?"


async def main():
    peer = await AsyncPeer.start(B + "/peer", PW)
    a = Client(A + "/r1")
    err = await a.login()
    if peer is None:
        err = (err + "; " if err else "") + "peer did not log in"
    step("login", err is None, err or "%s over STARTTLS %s" %
         (a.mech, tls_version(a)))
    if err:
        return
    sm_on = "stream_management" in a.features

    # roster: A asks B, the peer approves and asks back, slixmpp approves.
    await peer.cmd("approve-all")
    a.send_presence(pto=B, ptype="subscribe")
    ok, why = await peer.cmd("expect-presence %s %d" % (A + "/r1", T))
    sub = None
    for _ in range(T * 10):
        await a.get_roster()
        sub = a.client_roster[B]["subscription"]
        if sub == "both":
            break
        await asyncio.sleep(0.1)
    step("roster", sub == "both", "subscription=%s" % sub)

    # presence: A sees B's available presence, B saw A's (above).
    pres = await a.wait_for(lambda ev, s: ev == "presence" and
                            s["from"].bare == B and s["type"] in
                            ("available", "chat", "away", "xa", "dnd"))
    step("presence", pres is not None and ok,
         "peer: " + why if not ok else
         ("" if pres is not None else "no presence from " + B))

    a.send_message(mto=B, mbody="hello from slixmpp", mtype="chat")
    ok, why = await peer.cmd("expect-message %s hello from slixmpp %d"
                             % (A, T))
    step("msg-out", ok, why if not ok else "")

    await peer.cmd("send %s hello to slixmpp" % A)
    m = await a.wait_for(lambda ev, s: ev == "message" and
                         s["type"] in ("chat", "normal") and
                         s["from"].bare == B and
                         s["body"] == "hello to slixmpp")
    step("msg-in", m is not None, "" if m else "nothing received")

    # MUC: the peer creates the room, then A joins as "alice".
    ok, why = await peer.cmd("join %s peer" % ROOM)
    try:
        res = await a.plugin["xep_0045"].join_muc_wait(
            slixmpp.JID(ROOM), "alice", maxstanzas=0, timeout=T)
        codes = [st.get("code") for st in res[0].xml.iter(
            "{http://jabber.org/protocol/muc#user}status")]
        joined = "110" in codes
        jerr = None if ok else "peer: " + why
        if not joined:
            jerr = "self-presence without status 110: %s" % codes
    except Exception as e:
        joined, jerr = False, "%s: %s" % (type(e).__name__, e)
    step("muc-join", joined and jerr is None, jerr or "")

    a.send_message(mto=ROOM, mbody="hi room from slixmpp",
                   mtype="groupchat")
    ok, why = await peer.cmd("expect-groupchat %s alice hi room from slixmpp"
                             " %d" % (ROOM, T))
    step("groupchat-out", ok, why if not ok else "")

    await peer.cmd("groupchat %s hi slixmpp from the peer" % ROOM)
    m = await a.wait_for(lambda ev, s: ev == "groupchat_message" and
                         str(s["from"]) == ROOM + "/peer" and
                         s["body"] == "hi slixmpp from the peer")
    step("groupchat-in", m is not None, "" if m else "nothing received")

    pm = a.make_message(mto=ROOM + "/peer", mbody="pm from slixmpp",
                        mtype="chat")
    pm.append(slixmpp.xmlstream.ET.Element(
        "{http://jabber.org/protocol/muc#user}x"))
    pm.send()
    ok, why = await peer.cmd("expect-pm %s alice pm from slixmpp %d"
                             % (ROOM, T))
    await peer.cmd("pm %s alice pm to slixmpp" % ROOM)
    m = await a.wait_for(lambda ev, s: ev == "message" and
                         str(s["from"]) == ROOM + "/peer" and
                         s["body"] == "pm to slixmpp")
    step("muc-pm", ok and m is not None,
         ("peer: " + why) if not ok else ("" if m else "pm not received"))

    # carbons: r1 enables them; the peer writes to r2; r1 gets the copy.
    a2 = Client(A + "/r2")
    try:
        await a.plugin["xep_0280"].enable(timeout=T)
        e2 = await a2.login()
        if e2:
            raise RuntimeError("second resource: " + e2)
        await peer.cmd("send %s/r2 carbon check" % A)
        c = await a.wait_for(lambda ev, s: ev == "carbon_received" and
                             s["carbon_received"]["body"] == "carbon check"
                             and s["carbon_received"]["to"] == A + "/r2")
        got2 = await a2.wait_for(lambda ev, s: ev == "message" and
                                 s["body"] == "carbon check")
        step("carbons", c is not None and got2 is not None,
             "" if c is not None and got2 is not None else
             "no received-carbon on r1" if c is None else
             "r2 did not get the message")
    except Exception as e:
        step("carbons", False, "%s: %s" % (type(e).__name__, e))
    a2.disconnect()

    # sm-resume: cut r1's TCP connection, the peer writes meanwhile, slixmpp
    # reconnects and resumes (XEP-0198), the message must arrive.
    if not sm_on:
        step("sm-resume", False, "stream management was not enabled")
    else:
        sm_id = a.plugin["xep_0198"].sm_id
        a.transport.abort()
        await asyncio.sleep(0.5)
        ok, why = await peer.cmd("send %s/r1 sent while cut" % A)
        a.connect((HOST, PORT), force_starttls=True)
        try:
            await asyncio.wait_for(a.resumed.wait(), T)
            m = await a.wait_for(lambda ev, s: ev == "message" and
                                 s["body"] == "sent while cut")
            step("sm-resume", m is not None, "resumed %s" % sm_id
                 if m else "resumed, but the message did not arrive")
        except asyncio.TimeoutError:
            step("sm-resume", False, "no <resumed/> within %ds" % T)

    # direct-tls: a third resource over XEP-0368 direct TLS.
    a3 = Client(A + "/r3")
    e3 = await a3.login(use_ssl=True)
    if not e3:
        await peer.cmd("send %s/r3 over direct tls" % A)
        m = await a3.wait_for(lambda ev, s: ev == "message" and
                              s["body"] == "over direct tls")
        e3 = None if m else "logged in but no message"
    step("direct-tls", e3 is None, e3 or "%s, %s" % (a3.mech,
                                                        tls_version(a3)))
    a3.disconnect()

    # leave: A leaves the room and logs out; the peer sees both.
    a.plugin["xep_0045"].leave_muc(slixmpp.JID(ROOM), "alice")
    ok1, why1 = await peer.cmd("expect-unavailable %s/alice %d" % (ROOM, T))
    a.disconnect()
    ok2, why2 = await peer.cmd("expect-unavailable %s/r1 %d" % (A, T))
    step("leave", ok1 and ok2, "peer: " + (why1 if not ok1 else why2)
         if not (ok1 and ok2) else "")
    await peer.quit()


asyncio.get_event_loop().run_until_complete(main())
