#!/usr/bin/env python3
# tests/adhoc-client.py PORT [user-invites]
#
# The XEP-0133 admin commands (XEP-0050 ad-hoc) from a client written by
# someone else (slixmpp): admin@localhost (in `admins`) runs each one in
# its two steps (execute gives the form, submitting it completes), and
# bob@localhost, not an admin, is refused with forbidden and sees no
# commands.  Checks the effect of each: a login with the new account and
# the changed password, bob in the online list, bob receiving the
# announcement, bob's session ended, the deleted account's login refused;
# urn:xmpp:invite#invite refused to bob (allow_user_invites is off) and
# giving the admin a contact invite (printed as "URI ...").  With
# user-invites (the server has allow_user_invites = yes): bob gets his
# contact invite and sees that command only.
# One "PASS name" or "FAIL name: why" line each; exit 0 when all passed,
# 77 without slixmpp.  Used by tests/adhoc-test.sh (plain TCP, loopback).
import asyncio
import sys
import xml.etree.ElementTree as ET

try:
    import slixmpp
    from slixmpp.exceptions import IqError, IqTimeout
except ImportError:
    print("SKIP slixmpp not installed (apt-get install python3-slixmpp)")
    sys.exit(77)

PORT = int(sys.argv[1])
CMD = "http://jabber.org/protocol/commands"
DATA = "jabber:x:data"
ADMIN = "http://jabber.org/protocol/admin#"
TIMEOUT_S = 15
failures = []


def result(name, ok, why=""):
    print("PASS %s" % name if ok else "FAIL %s: %s" % (name, why))
    if not ok:
        failures.append(name)


class Client(slixmpp.ClientXMPP):
    def __init__(self, jid, password):
        super().__init__(jid, password)
        self.register_plugin("xep_0030")
        self.started = asyncio.get_event_loop().create_future()
        self.ended = asyncio.Event()
        self.messages = asyncio.Queue()
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("failed_auth", self.on_failed)
        self.add_event_handler("disconnected", self.on_end)
        self.add_event_handler("message", self.on_message)

    def on_start(self, _e):
        self.send_presence()
        if not self.started.done():
            self.started.set_result(True)

    def on_failed(self, _e):
        if not self.started.done():
            self.started.set_result(False)

    def on_end(self, _e):
        self.ended.set()
        if not self.started.done():
            self.started.set_result(False)

    def on_message(self, msg):
        self.messages.put_nowait(msg)


async def login(jid, password):
    c = Client(jid, password)
    c.connect(("127.0.0.1", PORT), use_ssl=False, force_starttls=False,
              disable_starttls=True)
    try:
        ok = await asyncio.wait_for(c.started, TIMEOUT_S)
    except asyncio.TimeoutError:
        ok = False
    return c, ok


def command_iq(c, node, sessionid=None, fields=None):
    iq = c.Iq()
    iq["type"] = "set"
    iq["to"] = "localhost"
    attrs = {"node": node}
    if sessionid is None:
        attrs["action"] = "execute"
    else:
        attrs["sessionid"] = sessionid
    cmd = ET.SubElement(iq.xml, "{%s}command" % CMD, attrs)
    if fields is not None:
        x = ET.SubElement(cmd, "{%s}x" % DATA, {"type": "submit"})
        for var, values in fields.items():
            f = ET.SubElement(x, "{%s}field" % DATA, {"var": var})
            for v in values if isinstance(values, list) else [values]:
                ET.SubElement(f, "{%s}value" % DATA).text = v
    return iq


async def run(c, node, fields):
    """Both steps; returns (form vars of step 1, completed command)."""
    r = await command_iq(c, ADMIN + node).send(timeout=TIMEOUT_S)
    cmd = r.xml.find("{%s}command" % CMD)
    if cmd is None or cmd.get("status") != "executing":
        raise RuntimeError("step 1 not executing")
    form = [f.get("var") for f in cmd.iter("{%s}field" % DATA)]
    r = await command_iq(c, ADMIN + node, cmd.get("sessionid"),
                         fields).send(timeout=TIMEOUT_S)
    done = r.xml.find("{%s}command" % CMD)
    if done is None or done.get("status") != "completed":
        raise RuntimeError("step 2 not completed")
    return form, done


async def user_invites():
    """With allow_user_invites: bob, no admin, gets his contact invite
    but still no admin command."""
    bob, ok = await login("bob@localhost/b", "bobpw")
    if not ok:
        print("FAIL setup: bob could not log in")
        return 1
    r = await command_iq(bob, "urn:xmpp:invite#invite").send(
        timeout=TIMEOUT_S)
    done = r.xml.find("{%s}command" % CMD)
    uris = [v.text for f in done.iter("{%s}field" % DATA)
            if f.get("var") == "uri" for v in f.iter("{%s}value" % DATA)]
    result("user-invite-on", done.get("status") == "completed" and
           len(uris) == 1 and
           uris[0].startswith("xmpp:bob@localhost?roster;preauth="),
           str(uris))
    items = await bob["xep_0030"].get_items(jid="localhost", node=CMD)
    nodes = {i[1] for i in items["disco_items"]["items"]}
    result("user-invite-items", nodes == {"urn:xmpp:invite#invite"},
           str(nodes))
    try:
        await command_iq(bob, ADMIN + "add-user").send(timeout=TIMEOUT_S)
        result("user-invite-not-admin", False, "add-user answered")
    except IqError as e:
        result("user-invite-not-admin",
               e.iq["error"]["condition"] == "forbidden",
               e.iq["error"]["condition"])
    bob.disconnect()
    await asyncio.sleep(0.2)
    return 1 if failures else 0


async def main():
    if len(sys.argv) > 2 and sys.argv[2] == "user-invites":
        return await user_invites()
    admin, ok = await login("admin@localhost/a", "adminpw")
    bob, ok2 = await login("bob@localhost/b", "bobpw")
    if not (ok and ok2):
        print("FAIL setup: admin or bob could not log in")
        return 1

    # bob is not an admin
    try:
        await command_iq(bob, ADMIN + "add-user").send(timeout=TIMEOUT_S)
        result("non-admin-forbidden", False, "bob's command was answered")
    except IqError as e:
        result("non-admin-forbidden",
               e.iq["error"]["condition"] == "forbidden",
               e.iq["error"]["condition"])
    items = await bob["xep_0030"].get_items(jid="localhost", node=CMD)
    result("non-admin-no-items", len(items["disco_items"]["items"]) == 0,
           str(items["disco_items"]["items"]))
    items = await admin["xep_0030"].get_items(jid="localhost", node=CMD)
    nodes = {i[1] for i in items["disco_items"]["items"]}
    want = {ADMIN + n for n in ("add-user", "delete-user",
                                "change-user-password",
                                "get-online-users-list", "announce",
                                "end-user-session")}
    result("admin-items", want <= nodes, str(nodes))

    # add user, then log in with it
    form, _ = await run(admin, "add-user", {
        "accountjid": "carol@localhost", "password": "c1",
        "password-verify": "c1"})
    result("add-user-form", "accountjid" in form and "password" in form,
           str(form))
    carol, ok = await login("carol@localhost/c", "c1")
    result("add-user", ok, "carol could not log in")
    carol.disconnect()

    await run(admin, "change-user-password", {
        "accountjid": "carol@localhost", "password": "c2"})
    c, ok_old = await login("carol@localhost/c", "c1")
    c.disconnect()
    c, ok_new = await login("carol@localhost/c", "c2")
    c.disconnect()
    result("change-user-password", ok_new and not ok_old,
           "old %s new %s" % (ok_old, ok_new))

    _, done = await run(admin, "get-online-users-list",
                        {"max_items": "100"})
    online = [v.text for f in done.iter("{%s}field" % DATA)
              if f.get("var") == "onlineuserjids"
              for v in f.iter("{%s}value" % DATA)]
    result("online-users", "bob@localhost" in online, str(online))

    await run(admin, "announce", {"subject": "Maintenance",
                                  "announcement": ["Down at noon",
                                                   "for an hour"]})
    try:
        msg = await asyncio.wait_for(bob.messages.get(), TIMEOUT_S)
        result("announce", msg["body"] == "Down at noon\nfor an hour" and
               msg["subject"] == "Maintenance" and
               msg["from"] == "localhost", str(msg))
    except asyncio.TimeoutError:
        result("announce", False, "bob got nothing")

    await run(admin, "end-user-session", {"accountjids": ["bob@localhost"]})
    try:
        await asyncio.wait_for(bob.ended.wait(), TIMEOUT_S)
        result("end-user-session", True)
    except asyncio.TimeoutError:
        result("end-user-session", False, "bob still connected")

    await run(admin, "delete-user", {"accountjids": ["carol@localhost"]})
    c, ok = await login("carol@localhost/c", "c2")
    c.disconnect()
    result("delete-user", not ok, "carol still logs in")

    try:
        await run(admin, "delete-user", {"accountjids": ["nobody@localhost"]})
        result("delete-unknown-refused", False, "completed")
    except IqError as e:
        result("delete-unknown-refused",
               e.iq["error"]["condition"] == "item-not-found",
               e.iq["error"]["condition"])

    # invitations by ad-hoc command (urn:xmpp:invite, one step); bob
    # again, his first session was ended above
    bob, ok = await login("bob@localhost/b2", "bobpw")
    try:
        await command_iq(bob, "urn:xmpp:invite#invite").send(
            timeout=TIMEOUT_S)
        result("user-invite-off", False, "bob got an invite")
    except IqError as e:
        result("user-invite-off",
               e.iq["error"]["condition"] == "forbidden",
               e.iq["error"]["condition"])
    r = await command_iq(admin, "urn:xmpp:invite#invite").send(
        timeout=TIMEOUT_S)
    done = r.xml.find("{%s}command" % CMD)
    uris = [v.text for f in done.iter("{%s}field" % DATA)
            if f.get("var") == "uri" for v in f.iter("{%s}value" % DATA)]
    ok = done.get("status") == "completed" and len(uris) == 1 and \
        uris[0].startswith("xmpp:admin@localhost?roster;preauth=")
    result("adhoc-invite", ok, str(uris))
    if ok:
        print("URI %s" % uris[0])

    admin.disconnect()
    await asyncio.sleep(0.2)
    return 1 if failures else 0


sys.exit(asyncio.get_event_loop().run_until_complete(main()))
