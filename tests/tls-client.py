#!/usr/bin/python3
# tests/tls-client.py PORT CAFILE MECH
#
# A client written by someone else (slixmpp, Debian's python3-slixmpp)
# against uxmppd: alice@localhost and bob@localhost (password "pw") log in
# over STARTTLS with SASL mechanism MECH, verifying the server certificate
# against CAFILE (the server's self-signed certificate) for "localhost";
# alice sends bob a message and bob must receive it.  Prints "OK ..." and
# exits 0, or prints the failure and exits 1.  Exits 77 when slixmpp is
# not installed.
import asyncio
import ssl
import sys

try:
    import slixmpp
except ImportError:
    print("SKIP slixmpp not installed (apt-get install python3-slixmpp)")
    sys.exit(77)

PORT = int(sys.argv[1])
CAFILE = sys.argv[2]
MECH = sys.argv[3]
BODY = "hello over TLS"
TIMEOUT_S = 20


class Client(slixmpp.ClientXMPP):
    def __init__(self, jid, result):
        super().__init__(jid, "pw", sasl_mech=MECH)
        self.result = result
        self.started = asyncio.Event()
        self.got = asyncio.get_event_loop().create_future()
        self.mech_used = None
        ctx = ssl.create_default_context(cafile=CAFILE)
        ctx.check_hostname = True
        ctx.verify_mode = ssl.CERT_REQUIRED
        if MECH.endswith("-PLUS"):
            # Python's ssl only exposes tls-unique, defined up to TLS 1.2.
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        self.ssl_context = ctx
        if not MECH.endswith("-PLUS"):
            # Act as a client without channel binding (gs2 flag "n"):
            # slixmpp would send "y" although the server offers -PLUS,
            # which RFC 5802 §6 makes the server refuse as a downgrade.
            mechs = self["feature_mechanisms"]
            orig = mechs.sasl_callback

            def no_cb(required, optional):
                creds = orig(required, optional)
                if "channel_binding" in creds:
                    creds["channel_binding"] = None
                return creds
            mechs.sasl_callback = no_cb
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("failed_auth", self.on_failed)
        self.add_event_handler("auth_success", self.on_auth)

    async def on_start(self, _event):
        self.send_presence()
        self.started.set()

    def on_auth(self, _event):
        self.mech_used = self["feature_mechanisms"].mech.name \
            if getattr(self["feature_mechanisms"], "mech", None) else "?"

    def on_failed(self, _event):
        self.result.append("%s: authentication failed" % self.boundjid.bare)
        if not self.got.done():
            self.got.set_result(None)
        self.started.set()

    def on_message(self, msg):
        if msg["type"] in ("chat", "normal") and not self.got.done():
            self.got.set_result(msg["body"])


async def main():
    errors = []
    alice = Client("alice@localhost/a", errors)
    bob = Client("bob@localhost/b", errors)
    for c in (alice, bob):
        c.connect(("127.0.0.1", PORT), use_ssl=False, force_starttls=True)
    try:
        await asyncio.wait_for(asyncio.gather(alice.started.wait(),
                                              bob.started.wait()),
                               TIMEOUT_S)
    except asyncio.TimeoutError:
        errors.append("no session within %ds" % TIMEOUT_S)
    if not errors:
        for c in (alice, bob):
            if not c.is_connected() or c.socket is None or \
                    not isinstance(c.socket, (ssl.SSLSocket, ssl.SSLObject)):
                errors.append("%s: not over TLS" % c.boundjid.bare)
    if not errors:
        alice.send_message(mto="bob@localhost/b", mbody=BODY, mtype="chat")
        try:
            body = await asyncio.wait_for(bob.got, TIMEOUT_S)
            if body != BODY:
                errors.append("bob got %r" % (body,))
        except asyncio.TimeoutError:
            errors.append("bob got no message within %ds" % TIMEOUT_S)
    version = alice.socket.version() if alice.socket is not None and \
        hasattr(alice.socket, "version") else "?"
    for c in (alice, bob):
        c.disconnect()
    await asyncio.sleep(0.2)
    if errors:
        print("FAIL slixmpp %s: %s" % (MECH, "; ".join(errors)))
        return 1
    print("OK slixmpp %s over %s (mechanism used: %s)" %
          (MECH, version, alice.mech_used))
    return 0


sys.exit(asyncio.get_event_loop().run_until_complete(main()))
