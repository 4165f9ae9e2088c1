# tests/interop/pep/common.py - what the PEP rows share: the environment,
# step lines, a slixmpp and an aioxmpp client logged in over STARTTLS with
# the server certificate trusted, and the server log check of the caps
# query.  See ../README.md ("The PEP rows").
import asyncio
import base64
import logging
import os
import ssl
import sys
import time

logging.basicConfig(level=logging.DEBUG, stream=sys.stderr,
                    format="%(asctime)s %(name)s %(message)s")
E = os.environ
HOST, PORT = E["UXMPPD_HOST"], int(E["UXMPPD_PORT"])
A, B, PW = E["INTEROP_JID_A"], E["INTEROP_JID_B"], E["INTEROP_PASSWORD"]
T = 10


def step(name, ok, reason=""):
    st = ok if isinstance(ok, str) else ("ok" if ok else "FAIL")
    print(("step %s %s %s" % (name, st, reason)).rstrip(), flush=True)


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def run(main, name, timeout_s=50):
    """Run the row's coroutine main() under a timeout; an exception is
    logged (the steps not printed by then count as failed)."""
    try:
        asyncio.get_event_loop().run_until_complete(
            asyncio.wait_for(main(), timeout_s))
    except Exception as e:
        log("%s: %s: %s" % (name, type(e).__name__, e))


def missing():
    """The libraries both rows need, or a skip reason."""
    try:
        import slixmpp  # noqa: F401
    except ImportError:
        return "python3-slixmpp not installed"
    try:
        import aioxmpp  # noqa: F401
        import aioxmpp.pep  # noqa: F401
        import aioxmpp.entitycaps  # noqa: F401
    except Exception as e:
        return "python3-aioxmpp does not import: %s: %s" % (
            type(e).__name__, e)
    return None


async def caps_learned(owner, full, timeout_s=T):
    """Did full answer the server's disco#info query for its caps, and is
    it a recipient of owner's PEP service with them?  The server's debug
    log says both: "caps of FULL verified" when an answer matched the ver
    (asked by owner's service or by full's own account's, whichever saw
    the presence first: the ver is then known server-wide), and "pep OWNER
    recipient FULL caps known" or "pep OWNER caps of FULL verified".
    Returns a description, or None."""
    path = os.path.join(E.get("INTEROP_ARTIFACTS", ""), "uxmppd.log")
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        try:
            with open(path, errors="replace") as f:
                lines = f.read().splitlines()
        except OSError:
            lines = []
        answered = [ln.split()[3] for ln in lines
                    if ln.endswith(" caps of %s verified" % full)]
        hears = [ln for ln in lines
                 if ("pep %s recipient %s caps known" % (owner, full)) in ln
                 or ("pep %s caps of %s verified" % (owner, full)) in ln]
        if answered and hears:
            return "answered the disco#info of %s's service, a " \
                "recipient of %s's" % (answered[0], owner)
        await asyncio.sleep(0.1)
    return None


def make_slixmpp(jid, plugins, on_start=None):
    import slixmpp

    class C(slixmpp.ClientXMPP):
        def __init__(self):
            super().__init__(jid, PW)
            ctx = ssl.create_default_context(cafile=E["UXMPPD_CERT"])
            ctx.check_hostname = True
            self.ssl_context = ctx
            for p in plugins:
                self.register_plugin(p)
            self.started = asyncio.Event()
            self.failed = None
            self.add_event_handler("session_start", self.on_start)
            self.add_event_handler("failed_auth", self.on_failed)

        async def on_start(self, _ev):
            await self.get_roster()
            # the caps of every registered +notify feature first
            if "xep_0115" in self.plugin:
                await self["xep_0115"].update_caps(broadcast=False)
            self.send_presence()
            self.started.set()

        def on_failed(self, _ev):
            self.failed = "authentication failed"
            self.started.set()

        async def login(self):
            self.connect((HOST, PORT), force_starttls=True)
            try:
                await asyncio.wait_for(self.started.wait(), T)
            except asyncio.TimeoutError:
                return "no session within %ds" % T
            return self.failed
    return C()


class AioClient:
    """aioxmpp, the certificate pinned; services are summoned before
    login so the first presence carries their caps."""

    def __init__(self, jid):
        import aioxmpp
        import aioxmpp.connector
        import aioxmpp.security_layer
        pem = open(E["UXMPPD_CERT"]).read()
        der = ssl.PEM_cert_to_DER_cert(pem)
        pins = {E["UXMPPD_DOMAIN"]: [base64.b64encode(der).decode()]}
        sec = aioxmpp.make_security_layer(
            PW, pin_store=pins,
            pin_type=aioxmpp.security_layer.PinType.CERTIFICATE)
        self.jid = aioxmpp.JID.fromstr(jid)
        self.c = aioxmpp.PresenceManagedClient(
            self.jid, sec,
            override_peer=[(HOST, PORT,
                            aioxmpp.connector.STARTTLSConnector())],
            max_initial_attempts=1)
        self.established = asyncio.Event()
        self.failed = None
        self.c.on_stream_established.connect(
            lambda: self.established.set())
        self.c.on_failure.connect(self.on_failure)

    def on_failure(self, exc):
        self.failed = "%s: %s" % (type(exc).__name__, exc)
        self.established.set()

    async def login(self):
        import aioxmpp
        self.c.presence = aioxmpp.PresenceState(True)
        try:
            await asyncio.wait_for(self.established.wait(), T)
        except asyncio.TimeoutError:
            return "no session within %ds" % T
        return self.failed


async def wait_until(pred, timeout_s=T):
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        try:
            v = pred()
        except (AttributeError, KeyError, TypeError):
            v = None
        if v:
            return v
        await asyncio.sleep(0.05)
    return None


async def mutual(sli, aio_roster, sli_jid, aio_jid, aio_asks=True):
    """A mutual subscription between the slixmpp client (auto_authorize
    and auto_subscribe, slixmpp's defaults) and the aioxmpp one (approves
    and asks back).  The one named by aio_asks asks first.  Returns the
    two subscription states."""
    import aioxmpp
    jid_s = aioxmpp.JID.fromstr(sli_jid)

    def on_sub(stanza):
        aio_roster.approve(stanza.from_.bare())
        aio_roster.subscribe(stanza.from_.bare())
    aio_roster.on_subscribe.connect(on_sub)
    if aio_asks:
        aio_roster.subscribe(jid_s)
    else:
        sli.send_presence(pto=aio_jid, ptype="subscribe")

    def states():
        it = aio_roster.items.get(jid_s)
        a = it.subscription if it else None
        b = sli.client_roster[aio_jid]["subscription"]
        return (a, b) if a == "both" and b == "both" else None
    got = await wait_until(states)
    if got:
        return got
    it = aio_roster.items.get(jid_s)
    return (it.subscription if it else None,
            sli.client_roster[aio_jid]["subscription"])
