#!/usr/bin/python3
# tests/interop/clients/aioxmpp.py - aioxmpp (python3-aioxmpp) as the client
# under test, peer.py as the other side.  See ../README.md.
#
# The server certificate is pinned (aioxmpp's certificate pin store).
# Every inbound message and presence is queued by the stream's app filters,
# so the checks see exactly what aioxmpp parsed.
import asyncio
import base64
import logging
import os
import socket
import ssl
import sys

try:
    import aioxmpp
    import aioxmpp.carbons
    import aioxmpp.connector
    import aioxmpp.muc
    import aioxmpp.muc.xso
    import aioxmpp.security_layer
except Exception as e:   # ImportError, or breakage on this Python
    print("skip python3-aioxmpp does not import: %s: %s" %
          (type(e).__name__, e))
    sys.exit(0)
sys.path.insert(0, os.environ["INTEROP_DIR"])
from peerctl import AsyncPeer  # noqa: E402


class MechLog(logging.Handler):
    """Remembers the SASL mechanism aiosasl says it attempts."""
    mech = "?"

    def emit(self, record):
        msg = record.getMessage()
        if record.name.startswith("aiosasl") and \
                msg.startswith("attempting "):
            MechLog.mech = msg.split()[1]


logging.basicConfig(level=logging.DEBUG, stream=sys.stderr,
                    format="%(asctime)s %(name)s %(message)s")
logging.getLogger().addHandler(MechLog())
E = os.environ
HOST, PORT, TLS_PORT = E["UXMPPD_HOST"], int(E["UXMPPD_PORT"]), \
    int(E["UXMPPD_TLS_PORT"])
A, B, PW = E["INTEROP_JID_A"], E["INTEROP_JID_B"], E["INTEROP_PASSWORD"]
ROOM, T = E["INTEROP_ROOM"], 10
JA, JB, JR = (aioxmpp.JID.fromstr(x) for x in (A, B, ROOM))


def step(name, ok, reason=""):
    print(("step %s %s %s" % (name, "ok" if ok else "FAIL", reason)).rstrip(),
          flush=True)


def pins():
    pem = open(E["UXMPPD_CERT"]).read()
    der = ssl.PEM_cert_to_DER_cert(pem)
    return {E["UXMPPD_DOMAIN"]: [base64.b64encode(der).decode()]}


class AC:
    def __init__(self, resource, direct=False):
        sec = aioxmpp.make_security_layer(
            PW, pin_store=pins(),
            pin_type=aioxmpp.security_layer.PinType.CERTIFICATE)
        conn = aioxmpp.connector.XMPPOverTLSConnector() if direct else \
            aioxmpp.connector.STARTTLSConnector()
        self.c = aioxmpp.PresenceManagedClient(
            JA.replace(resource=resource), sec,
            override_peer=[(HOST, TLS_PORT if direct else PORT, conn)],
            max_initial_attempts=1)
        self.inbox = []
        self.arrived = asyncio.Event()
        self.resumed = asyncio.Event()
        self.established = asyncio.Event()
        self.failed = None
        st = self.c.stream
        st.app_inbound_message_filter.register(self.queue, 0)
        st.app_inbound_presence_filter.register(self.queue, 0)
        self.c.on_stream_resumed.connect(lambda: self.resumed.set())
        self.c.on_stream_established.connect(
            lambda: self.established.set())
        self.c.on_failure.connect(self.on_failure)

    def on_failure(self, exc):
        self.failed = "%s: %s" % (type(exc).__name__, exc)
        self.established.set()

    def queue(self, st):
        self.inbox.append(st)
        self.arrived.set()
        return st

    async def login(self):
        self.c.presence = aioxmpp.PresenceState(True)
        try:
            await asyncio.wait_for(self.established.wait(), T)
        except asyncio.TimeoutError:
            return "no session within %ds" % T
        return self.failed

    async def wait_for(self, match, timeout_s=T):
        loop = asyncio.get_event_loop()
        end = loop.time() + timeout_s
        while True:
            for i, st in enumerate(self.inbox):
                try:
                    hit = match(st)
                except (AttributeError, KeyError, TypeError):
                    hit = False
                if hit:
                    return self.inbox.pop(i)
            if loop.time() >= end:
                return None
            self.arrived.clear()
            try:
                await asyncio.wait_for(self.arrived.wait(),
                                       end - loop.time())
            except asyncio.TimeoutError:
                pass

    def stop(self):
        self.c.stop()


def body(m):
    return m.body.any() if m.body else None


def is_msg(st):
    return isinstance(st, aioxmpp.Message)


def is_avail(st):
    return isinstance(st, aioxmpp.Presence) and \
        st.type_ == aioxmpp.PresenceType.AVAILABLE


def chat(to, text):
    m = aioxmpp.Message(type_=aioxmpp.MessageType.CHAT, to=to)
    m.body[None] = text
    return m


async def main():
    peer = await AsyncPeer.start(B + "/peer", PW)
    roster = None
    a = AC("r1")
    roster = a.c.summon(aioxmpp.RosterClient)
    err = await a.login()
    if peer is None:
        err = (err + "; " if err else "") + "peer did not log in"
    step("login", err is None, err or "%s over STARTTLS" % MechLog.mech)
    if err:
        return

    await peer.cmd("approve-all")
    await a.c.send(aioxmpp.Presence(type_=aioxmpp.PresenceType.SUBSCRIBE,
                                    to=JB))
    sub = await a.wait_for(lambda s: isinstance(s, aioxmpp.Presence) and
                           s.type_ == aioxmpp.PresenceType.SUBSCRIBE and
                           s.from_.bare() == JB)
    if sub is not None:
        roster.approve(JB)
    ok, why = await peer.cmd("expect-subscribed %s %d" % (A, T))
    state = None
    for _ in range(50):
        item = roster.items.get(JB)
        state = item.subscription if item else None
        if state == "both":
            break
        await asyncio.sleep(0.1)
    step("roster", state == "both", "subscription=%s" % state if ok else
         "peer: " + why)

    p = await a.wait_for(lambda s: is_avail(s) and
                         str(s.from_) == B + "/peer")
    ok, why = await peer.cmd("expect-presence %s/r1 %d" % (A, T))
    step("presence", p is not None and ok, "" if p is not None and ok else
         "no presence from the peer" if p is None else "peer: " + why)

    await a.c.send(chat(JB, "hello from aioxmpp"))
    ok, why = await peer.cmd("expect-message %s hello from aioxmpp %d"
                             % (A, T))
    step("msg-out", ok, "" if ok else why)

    await peer.cmd("send %s hello to aioxmpp" % A)
    m = await a.wait_for(lambda s: is_msg(s) and s.from_.bare() == JB and
                         body(s) == "hello to aioxmpp")
    step("msg-in", m is not None, "" if m else "nothing received")

    ok, why = await peer.cmd("join %s peer" % ROOM)
    muc = a.c.summon(aioxmpp.MUCClient)
    jerr = None
    try:
        room, fut = muc.join(JR, "aio", history=aioxmpp.muc.xso.History(
            maxstanzas=0))
        await asyncio.wait_for(fut, T)
        if not ok:
            jerr = "peer: " + why
    except Exception as e:
        jerr = "%s: %s" % (type(e).__name__, e)
    step("muc-join", jerr is None, jerr or "")

    gc = aioxmpp.Message(type_=aioxmpp.MessageType.GROUPCHAT, to=JR)
    gc.body[None] = "gc from aioxmpp"
    await a.c.send(gc)
    ok, why = await peer.cmd("expect-groupchat %s aio gc from aioxmpp %d"
                             % (ROOM, T))
    step("groupchat-out", ok, "" if ok else why)

    await peer.cmd("groupchat %s gc to aioxmpp" % ROOM)
    m = await a.wait_for(lambda s: is_msg(s) and
                         s.type_ == aioxmpp.MessageType.GROUPCHAT and
                         str(s.from_) == ROOM + "/peer" and
                         body(s) == "gc to aioxmpp")
    step("groupchat-in", m is not None, "" if m else "nothing received")

    pm = chat(JR.replace(resource="peer"), "pm from aioxmpp")
    pm.xep0045_muc_user = aioxmpp.muc.xso.UserExt()
    await a.c.send(pm)
    ok, why = await peer.cmd("expect-pm %s aio pm from aioxmpp %d"
                             % (ROOM, T))
    await peer.cmd("pm %s aio pm to aioxmpp" % ROOM)
    m = await a.wait_for(lambda s: is_msg(s) and
                         str(s.from_) == ROOM + "/peer" and
                         body(s) == "pm to aioxmpp")
    step("muc-pm", ok and m is not None, "" if ok and m else
         ("peer: " + why) if not ok else "pm not received")

    # carbons: r1 enables them, a second aioxmpp resource gets a message
    # from the peer, r1 must get the <received/> copy.
    a2 = AC("r2")
    try:
        await a.c.summon(aioxmpp.CarbonsClient).enable()
        cerr = await a2.login()
        if cerr is None:
            await peer.cmd("send %s/r2 carbon check" % A)
            c = await a.wait_for(
                lambda s: is_msg(s) and s.from_ == JA and
                body(s.xep0280_received.stanza) == "carbon check")
            c2 = await a2.wait_for(lambda s: is_msg(s) and
                                   body(s) == "carbon check")
            cerr = None if c and c2 else \
                "no received-carbon on r1" if not c else "r2 got nothing"
    except Exception as e:
        cerr = "%s: %s" % (type(e).__name__, e)
    step("carbons", cerr is None, cerr or "")
    a2.stop()

    # sm-resume: abort r1's transport; aioxmpp reconnects and resumes
    # (XEP-0198) by itself; the message sent meanwhile must arrive.
    st = a.c.stream
    if not st.sm_enabled or not st.sm_resumable:
        step("sm-resume", False, "stream management not enabled/resumable")
    else:
        sm_id = st.sm_id
        # Like a dropped network: shut the TCP socket down under aioxmpp.
        st._xmlstream.transport.get_extra_info("socket").shutdown(
            socket.SHUT_RDWR)
        await asyncio.sleep(0.3)
        await peer.cmd("send %s/r1 sent while cut" % A)
        try:
            await asyncio.wait_for(a.resumed.wait(), T)
            m = await a.wait_for(lambda s: is_msg(s) and
                                 body(s) == "sent while cut")
            step("sm-resume", m is not None, "resumed %s" % sm_id if m else
                 "resumed, but the message did not arrive")
        except asyncio.TimeoutError:
            step("sm-resume", False, "not resumed within %ds" % T)

    a3 = AC("r3", direct=True)
    derr = await a3.login()
    if derr is None:
        await peer.cmd("send %s/r3 over direct tls" % A)
        m = await a3.wait_for(lambda s: is_msg(s) and
                              body(s) == "over direct tls")
        derr = None if m else "logged in but no message"
    step("direct-tls", derr is None, derr or MechLog.mech)
    a3.stop()

    try:
        await asyncio.wait_for(room.leave(), T)
        lerr = None
    except Exception as e:
        lerr = "leave: %s: %s" % (type(e).__name__, e)
    ok1, why1 = await peer.cmd("expect-unavailable %s/aio %d" % (ROOM, T))
    a.stop()
    ok2, why2 = await peer.cmd("expect-unavailable %s/r1 %d" % (A, T))
    if lerr is None and not (ok1 and ok2):
        lerr = "peer: " + (why2 if ok1 else why1)
    step("leave", lerr is None, lerr or "")
    await peer.quit()


asyncio.get_event_loop().run_until_complete(main())
