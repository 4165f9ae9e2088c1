#!/usr/bin/env python3
# tests/invite-client.py PORT TOKEN USER PASSWORD [CONTACT]
#
# A client written by someone else (slixmpp, Debian's python3-slixmpp)
# uses an invitation as Conversations does (XEP-0401 §5): before
# registering it hands the server the token in
# <preauth xmlns='urn:xmpp:pars:0'/>, then registers USER@localhost with
# jabber:iq:register (XEP-0077) and logs in.  With CONTACT, the new
# roster must hold CONTACT with subscription both (a contact invite).
# Prints "OK ..." and exits 0; "FAIL reason" and 1 (a refused token
# prints "REFUSED token" and exits 3); exits 77 without slixmpp.
# Used by tests/invite-test.sh over plain TCP on loopback.
import asyncio
import sys
import xml.etree.ElementTree as ET

try:
    import slixmpp
    from slixmpp.exceptions import IqError, IqTimeout
except ImportError:
    print("SKIP slixmpp not installed (apt-get install python3-slixmpp)")
    sys.exit(77)

PORT, TOKEN, USER, PASSWORD = int(sys.argv[1]), sys.argv[2], sys.argv[3], \
    sys.argv[4]
CONTACT = sys.argv[5] if len(sys.argv) > 5 else None
TIMEOUT_S = 20


class Invitee(slixmpp.ClientXMPP):
    def __init__(self):
        super().__init__("%s@localhost/invited" % USER, PASSWORD)
        self.register_plugin("xep_0077", {"force_registration": True})
        # slixmpp 1.8 queues every stanza until the session starts, its
        # own registration iqs included: let them out before SASL.
        self._always_send_everything = True
        self.outcome = asyncio.get_event_loop().create_future()
        self.add_event_handler("register", self.on_register)
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("failed_auth", self.on_failed)

    def finish(self, rc, line):
        if not self.outcome.done():
            self.outcome.set_result((rc, line))

    async def on_register(self, _event):
        iq = self.Iq()
        iq["type"] = "set"
        iq.xml.append(ET.Element("{urn:xmpp:pars:0}preauth",
                                 {"token": TOKEN}))
        try:
            await iq.send(timeout=TIMEOUT_S)
        except IqError as e:
            self.finish(3, "REFUSED token (%s)" %
                        e.iq["error"]["condition"])
            self.disconnect()
            return
        except IqTimeout:
            self.finish(1, "FAIL no answer to the token")
            return
        reg = self.Iq()
        reg["type"] = "set"
        reg["register"]["username"] = USER
        reg["register"]["password"] = PASSWORD
        try:
            await reg.send(timeout=TIMEOUT_S)
        except IqError as e:
            self.finish(1, "FAIL registration refused: %s" %
                        e.iq["error"]["condition"])
            self.disconnect()
        except IqTimeout:
            self.finish(1, "FAIL no answer to the registration")

    def on_failed(self, _event):
        self.finish(1, "FAIL authentication after registering failed")

    async def on_start(self, _event):
        await self.get_roster()
        if CONTACT is not None:
            sub = self.client_roster[CONTACT]["subscription"] \
                if CONTACT in self.client_roster else "none"
            if sub != "both":
                self.finish(1, "FAIL roster: %s has subscription %s" %
                            (CONTACT, sub))
                return
        self.finish(0, "OK slixmpp registered %s@localhost with the invite"
                    "%s" % (USER, " and has %s (both)" % CONTACT
                            if CONTACT else ""))


async def main():
    c = Invitee()
    c.connect(("127.0.0.1", PORT), use_ssl=False, force_starttls=False,
              disable_starttls=True)
    try:
        rc, line = await asyncio.wait_for(c.outcome, TIMEOUT_S)
    except asyncio.TimeoutError:
        rc, line = 1, "FAIL nothing happened within %ds" % TIMEOUT_S
    c.disconnect()
    await asyncio.sleep(0.2)
    print(line)
    return rc


sys.exit(asyncio.get_event_loop().run_until_complete(main()))
