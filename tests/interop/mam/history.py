#!/usr/bin/python3
# tests/interop/mam/history.py - the 1:1 history row: device 1 of A
# (slixmpp, resource dev1) talks with two contacts, B and C (slixmpp too),
# and goes away; device 2 (resource dev2, a new session later) fetches the
# history with xep_0313 retrieve(jid=None, iterator=True, rsm={'max': 2}),
# page by page as slixmpp's RSM iterator does, then only the messages with
# C (the form's `with`).  See ../README.md ("The MAM rows").
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

C = E["INTEROP_JID_C"]


async def main():
    a1 = make_slixmpp(A + "/dev1", PLUGINS)
    b = make_slixmpp(B + "/pc", PLUGINS)
    c = make_slixmpp(C + "/pc", PLUGINS)
    inbox = {n: Inbox(cl) for n, cl in (("a", a1), ("b", b), ("c", c))}
    errs = [(n, await cl.login()) for n, cl in
            (("dev1", a1), ("B", b), ("C", c))]
    err = "; ".join("%s: %s" % (n, e) for n, e in errs if e)
    step("login", not err, err or "A/dev1, B and C (slixmpp) over STARTTLS")
    if err:
        return

    # The conversation, one message at a time so its order is known:
    # (sender, recipient, body).  A's archive gets every one.
    convo = []
    for i in range(1, 8):
        if i % 3 == 0:
            convo.append(("b", "a", "b to a %d" % i))
        else:
            convo.append(("a", "b", "a to b %d" % i))
    convo[3:3] = [("a", "c", "a to c 1"), ("c", "a", "c to a 1")]
    clients = {"a": a1, "b": b, "c": c}
    jids = {"a": A, "b": B, "c": C}
    live_ids = {}      # body -> the stanza-id A's device 1 got with it
    serr = None
    for frm, to, body in convo:
        clients[frm].send_message(mto=jids[to], mbody=body, mtype="chat")
        m = await wait_until(lambda: inbox[to].body(body))
        if m is None:
            serr = "%s did not get %r" % (jids[to], body)
            break
        if to == "a":
            ids = stanza_ids(m, A)
            if len(ids) != 1:
                serr = "%r reached A with stanza-ids %s by %s" % (
                    body, ids, A)
                break
            live_ids[body] = ids[0]
    step("send", serr is None, serr or "%d messages (A with B and C), each "
         "delivered; A got %d with its archive's stanza-id" % (
             len(convo), len(live_ids)))
    if serr:
        return
    a1.disconnect()
    await asyncio.sleep(0.3)

    # Later, a second device of A.
    a2 = make_slixmpp(A + "/dev2", PLUGINS)
    e2 = await a2.login()
    if e2:
        step("page", False, "A/dev2: " + e2)
        return
    pages, perr = await fetch_pages(a2, None, None)
    got = [m for p in pages for m in p["msgs"]]
    n = len(convo)
    want_pages = (n + 1) // 2
    if perr is None:
        sizes = [len(p["msgs"]) for p in pages]
        counts = {p["count"] for p in pages}
        if any(s > 2 for s in sizes) or len(got) != n:
            perr = "page sizes %s for %d messages" % (sizes, n)
        elif len(pages) != want_pages:
            perr = "%d pages for %d messages by 2 (the RSM count lets the " \
                "iterator stop: counts %s)" % (len(pages), n, counts)
        elif counts != {str(n)}:
            perr = "RSM count %s, not %d" % (counts, n)
    step("page", perr is None, perr or "%d pages of at most 2 (sizes %s), "
         "RSM count %d" % (len(pages), [len(p["msgs"]) for p in pages], n))

    fw = [forwarded(m) for m in got]
    bodies = [f["body"] for f in fw]
    want = [body for _, _, body in convo]
    step("order", bodies == want, "all %d, oldest first" % n
         if bodies == want else "got %s, want %s" % (bodies, want))

    ids = [m["mam_result"]["id"] for m in got]
    who = {body: (s, r) for s, r, body in convo}
    ierr = None
    if len(set(ids)) != len(ids) or not all(ids):
        ierr = "result ids not unique: %s" % ids
    else:
        for m, f in zip(got, fw):
            want_id = live_ids.get(f["body"])
            if want_id is not None and m["mam_result"]["id"] != want_id:
                ierr = "%r has result id %s, delivered with stanza-id %s" % (
                    f["body"], m["mam_result"]["id"], want_id)
                break
            if f["stanza_ids"]:
                ierr = "the archived %r still carries stanza-ids %s" % (
                    f["body"], f["stanza_ids"])
                break
            s, r = who[f["body"]]
            if (f["from"], f["to"]) != (jids[s], jids[r]):
                ierr = "%r archived from %s to %s" % (f["body"], f["from"],
                                                      f["to"])
                break
    step("ids", ierr is None, ierr or "%d unique result ids; the %d A "
         "received are the stanza-ids delivered with them" % (
             len(ids), len(live_ids)))

    ferr = check_from(got, A, A)
    step("from", ferr is None, ferr or "every result from A's bare JID "
         "(or no from), queryid of its page, with a delay stamp")

    cpages, werr = await fetch_pages(a2, None, C)
    cgot = [forwarded(m) for p in cpages for m in p["msgs"]]
    want_c = [body for s, r, body in convo if "c" in (s, r)]
    if werr is None:
        if [f["body"] for f in cgot] != want_c:
            werr = "with %s: got %s, want %s" % (C, [f["body"] for f in cgot],
                                                 want_c)
        elif {p["count"] for p in cpages} != {str(len(want_c))}:
            werr = "with %s: RSM count %s, not %d" % (
                C, [p["count"] for p in cpages], len(want_c))
        else:
            werr = check_from([m for p in cpages for m in p["msgs"]], A, A)
    step("with", werr is None, werr or "with=%s: only its %d messages, in "
         "order, RSM count %d" % (C, len(want_c), len(want_c)))
    a2.disconnect()
    b.disconnect()
    c.disconnect()
    await asyncio.sleep(0.2)


if __name__ == "__main__":
    run(main, "history")
