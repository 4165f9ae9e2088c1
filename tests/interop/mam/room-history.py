#!/usr/bin/python3
# tests/interop/mam/room-history.py - the room row: A (slixmpp) makes its
# room persistent in the owner form (so it is archived: status 170), talks
# with B (slixmpp, nick "peer"),
# leaves, and while A is away B says four more things; A rejoins asking
# for no MUC history and catches up through MAM at the room's JID from the
# last stanza-id it saw: xep_0313 retrieve(jid=ROOM, iterator=True,
# rsm={'max': 2, 'after': ID}), then only what "peer" said (`with` the
# occupant's JID).  See ../README.md ("The MAM rows").
import asyncio
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, "..", "pep")]
from common import E, A, B, log, make_slixmpp, run, step, wait_until  # noqa: E402

try:
    import slixmpp  # noqa: F401
except ImportError:
    print("skip python3-slixmpp not installed")
    sys.exit(0)
from mam_common import (PLUGINS, Inbox, check_from, fetch_pages, forwarded,  # noqa: E402
                        stanza_ids)

ROOM = E["INTEROP_ROOM"]
MISSED = ["while you were away %d" % i for i in range(1, 5)]
MUC_USER = "http://jabber.org/protocol/muc#user"


async def main():
    a = make_slixmpp(A + "/laptop", PLUGINS)
    b = make_slixmpp(B + "/pc", PLUGINS)
    inbox_a, inbox_b = Inbox(a), Inbox(b)
    gone, statuses = [], []
    # xep_0045's event for a room's status-code message (XEP-0045 §10.2.1)
    a.add_event_handler("muc::%s::config_status" % ROOM, statuses.append)
    b.add_event_handler(
        "muc::%s::got_offline" % ROOM,
        lambda p: gone.append(p["from"].resource))
    errs = [(n, await cl.login()) for n, cl in (("A", a), ("B", b))]
    err = "; ".join("%s: %s" % (n, e) for n, e in errs if e)
    step("login", not err, err or "A and B (slixmpp) over STARTTLS")
    if err:
        return
    muc_a, muc_b = a["xep_0045"], b["xep_0045"]
    peer = ROOM + "/peer"

    async def send_and_see(cl, inbox, body, frm):
        cl.send_message(mto=ROOM, mbody=body, mtype="groupchat")
        return await wait_until(lambda: inbox.body(body, frm))

    serr = None
    echo_ids = {}
    try:
        await muc_a.join_muc_wait(ROOM, "away", maxstanzas=0, timeout=10)
        form = await muc_a.get_room_config(ROOM, timeout=10)
        # only persistence changed, the rest of the form sent back as it
        # came (enablearchiving 0 in a temporary room's): archiving
        # follows persistence, and the room says so with status 170
        form.set_values({"muc#roomconfig_persistentroom": True})
        await muc_a.set_room_config(ROOM, form, timeout=10)

        def logging_on():
            return any(m.xml.find("{%s}x/{%s}status[@code='170']" % (
                MUC_USER, MUC_USER)) is not None for m in statuses)
        if not await wait_until(logging_on):
            serr = "no status 170 (logging on) after the room was made " \
                "persistent"
        await muc_b.join_muc_wait(ROOM, "peer", maxstanzas=0, timeout=10)
        if not serr and not await send_and_see(a, inbox_b, "hello from A",
                                               ROOM + "/away"):
            serr = "B did not get A's message"
        seen = serr or await send_and_see(b, inbox_a, "before you go", peer)
        if not serr and not seen:
            serr = "A did not get B's message"
        last_seen = None if serr else stanza_ids(seen, ROOM)
        if not serr and len(last_seen) != 1:
            serr = "B's message reached A with stanza-ids %s by %s" % (
                last_seen, ROOM)
        if not serr:
            last_seen = last_seen[0]
            muc_a.leave_muc(ROOM, "away")
            if not await wait_until(lambda: "away" in gone):
                serr = "B did not see A leave"
        for body in MISSED:
            if serr:
                break
            echo = await send_and_see(b, inbox_b, body, peer)
            ids = stanza_ids(echo, ROOM) if echo else []
            if len(ids) != 1:
                serr = "B's echo of %r had stanza-ids %s" % (body, ids)
            else:
                echo_ids[body] = ids[0]
        if not serr:
            res = await muc_a.join_muc_wait(ROOM, "away", maxstanzas=0,
                                            timeout=10)
            hist = [m["body"] for m in res[3]] if len(res) > 3 else []
            if hist:
                serr = "the rejoin asked for no history, got %s" % hist
    except Exception as e:
        serr = serr or "%s: %s" % (type(e).__name__, e)
    step("send", serr is None, serr or "room made persistent (170); A left, B "
         "said %d things, A rejoined without MUC history" % len(MISSED))
    if serr:
        return

    pages, perr = await fetch_pages(a, ROOM, None, {"after": last_seen})
    got = [m for p in pages for m in p["msgs"]]
    if perr is None and [len(p["msgs"]) for p in pages] != [2, 2]:
        perr = "pages of %s after the last id seen, want [2, 2]" % [
            len(p["msgs"]) for p in pages]
    step("page", perr is None, perr or "2 pages of 2 after the last id A "
         "saw, RSM count %s" % pages[-1]["count"])

    fw = [forwarded(m) for m in got]
    bodies = [f["body"] for f in fw]
    step("order", bodies == MISSED, "the %d missed messages, oldest first" %
         len(MISSED) if bodies == MISSED else "got %s, want %s" % (bodies,
                                                                  MISSED))

    ids = [m["mam_result"]["id"] for m in got]
    want_ids = [echo_ids[body] for body in bodies if body in echo_ids]
    step("ids", ids == want_ids and len(ids) == len(MISSED),
         "the room's stanza-ids B got on its messages" if ids == want_ids
         else "result ids %s, stanza-ids %s" % (ids, want_ids))

    ferr = check_from(got, A, ROOM, empty_ok=False)
    if ferr is None:
        bad = [f["from_full"] for f in fw if f["from_full"] != peer]
        if bad:
            ferr = "archived messages from %s, not %s" % (bad, peer)
    step("from", ferr is None, ferr or "every result from the room's JID, "
         "the archived messages from %s" % peer)

    wpages, werr = await fetch_pages(a, ROOM, peer)
    wbodies = [forwarded(m)["body"] for p in wpages for m in p["msgs"]]
    want_w = ["before you go"] + MISSED
    if werr is None:
        if wbodies != want_w:
            werr = "with %s: got %s, want %s" % (peer, wbodies, want_w)
        elif {p["count"] for p in wpages} != {str(len(want_w))}:
            werr = "with %s: RSM count %s, not %d" % (
                peer, [p["count"] for p in wpages], len(want_w))
    step("with", werr is None, werr or "with=%s: its %d messages, not A's, "
         "RSM count %d" % (peer, len(want_w), len(want_w)))
    a.disconnect()
    b.disconnect()
    await asyncio.sleep(0.2)


if __name__ == "__main__":
    run(main, "room-history")
