# tests/interop/mam/mam_common.py - what the MAM rows share (beside
# ../pep/common.py): slixmpp's plugins, an inbox, paging through
# xep_0313's RSM iterator, reading a result.  See ../README.md ("The MAM
# rows").
import asyncio

SID = "urn:xmpp:sid:0"
PLUGINS = ("xep_0004", "xep_0030", "xep_0045", "xep_0059", "xep_0297",
           "xep_0313")
MAX_PAGES = 50


class Inbox:
    """Every message a slixmpp client receives (chat and groupchat)."""

    def __init__(self, cl):
        self.msgs = []
        cl.add_event_handler("message", self.msgs.append)
        cl.add_event_handler("groupchat_message", self.msgs.append)

    def body(self, body, frm=None):
        for m in self.msgs:
            if m["body"] == body and (frm is None or m["from"] == frm):
                return m
        return None


def stanza_ids(msg, by):
    """The ids of msg's XEP-0359 <stanza-id/> elements set by `by`."""
    return [e.get("id") for e in msg.xml.findall("{%s}stanza-id" % SID)
            if e.get("by") == by]


def forwarded(result):
    """A MAM result message's archived message, as a dict."""
    fw = result["mam_result"]["forwarded"]
    m = fw["stanza"]
    return {"body": m["body"], "from": m["from"].bare, "to": m["to"].bare,
            "from_full": str(m["from"]), "stamp": fw["delay"]["stamp"],
            "stanza_ids": [e.get("id") for e in
                           m.xml.findall("{%s}stanza-id" % SID)]}


async def fetch_pages(cl, jid, with_jid, rsm=None, timeout_s=20):
    """Page through archive jid (None: the account's own) with
    xep_0313.retrieve(iterator=True), pages of rsm max (default 2).
    Returns ([{"msgs", "count", "first_index", "complete"}...], error or
    None)."""
    opts = {"max": 2}
    opts.update(rsm or {})
    pages = []

    async def run():
        it = cl["xep_0313"].retrieve(jid=jid, with_jid=with_jid,
                                     iterator=True, rsm=opts)
        async for page in it:
            fin = page["mam_fin"]
            pages.append({"msgs": list(page["mam"]["results"]),
                          "count": fin["rsm"]["count"],
                          "first_index": fin["rsm"]["first_index"],
                          "complete": fin["complete"]})
            if len(pages) > MAX_PAGES:
                return "more than %d pages" % MAX_PAGES
        return None
    try:
        return pages, await asyncio.wait_for(run(), timeout_s)
    except Exception as e:
        return pages, "retrieve: %s: %s" % (type(e).__name__, e)


def check_from(results, owner, frm, empty_ok=True):
    """Each result message is to the owner, from frm (a bare JID; or with
    no from when empty_ok: RFC 6120 §8.1.2.1, the account itself), has
    its query's queryid and a delay stamp.  An error, or None."""
    for m in results:
        f = str(m["from"])
        if not (f == frm or (empty_ok and f == "")):
            return "a result from %r, not %s" % (f, frm)
        if m["to"].bare != owner:
            return "a result to %s" % m["to"]
        if not m["mam_result"]["queryid"]:
            return "a result without queryid"
        if not m["mam_result"]["forwarded"]["delay"]["stamp"]:
            return "a result without a delay stamp"
    return None
