#!/usr/bin/python3
# tests/interop/upload/slixmpp-upload.py - XEP-0363 with real clients: A
# (slixmpp) finds the upload service by disco (by hand: see below), uploads a 3 MiB file with
# xep_0363.upload_file (slixmpp's own aiohttp PUT over HTTPS), sends the
# GET URL to B in a message with an XEP-0066 <x/>; B (a second slixmpp
# client) downloads it over HTTPS and compares the SHA-256, then fetches
# one byte range.  The server certificate is trusted through
# SSL_CERT_FILE (aiohttp's default context).  See ../README.md.
import asyncio
import hashlib
import logging
import os
import ssl
import sys

E = os.environ
os.environ["SSL_CERT_FILE"] = E["UXMPPD_CERT"]
try:
    import aiohttp
    import slixmpp
except ImportError as e:
    print("skip python3-slixmpp or python3-aiohttp not installed (%s)" % e)
    sys.exit(0)

logging.basicConfig(level=logging.DEBUG, stream=sys.stderr,
                    format="%(asctime)s %(name)s %(message)s")
HOST, PORT = E["UXMPPD_HOST"], int(E["UXMPPD_PORT"])
A, B, PW = E["INTEROP_JID_A"], E["INTEROP_JID_B"], E["INTEROP_PASSWORD"]
T = 20
SIZE = 3 * 1024 * 1024 + 17


def step(name, ok, reason=""):
    st = ok if isinstance(ok, str) else ("ok" if ok else "FAIL")
    print(("step %s %s %s" % (name, st, reason)).rstrip(), flush=True)


class Client(slixmpp.ClientXMPP):
    def __init__(self, jid):
        super().__init__(jid, PW)
        self.ssl_context = ssl.create_default_context(cafile=E["UXMPPD_CERT"])
        for p in ("xep_0030", "xep_0066", "xep_0363"):
            self.register_plugin(p)
        self.started = asyncio.Event()
        self.inbox = asyncio.Queue()
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("message", lambda m: self.inbox.put_nowait(m))

    async def on_start(self, _ev):
        self.send_presence()
        self.started.set()


async def main():
    a, b = Client(A + "/up"), Client(B + "/down")
    for c in (a, b):
        c.connect((HOST, PORT))
    try:
        await asyncio.wait_for(asyncio.gather(a.started.wait(),
                                              b.started.wait()), T)
        step("login", True)
    except asyncio.TimeoutError:
        step("login", False, "no session in %ds" % T)
        return
    # slixmpp 1.8.3's find_upload_service hands coroutines to
    # asyncio.wait, which Python 3.11 refuses: the same disco by hand
    # (items of the domain, the item with the store/file identity)
    up = None
    items = await a["xep_0030"].get_items(jid=a.boundjid.domain, timeout=T)
    for it in items["disco_items"]["items"]:
        info = await a["xep_0030"].get_info(jid=it[0], timeout=T)
        di = info["disco_info"]
        if ("store", "file") in [(i[0], i[1]) for i in di["identities"]] \
                and "urn:xmpp:http:upload:0" in di["features"]:
            up = it[0]
            for form in di.iterables:
                v = form["values"]
                if v.get("FORM_TYPE") == ["urn:xmpp:http:upload:0"]:
                    a["xep_0363"].max_file_size = int(v["max-file-size"])
    step("disco", up is not None, "service %s, max %s bytes" % (
        up, a["xep_0363"].max_file_size))
    if up is None:
        return
    a["xep_0363"].upload_service = up
    data = os.urandom(SIZE)
    want = hashlib.sha256(data).hexdigest()
    path = os.path.join(E.get("INTEROP_LOG_PREFIX", "/tmp/up") + "-file.bin")
    with open(path, "wb") as f:
        f.write(data)
    try:
        url = await a["xep_0363"].upload_file(
            path, content_type="application/octet-stream", timeout=T)
        step("upload", url.startswith("https://"), url)
        os.unlink(path)
    except Exception as e:
        step("upload", False, "%s: %s" % (type(e).__name__, e))
        return
    msg = a.make_message(mto=B, mbody=url, mtype="chat")
    msg["oob"]["url"] = url
    msg.send()
    try:
        while True:
            m = await asyncio.wait_for(b.inbox.get(), T)
            if m["oob"]["url"]:
                break
        got_url = m["oob"]["url"]
        step("deliver", got_url == url, "oob url")
    except asyncio.TimeoutError:
        step("deliver", False, "no message with an oob url in %ds" % T)
        return
    ctx = ssl.create_default_context(cafile=E["UXMPPD_CERT"])
    async with aiohttp.ClientSession() as s:
        async with s.get(got_url, ssl=ctx) as r:
            body = await r.read()
            got = hashlib.sha256(body).hexdigest()
            step("download", r.status == 200 and got == want,
                 "status %d, %d bytes, sha256 %s" % (r.status, len(body),
                                                     "equal" if got == want
                                                     else "differs"))
        async with s.get(got_url, ssl=ctx,
                         headers={"Range": "bytes=1000-1999"}) as r:
            part = await r.read()
            step("range", r.status == 206 and part == data[1000:2000],
                 "status %d, %s" % (r.status, r.headers.get("Content-Range")))
    for c in (a, b):
        c.disconnect()


asyncio.run(main())
