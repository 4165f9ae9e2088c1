#!/usr/bin/python3
# tests/interop/pep/avatar.py - the avatar row: aioxmpp (A) publishes a
# XEP-0084 avatar with its AvatarService (urn:xmpp:avatar:data, then
# urn:xmpp:avatar:metadata, item id the SHA-1 of the PNG); slixmpp (B, a
# contact with a mutual subscription; its xep_0084 plugin puts
# urn:xmpp:avatar:metadata+notify into its caps through xep_0163 and
# xep_0115) gets the metadata event and fetches the data by that id.
# See ../README.md ("The PEP rows").
import asyncio
import base64
import hashlib
import os
import struct
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (A, B, AioClient, caps_learned, log, make_slixmpp,  # noqa: E402
                    missing, mutual, run, step, wait_until)

why = missing()
if why:
    print("skip " + why)
    sys.exit(0)
import aioxmpp  # noqa: E402
import aioxmpp.avatar  # noqa: E402

META = "urn:xmpp:avatar:metadata"
DATA = "urn:xmpp:avatar:data"
SIDE = 64


def png(side):
    """A side x side RGB PNG of noise (does not compress: ~12 KiB)."""
    def chunk(kind, data):
        c = kind + data
        return struct.pack(">I", len(data)) + c + \
            struct.pack(">I", zlib.crc32(c) & 0xffffffff)
    rows = b"".join(b"\0" + os.urandom(side * 3) for _ in range(side))
    return b"\x89PNG\r\n\x1a\n" + \
        chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)) + \
        chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


async def main():
    a = AioClient(A + "/avatar")
    roster = a.c.summon(aioxmpp.RosterClient)
    avatars = a.c.summon(aioxmpp.avatar.AvatarService)
    b = make_slixmpp(B + "/avatar", ("xep_0030", "xep_0060", "xep_0115",
                                     "xep_0163", "xep_0084"))
    events = []
    b.add_event_handler("avatar_metadata_publish", events.append)
    err_a = await a.login()
    err_b = await b.login()
    err = "; ".join(e for e in (err_a and "aioxmpp: " + err_a,
                                err_b and "slixmpp: " + err_b) if e)
    step("login", not err, err or "aioxmpp and slixmpp over STARTTLS")
    if err:
        return

    # B (the contact) asks A first, A approves and asks back, B approves
    st = await mutual(b, roster, B, A, aio_asks=False)
    step("subscribe", st == ("both", "both"),
         "aioxmpp %s, slixmpp %s" % st)

    how = await caps_learned(A, str(b.boundjid))
    step("caps", how is not None, "%s+notify claimed in slixmpp's caps; it %s" % (
        META, how) if how else "the server did not learn B's caps "
         "(see uxmppd.log)")

    image = png(SIDE)
    sha = hashlib.sha1(image).hexdigest()
    perr = None
    try:
        s = aioxmpp.avatar.AvatarSet()
        s.add_avatar_image("image/png", image_bytes=image, width=SIDE,
                           height=SIDE)
        await asyncio.wait_for(avatars.publish_avatar_set(s), 10)
    except Exception as e:
        perr = "%s: %s" % (type(e).__name__, e)
    step("publish", perr is None, perr or "aioxmpp AvatarService: data "
         "(%d bytes PNG) and metadata, id %s" % (len(image), sha))
    if perr:
        return

    def info_ids():
        for msg in events:
            if msg["from"].bare != A:
                continue
            for it in msg.xml.iter("{%s}info" % META):
                if it.get("id") == sha:
                    return [it.get("id"), it.get("type"), it.get("bytes")]
        return None
    info = await wait_until(info_ids)
    step("notify", info is not None, "metadata event to slixmpp: id %s "
         "type %s bytes %s" % tuple(info) if info else
         "no metadata event (%d events)" % len(events))

    ferr = None
    try:
        res = await b["xep_0084"].retrieve_avatar(A, info[0] if info
                                                  else sha, timeout=10)
        data = [el.text for el in res.xml.iter("{%s}data" % DATA)]
        got = base64.b64decode("".join(data[0].split())) if data else b""
        if hashlib.sha1(got).hexdigest() != sha:
            ferr = "data differs (%d bytes)" % len(got)
    except Exception as e:
        ferr = "%s: %s" % (type(e).__name__, e)
    step("fetch", ferr is None, ferr or "slixmpp fetched the data by id: "
         "%d bytes, SHA-1 as the metadata says" % len(image))
    a.c.stop()
    b.disconnect()
    await asyncio.sleep(0.2)


if __name__ == "__main__":
    run(main, "avatar")
