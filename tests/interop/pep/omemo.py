#!/usr/bin/python3
# tests/interop/pep/omemo.py - the OMEMO row: slixmpp (A) publishes an OMEMO
# device list and bundle as Conversations does (XEP-0384 0.3 namespaces,
# publish-options pubsub#access_model=open); aioxmpp (B, a contact with a
# mutual subscription) asks for device-list notifications through its caps
# (eu.siacs.conversations.axolotl.devicelist+notify, aioxmpp's PEPClient and
# EntityCapsService), gets A's device list as an event and fetches the
# bundle it names.  See ../README.md ("The PEP rows").
import asyncio
import base64
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (A, B, T, AioClient, caps_learned, log, make_slixmpp,  # noqa: E402
                    missing, mutual, step, wait_until)

why = missing()
if why:
    print("skip " + why)
    sys.exit(0)
import aioxmpp  # noqa: E402
import aioxmpp.pep  # noqa: E402
import aioxmpp.pubsub  # noqa: E402
import xml.etree.ElementTree as ET  # noqa: E402

AX = "eu.siacs.conversations.axolotl"
DEVICELIST = AX + ".devicelist"
PREKEYS = 100       # Conversations keeps 100 pre-keys in its bundle


def b64(n):
    return base64.b64encode(b"\x05" + os.urandom(n - 1)).decode()


def bundle_xml():
    keys = "".join("<preKeyPublic preKeyId='%d'>%s</preKeyPublic>" %
                   (i, b64(33)) for i in range(1, PREKEYS + 1))
    ident = b64(33)
    return ident, ("<bundle xmlns='%s'><signedPreKeyPublic signedPreKeyId="
                   "'1'>%s</signedPreKeyPublic><signedPreKeySignature>%s"
                   "</signedPreKeySignature><identityKey>%s</identityKey>"
                   "<prekeys>%s</prekeys></bundle>" %
                   (AX, b64(33), base64.b64encode(os.urandom(64)).decode(),
                    ident, keys))


def open_form(sli):
    f = sli["xep_0004"].make_form("submit")
    f.add_field(var="FORM_TYPE", ftype="hidden",
                value="http://jabber.org/protocol/pubsub#publish-options")
    f.add_field(var="pubsub#access_model", value="open")
    return f


async def main():
    a = make_slixmpp(A + "/omemo", ("xep_0004", "xep_0030", "xep_0060",
                                    "xep_0115", "xep_0163"))
    b = AioClient(B + "/omemo")
    roster = b.c.summon(aioxmpp.RosterClient)
    pep = b.c.summon(aioxmpp.PEPClient)
    b.c.summon(aioxmpp.EntityCapsService)
    ps = b.c.summon(aioxmpp.PubSubClient)
    claim = pep.claim_pep_node(DEVICELIST, notify=True)
    events = []
    ps.on_item_published.connect(
        lambda jid, node, item, message=None: events.append((jid, node,
                                                             item)))
    err_a = await a.login()
    err_b = await b.login()
    err = "; ".join(e for e in (err_a and "slixmpp: " + err_a,
                                err_b and "aioxmpp: " + err_b) if e)
    step("login", not err, err or "slixmpp and aioxmpp over STARTTLS")
    if err:
        return

    # B (the contact) asks A first, A approves and asks back, B approves
    st = await mutual(a, roster, A, B, aio_asks=True)
    step("subscribe", st == ("both", "both"),
         "aioxmpp %s, slixmpp %s" % st)

    # the server asked B's caps with disco#info and B answered
    how = await caps_learned(A, str(b.c.local_jid))
    step("caps", how is not None, "%s+notify claimed in aioxmpp's caps; it %s" % (
        DEVICELIST, how) if how else "the server did not learn B's caps "
         "(see uxmppd.log)")

    device = random.randint(1, 2 ** 31 - 1)
    ident, bundle = bundle_xml()
    perr = None
    try:
        await a["xep_0060"].publish(
            None, "%s.bundles:%d" % (AX, device), id="current",
            payload=ET.fromstring(bundle), options=open_form(a), timeout=T)
        await a["xep_0060"].publish(
            None, DEVICELIST, id="current",
            payload=ET.fromstring("<list xmlns='%s'><device id='%d'/>"
                                  "</list>" % (AX, device)),
            options=open_form(a), timeout=T)
    except Exception as e:
        perr = "%s: %s" % (type(e).__name__, e)
    step("publish", perr is None, perr or "bundle (%d bytes, %d pre-keys) "
         "and device list" % (len(bundle), PREKEYS))
    if perr:
        return

    def devices():
        for jid, node, item in events:
            if str(jid.bare()) != A or node != DEVICELIST:
                continue
            for el in item.unregistered_payload:
                ids = [d.get("id") for d in el.iter("{%s}device" % AX)]
                if str(device) in ids:
                    return ids
        return None
    ids = await wait_until(devices)
    step("notify", ids is not None, "device list event to aioxmpp: %s" %
         " ".join(ids) if ids else "no device-list event (%d events)" %
         len(events))

    ferr = None
    try:
        res = await ps.get_items_by_id(aioxmpp.JID.fromstr(A),
                                       "%s.bundles:%s" % (AX, ids[0] if ids
                                                          else device),
                                       ["current"])
        got = [el for it in res.payload.items
               for el in it.unregistered_payload]
        keys = [k for el in got for k in el.iter("{%s}preKeyPublic" % AX)]
        idk = [k.text for el in got for k in el.iter("{%s}identityKey" %
                                                     AX)]
        if idk != [ident] or len(keys) != PREKEYS:
            ferr = "bundle differs: identityKey %r, %d pre-keys" % (
                idk, len(keys))
    except Exception as e:
        ferr = "%s: %s" % (type(e).__name__, e)
    step("fetch", ferr is None, ferr or "aioxmpp fetched the bundle: "
         "identityKey and %d pre-keys as published" % PREKEYS)
    claim.close()
    b.c.stop()
    a.disconnect()
    await asyncio.sleep(0.2)


if __name__ == "__main__":
    try:
        asyncio.get_event_loop().run_until_complete(
            asyncio.wait_for(main(), 50))
    except Exception as e:
        log("omemo: %s: %s" % (type(e).__name__, e))
