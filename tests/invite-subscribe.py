#!/usr/bin/env python3
# tests/invite-subscribe.py PORT TOKEN USER PASSWORD CONTACT
#
# XEP-0379 §3 from an account that exists already (slixmpp): USER sends
# CONTACT a subscription request carrying CONTACT's contact-invite token
# in <preauth xmlns='urn:xmpp:pars:0'/>; the server approves it for
# CONTACT and asks back, which slixmpp authorizes (auto_authorize), so
# USER's roster ends with CONTACT at subscription both.  "OK ..." and 0,
# or "FAIL ..." and 1; 77 without slixmpp.  Used by tests/invite-test.sh.
import asyncio
import sys
import xml.etree.ElementTree as ET

try:
    import slixmpp
except ImportError:
    print("SKIP slixmpp not installed (apt-get install python3-slixmpp)")
    sys.exit(77)

PORT, TOKEN, USER, PASSWORD, CONTACT = int(sys.argv[1]), sys.argv[2], \
    sys.argv[3], sys.argv[4], sys.argv[5]
TIMEOUT_S = 15


async def main():
    c = slixmpp.ClientXMPP("%s@localhost/s" % USER, PASSWORD)
    started = asyncio.get_event_loop().create_future()
    c.add_event_handler("session_start",
                        lambda _e: started.done() or started.set_result(1))
    c.connect(("127.0.0.1", PORT), use_ssl=False, force_starttls=False,
              disable_starttls=True)
    try:
        await asyncio.wait_for(started, TIMEOUT_S)
        await c.get_roster()
        c.send_presence()
        p = c.make_presence(pto=CONTACT, ptype="subscribe")
        p.xml.append(ET.Element("{urn:xmpp:pars:0}preauth",
                                {"token": TOKEN}))
        p.send()
        sub = "none"
        for _ in range(int(TIMEOUT_S / 0.1)):
            if CONTACT in c.client_roster:
                sub = c.client_roster[CONTACT]["subscription"]
                if sub == "both":
                    break
            await asyncio.sleep(0.1)
        line = ("OK %s has %s, subscription both" % (USER, CONTACT)
                if sub == "both" else "FAIL subscription %s" % sub)
    except asyncio.TimeoutError:
        line = "FAIL no session"
    c.disconnect()
    await asyncio.sleep(0.2)
    print(line)
    return 0 if line.startswith("OK") else 1


sys.exit(asyncio.get_event_loop().run_until_complete(main()))
