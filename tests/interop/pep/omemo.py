#!/usr/bin/python3
# tests/interop/pep/omemo.py - the OMEMO row, both ways: two OMEMO 0.3
# clients (XEP-0384 0.3 namespaces, as Conversations) see each other's
# devices.  slixmpp (A) and aioxmpp (B) are contacts with a mutual
# subscription; each asks for device-list notifications through its caps
# (eu.siacs.conversations.axolotl.devicelist+notify: aioxmpp's PEPClient
# claim with EntityCapsService, slixmpp's xep_0163 add_interest with
# xep_0115), each publishes a bundle and then its device list with
# publish-options pubsub#access_model=open (slixmpp's xep_0060 options
# form, aioxmpp's PEPClient.publish(access_model="open")), each gets the
# other's device list as an event and fetches the bundle it names.  Every
# step covers both directions and says which one failed.  See ../README.md
# ("The PEP rows").
import asyncio
import base64
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (A, B, T, AioClient, caps_learned, log, make_slixmpp,  # noqa: E402
                    missing, mutual, run, step, wait_until)

why = missing()
if why:
    print("skip " + why)
    sys.exit(0)
import aioxmpp  # noqa: E402
import aioxmpp.pep  # noqa: E402
import aioxmpp.pubsub  # noqa: E402
import aioxmpp.xso as xso  # noqa: E402
import xml.etree.ElementTree as ET  # noqa: E402

AX = "eu.siacs.conversations.axolotl"
DEVICELIST = AX + ".devicelist"
PREKEYS = 100       # Conversations keeps 100 pre-keys in its bundle


def bundles(device):
    return "%s.bundles:%s" % (AX, device)


# aioxmpp publishes and parses registered XSOs: the device list and the
# bundle of XEP-0384 0.3 (§4.2 and §4.3 of that version).
class Device(xso.XSO):
    TAG = (AX, "device")
    id_ = xso.Attr("id", type_=xso.Integer())


@aioxmpp.pubsub.xso.as_payload_class
class DeviceList(xso.XSO):
    TAG = (AX, "list")
    devices = xso.ChildList([Device])


class PreKey(xso.XSO):
    TAG = (AX, "preKeyPublic")
    id_ = xso.Attr("preKeyId", type_=xso.Integer())
    key = xso.Text()


class SignedPreKey(xso.XSO):
    TAG = (AX, "signedPreKeyPublic")
    id_ = xso.Attr("signedPreKeyId", type_=xso.Integer())
    key = xso.Text()


class PreKeys(xso.XSO):
    TAG = (AX, "prekeys")
    keys = xso.ChildList([PreKey])


@aioxmpp.pubsub.xso.as_payload_class
class Bundle(xso.XSO):
    TAG = (AX, "bundle")
    signed = xso.Child([SignedPreKey])
    signature = xso.ChildText((AX, "signedPreKeySignature"))
    identity = xso.ChildText((AX, "identityKey"))
    prekeys = xso.Child([PreKeys])


def b64(n):
    return base64.b64encode(b"\x05" + os.urandom(n - 1)).decode()


def key_material():
    """Random keys shaped as an OMEMO 0.3 bundle (no crypto needed: the
    server only stores and forwards them)."""
    return {"signed": b64(33),
            "signature": base64.b64encode(os.urandom(64)).decode(),
            "identity": b64(33),
            "prekeys": [b64(33) for _ in range(PREKEYS)]}


def bundle_xml(k):
    keys = "".join("<preKeyPublic preKeyId='%d'>%s</preKeyPublic>" %
                   (i, key) for i, key in enumerate(k["prekeys"], 1))
    return ("<bundle xmlns='%s'><signedPreKeyPublic signedPreKeyId="
            "'1'>%s</signedPreKeyPublic><signedPreKeySignature>%s"
            "</signedPreKeySignature><identityKey>%s</identityKey>"
            "<prekeys>%s</prekeys></bundle>" %
            (AX, k["signed"], k["signature"], k["identity"], keys))


def bundle_xso(k):
    b = Bundle()
    b.signed = SignedPreKey()
    b.signed.id_, b.signed.key = 1, k["signed"]
    b.signature, b.identity = k["signature"], k["identity"]
    b.prekeys = PreKeys()
    for i, key in enumerate(k["prekeys"], 1):
        p = PreKey()
        p.id_, p.key = i, key
        b.prekeys.keys.append(p)
    return b


def open_form(sli):
    f = sli["xep_0004"].make_form("submit")
    f.add_field(var="FORM_TYPE", ftype="hidden",
                value="http://jabber.org/protocol/pubsub#publish-options")
    f.add_field(var="pubsub#access_model", value="open")
    return f


def both(name, a_to_b, b_to_a):
    """One step line for the two directions: each is (error or None,
    what it did)."""
    errs = ["%s: %s" % (d, e) for d, (e, _) in
            (("slixmpp->aioxmpp", a_to_b), ("aioxmpp->slixmpp", b_to_a))
            if e]
    step(name, not errs, "; ".join(errs) if errs else
         "slixmpp->aioxmpp: %s; aioxmpp->slixmpp: %s" % (a_to_b[1],
                                                          b_to_a[1]))
    return not errs


async def attempt(coro):
    try:
        await coro
        return None
    except Exception as e:
        return "%s: %s" % (type(e).__name__, e)


async def main():
    a = make_slixmpp(A + "/omemo", ("xep_0004", "xep_0030", "xep_0060",
                                    "xep_0115", "xep_0163"))
    # before login, so the first presence's caps carry +notify
    a["xep_0163"].add_interest(DEVICELIST)
    a_events = []
    a.add_event_handler("pubsub_publish", a_events.append)
    b = AioClient(B + "/omemo")
    roster = b.c.summon(aioxmpp.RosterClient)
    pep = b.c.summon(aioxmpp.PEPClient)
    b.c.summon(aioxmpp.EntityCapsService)
    ps = b.c.summon(aioxmpp.PubSubClient)
    claim = pep.claim_pep_node(DEVICELIST, notify=True)
    b_events = []
    ps.on_item_published.connect(
        lambda jid, node, item, message=None: b_events.append((jid, node,
                                                               item)))
    err_a = await a.login()
    err_b = await b.login()
    err = "; ".join(e for e in (err_a and "slixmpp: " + err_a,
                                err_b and "aioxmpp: " + err_b) if e)
    step("login", not err, err or "slixmpp and aioxmpp over STARTTLS")
    if err:
        return

    # B (aioxmpp) asks A first, A approves and asks back, B approves
    st = await mutual(a, roster, A, B, aio_asks=True)
    step("subscribe", st == ("both", "both"),
         "aioxmpp %s, slixmpp %s" % st)

    # the server asked each one's caps with disco#info and it answered;
    # each is a recipient of the other's PEP service
    how_b = await caps_learned(A, str(b.c.local_jid))
    how_a = await caps_learned(B, str(a.boundjid))
    nope = "the server did not learn its caps (see uxmppd.log)"
    both("caps",
         (None if how_b else nope, "aioxmpp %s" %
          how_b),
         (None if how_a else nope, "slixmpp %s" %
          how_a))

    # each publishes a bundle, then the device list naming it
    dev_a = random.randint(1, 2 ** 31 - 1)
    dev_b = random.randint(1, 2 ** 31 - 1)
    keys_a, keys_b = key_material(), key_material()
    perr_a = await attempt(a["xep_0060"].publish(
        None, bundles(dev_a), id="current",
        payload=ET.fromstring(bundle_xml(keys_a)), options=open_form(a),
        timeout=T))
    perr_a = perr_a or await attempt(a["xep_0060"].publish(
        None, DEVICELIST, id="current",
        payload=ET.fromstring("<list xmlns='%s'><device id='%d'/></list>" %
                              (AX, dev_a)),
        options=open_form(a), timeout=T))
    perr_b = await attempt(asyncio.wait_for(pep.publish(
        bundles(dev_b), bundle_xso(keys_b), id_="current",
        access_model="open"), T))
    dl = DeviceList()
    d = Device()
    d.id_ = dev_b
    dl.devices.append(d)
    perr_b = perr_b or await attempt(asyncio.wait_for(pep.publish(
        DEVICELIST, dl, id_="current", access_model="open"), T))
    what = "bundle (%d pre-keys) and device list, access_model open" % \
        PREKEYS
    if not both("publish", (perr_a, what), (perr_b, what)):
        return

    def aio_saw():
        for jid, node, item in b_events:
            if str(jid.bare()) != A or node != DEVICELIST:
                continue
            p = item.registered_payload
            ids = [x.id_ for x in p.devices] if isinstance(
                p, DeviceList) else []
            if dev_a in ids:
                return ids
        return None

    def sli_saw():
        for msg in a_events:
            if msg["from"].bare != B or \
                    msg["pubsub_event"]["items"]["node"] != DEVICELIST:
                continue
            ids = [int(x.get("id")) for x in
                   msg.xml.iter("{%s}device" % AX)]
            if dev_b in ids:
                return ids
        return None
    ids_a = await wait_until(aio_saw)
    ids_b = await wait_until(sli_saw)
    both("notify",
         (None if ids_a else "no device-list event from slixmpp's account "
          "(%d events)" % len(b_events),
          "event to aioxmpp with %s" % ids_a),
         (None if ids_b else "no device-list event from aioxmpp's account "
          "(%d events)" % len(a_events),
          "event to slixmpp with %s" % ids_b))

    def compare(keys, identity, prekeys):
        if identity != [keys["identity"]] or prekeys != keys["prekeys"]:
            return "bundle differs: identityKey %r, %d pre-keys" % (
                identity, len(prekeys))
        return None

    async def aio_fetch():
        res = await ps.get_items_by_id(aioxmpp.JID.fromstr(A),
                                       bundles(ids_a[0] if ids_a else dev_a),
                                       ["current"])
        got = [it.registered_payload for it in res.payload.items
               if isinstance(it.registered_payload, Bundle)]
        e = compare(keys_a, [g.identity for g in got],
                    [k.key for g in got for k in g.prekeys.keys])
        if e:
            raise ValueError(e)

    async def sli_fetch():
        res = await a["xep_0060"].get_item(
            B, bundles(ids_b[0] if ids_b else dev_b), "current", timeout=T)
        e = compare(keys_b, [k.text for k in res.xml.iter(
            "{%s}identityKey" % AX)], [k.text for k in res.xml.iter(
                "{%s}preKeyPublic" % AX)])
        if e:
            raise ValueError(e)
    fetched = "bundle fetched, identityKey and %d pre-keys as published" % \
        PREKEYS
    both("fetch", (await attempt(aio_fetch()), fetched),
         (await attempt(sli_fetch()), fetched))
    claim.close()
    b.c.stop()
    a.disconnect()
    await asyncio.sleep(0.2)


if __name__ == "__main__":
    run(main, "omemo")
