#!/usr/bin/python3
# tests/interop/peer.py JID PASSWORD - the reference peer of the interop
# tests: the "other side" a client under test talks to.
#
# Built on slixmpp (Debian's python3-slixmpp).  It logs in over STARTTLS
# to $UXMPPD_HOST:$UXMPPD_PORT, verifying the server certificate against
# $UXMPPD_CERT for $UXMPPD_DOMAIN, sends initial presence, prints "ready"
# and then reads one command per line on stdin, answering each with one
# line, "ok [data]" or "fail <reason>".  Everything it receives is queued
# from the moment it logs in, so an expect-* command also matches a stanza
# that arrived before the command was given (it consumes that stanza).
#
#   send JID BODY                      chat message
#   expect-message FROM_BARE BODY T    a chat/normal message with that body
#                                      from that bare JID within T seconds;
#                                      ok FULL_FROM_JID
#   join ROOM_JID NICK                 join (creating and unlocking the room
#                                      as an instant room if it is new);
#                                      ok once our own presence came back
#   groupchat ROOM_JID BODY            groupchat message
#   expect-groupchat ROOM NICK BODY T  a groupchat message from ROOM/NICK
#   pm ROOM_JID NICK BODY              MUC private message to ROOM/NICK
#   expect-pm ROOM_JID NICK BODY T     a private (chat) message from ROOM/NICK
#   subscribe JID                      send a subscription request; ok at once
#   approve-all                        from now on approve every subscription
#                                      request and ask for one back (mutual)
#   expect-subscribed JID T            JID approved our subscription request
#   expect-presence JID T              available presence from JID (a full
#                                      JID matches exactly, a bare JID any of
#                                      its resources); ok FULL_FROM_JID
#   expect-unavailable JID T           unavailable presence from JID (full:
#                                      exact, bare: any resource)
#   quit                               log out and exit (ok first)
#
# Unknown commands answer "fail unknown command".  BODY is the rest of the
# line (may contain spaces).  Diagnostics go to stderr.  Exits 77 when
# slixmpp is not installed.
import asyncio
import logging
import os
import ssl
import sys

try:
    import slixmpp
    from slixmpp.xmlstream import ET
except ImportError:
    print("skip python3-slixmpp not installed", flush=True)
    sys.exit(77)

# Full slixmpp traffic in the peer's log (stderr): what the peer saw.
logging.basicConfig(level=logging.DEBUG, stream=sys.stderr,
                    format="%(asctime)s %(name)s %(message)s")
MUC_NS = "http://jabber.org/protocol/muc"
MUC_USER_NS = MUC_NS + "#user"
MUC_OWNER_NS = MUC_NS + "#owner"


def log(*a):
    print("peer:", *a, file=sys.stderr, flush=True)


def tls_context():
    ctx = ssl.create_default_context(cafile=os.environ["UXMPPD_CERT"])
    ctx.check_hostname = True
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


class Peer(slixmpp.ClientXMPP):
    def __init__(self, jid, password):
        super().__init__(jid, password)
        self.ssl_context = tls_context()
        self.started = asyncio.Event()
        self.auth_failed = False
        self.inbox = []          # every message and presence, in order
        self.arrived = asyncio.Event()
        self.approve = False
        self.roster.auto_authorize = None   # until approve-all
        self.roster.auto_subscribe = False
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("failed_auth", self.on_failed)
        self.add_event_handler("message", self.on_stanza)
        self.add_event_handler("presence", self.on_stanza)
        self.add_event_handler("presence_subscribe", self.on_subscribe)

    async def on_start(self, _ev):
        await self.get_roster()
        self.send_presence()
        self.started.set()

    def on_failed(self, _ev):
        self.auth_failed = True
        self.started.set()

    def on_stanza(self, st):
        self.inbox.append(st)
        self.arrived.set()

    def on_subscribe(self, pres):
        if not self.approve:
            return
        who = pres["from"].bare
        log("approving", who, "roster:", self.client_roster[who]["subscription"],
            "pending_out:", self.client_roster[who]["pending_out"])
        self.send_presence(pto=who, ptype="subscribed")
        if self.client_roster[who]["subscription"] in ("none", "from") \
                and not self.client_roster[who]["pending_out"]:
            self.send_presence(pto=who, ptype="subscribe")

    async def wait_for(self, match, timeout_s):
        """Remove and return the first queued stanza for which match()
        is true, waiting up to timeout_s; None on timeout."""
        loop = asyncio.get_event_loop()
        deadline = loop.time() + timeout_s
        while True:
            for i, st in enumerate(self.inbox):
                if match(st):
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


def is_msg(st, types):
    return st.name == "message" and st["type"] in types


async def cmd_join(p, room, nick):
    pres = p.make_presence(pto="%s/%s" % (room, nick))
    x = ET.Element("{%s}x" % MUC_NS)
    hist = ET.SubElement(x, "{%s}history" % MUC_NS)
    hist.set("maxstanzas", "0")
    pres.append(x)
    pres.send()

    def self_pres(st):
        if st.name != "presence" or st["from"].bare != room:
            return False
        if st["type"] == "error":
            return True
        xu = st.xml.find("{%s}x" % MUC_USER_NS)
        if xu is None:
            return False
        codes = [s.get("code") for s in xu.findall("{%s}status" % MUC_USER_NS)]
        return "110" in codes
    st = await p.wait_for(self_pres, 10)
    if st is None:
        return "fail no self-presence from %s/%s" % (room, nick)
    if st["type"] == "error":
        return "fail join error %s" % st["error"]["condition"]
    codes = [s.get("code") for s in st.xml.find("{%s}x" % MUC_USER_NS)
             .findall("{%s}status" % MUC_USER_NS)]
    if "201" in codes:
        # New room, locked until configured (XEP-0045 §10.1.2): instant room.
        iq = p.make_iq_set(ito=room)
        q = ET.Element("{%s}query" % MUC_OWNER_NS)
        form = ET.SubElement(q, "{jabber:x:data}x")
        form.set("type", "submit")
        iq.append(q)
        try:
            await iq.send(timeout=10)
        except Exception as e:   # IqError, IqTimeout
            return "fail instant room config: %s" % e
        return "ok created"
    return "ok"


async def run_cmd(p, line):
    words = line.split(" ")
    c = words[0]
    if c == "send" and len(words) >= 3:
        p.send_message(mto=words[1], mbody=" ".join(words[2:]), mtype="chat")
        return "ok"
    if c == "expect-message" and len(words) >= 4:
        frm, body, t = words[1], " ".join(words[2:-1]), float(words[-1])
        st = await p.wait_for(lambda s: is_msg(s, ("chat", "normal")) and
                              s["from"].bare == frm and s["body"] == body, t)
        return "ok %s" % st["from"] if st is not None else \
            "fail no message %r from %s within %gs" % (body, frm, t)
    if c == "join" and len(words) == 3:
        return await cmd_join(p, words[1], words[2])
    if c == "groupchat" and len(words) >= 3:
        p.send_message(mto=words[1], mbody=" ".join(words[2:]),
                       mtype="groupchat")
        return "ok"
    if c in ("expect-groupchat", "expect-pm") and len(words) >= 5:
        frm = "%s/%s" % (words[1], words[2])
        body, t = " ".join(words[3:-1]), float(words[-1])
        types = ("groupchat",) if c == "expect-groupchat" else \
            ("chat", "normal")
        st = await p.wait_for(lambda s: is_msg(s, types) and
                              str(s["from"]) == frm and s["body"] == body, t)
        return "ok" if st is not None else \
            "fail no %s %r from %s within %gs" % (types[0], body, frm, t)
    if c == "pm" and len(words) >= 4:
        m = p.make_message(mto="%s/%s" % (words[1], words[2]),
                           mbody=" ".join(words[3:]), mtype="chat")
        m.append(ET.Element("{%s}x" % MUC_USER_NS))
        m.send()
        return "ok"
    if c == "subscribe" and len(words) == 2:
        p.send_presence(pto=words[1], ptype="subscribe")
        return "ok"
    if c == "approve-all" and len(words) == 1:
        p.approve = True
        # Requests that came before approve-all are approved now.
        for st in list(p.inbox):
            if st.name == "presence" and st["type"] == "subscribe":
                p.inbox.remove(st)
                p.on_subscribe(st)
        return "ok"
    if c == "expect-subscribed" and len(words) == 3:
        who, t = words[1], float(words[2])
        st = await p.wait_for(lambda s: s.name == "presence" and
                              s["type"] == "subscribed" and
                              s["from"].bare == who, t)
        return "ok" if st is not None else \
            "fail no subscribed from %s within %gs" % (who, t)
    if c == "expect-presence" and len(words) == 3:
        who, t = words[1], float(words[2])

        def avail(s):
            if s.name != "presence" or s["type"] not in \
                    ("available", "chat", "away", "xa", "dnd"):
                return False
            return str(s["from"]) == who if "/" in who else \
                s["from"].bare == who
        st = await p.wait_for(avail, t)
        return "ok %s" % st["from"] if st is not None else \
            "fail no available presence from %s within %gs" % (who, t)
    if c == "expect-unavailable" and len(words) == 3:
        who, t = words[1], float(words[2])
        st = await p.wait_for(lambda s: s.name == "presence" and
                              s["type"] == "unavailable" and
                              (str(s["from"]) == who if "/" in who else
                               s["from"].bare == who), t)
        return "ok %s" % st["from"] if st is not None else \
            "fail no unavailable presence from %s within %gs" % (who, t)
    return "fail unknown command"


async def main():
    jid, password = sys.argv[1], sys.argv[2]
    p = Peer(jid, password)
    p.connect((os.environ.get("UXMPPD_HOST", "127.0.0.1"),
               int(os.environ["UXMPPD_PORT"])), force_starttls=True)
    try:
        await asyncio.wait_for(p.started.wait(), 20)
    except asyncio.TimeoutError:
        print("fail no session within 20s", flush=True)
        return 1
    if p.auth_failed:
        print("fail authentication failed", flush=True)
        return 1
    print("ready", flush=True)
    loop = asyncio.get_event_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        raw = await reader.readline()
        if not raw:
            break
        line = raw.decode("utf-8", "replace").strip()
        if not line:
            continue
        log(">", line)
        if line == "quit":
            print("ok", flush=True)
            break
        try:
            ans = await run_cmd(p, line)
        except Exception as e:   # a bad argument must not kill the peer
            ans = "fail %s: %s" % (type(e).__name__, e)
        log("<", ans)
        print(ans, flush=True)
    p.disconnect()
    await asyncio.sleep(0.2)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.get_event_loop().run_until_complete(main()))
