// tests/interop/clients/xmppjs.js - xmpp.js (@xmpp/client from npm,
// tests/interop/package.json) as the client under test on node, peer.py
// as the other side.  See ../README.md.
import tls from "node:tls";
import fs from "node:fs";

import { startPeer } from "../peerctl.mjs";

const E = process.env;
// Trust the server certificate: xmpp.js hands no CA option down to
// tls.connect (STARTTLS and direct TLS), so we add ours to every call.
const ca = fs.readFileSync(E.UXMPPD_CERT);
const tlsConnect = tls.connect;
tls.connect = (opts, ...rest) => tlsConnect({ ...opts, ca: [ca] }, ...rest);

let xmppjs;
try {
  xmppjs = await import("@xmpp/client");
} catch (e) {
  console.log("skip @xmpp/client not installed (npm ci in tests/interop)");
  process.exit(0);
}
const { client, xml } = xmppjs;

const A = E.INTEROP_JID_A, B = E.INTEROP_JID_B, PW = E.INTEROP_PASSWORD;
const ROOM = E.INTEROP_ROOM, T = 10;
const user = A.split("@")[0];
const log = (...a) => console.error(new Date().toISOString(), ...a);
const step = (name, ok, why = "") =>
  console.log(`step ${name} ${typeof ok === "string" ? ok : ok ? "ok" : "FAIL"} ${why}`.trimEnd());
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A client with a queue of every stanza received.
function makeClient(resource, service) {
  const x = client({ service, domain: E.UXMPPD_DOMAIN, resource, username: user, password: PW });
  x.inbox = [];
  x.waiters = [];
  x.mech = "?";
  x.on("error", (e) => log(resource, "error", e.message));
  x.on("send", (el) => {
    log(resource, "SEND", el.toString());
    if (el.name === "auth" || el.name === "authenticate") x.mech = el.attrs.mechanism;
  });
  x.on("element", (el) => log(resource, "RECV", el.toString()));
  x.on("stanza", (st) => {
    x.inbox.push(st);
    x.waiters.forEach((w) => w());
  });
  x.waitFor = (match, s = T) => new Promise((res) => {
    const end = Date.now() + s * 1000;
    const check = () => {
      const i = x.inbox.findIndex(match);
      if (i >= 0) {
        x.waiters = x.waiters.filter((w) => w !== check);
        res(x.inbox.splice(i, 1)[0]);
        return true;
      }
      if (Date.now() >= end) {
        x.waiters = x.waiters.filter((w) => w !== check);
        res(null);
        return true;
      }
      return false;
    };
    if (!check()) {
      x.waiters.push(check);
      setTimeout(check, s * 1000 + 10);
    }
  });
  return x;
}
const body = (st) => st.getChildText("body");
const bare = (j) => (j || "").split("/")[0];

async function online(x) {
  try {
    await Promise.race([x.start(), sleep(T * 1000).then(() => { throw new Error("no session"); })]);
    return null;
  } catch (e) {
    return e.message || String(e);
  }
}

// XMPPJS_SERVICE (clients/xmppjs-ws.js): the client on a WebSocket URL
const WS = E.XMPPJS_SERVICE || null;
const SERVICE = WS || `xmpp://${E.UXMPPD_HOST}:${E.UXMPPD_PORT}`;
const peer = startPeer(`${B}/peer`, PW);
const a = makeClient("r1", SERVICE);
let err = await online(a);
const tlsOn = WS ? (a.socket && a.socket.url && a.socket.url.startsWith("wss:") ? "wss" : null) :
  a.socket && a.socket.socket && typeof a.socket.socket.getProtocol === "function"
  ? a.socket.socket.getProtocol() : null;
if (!err && !tlsOn) err = "not over TLS";
if (!(await peer.ready)) err = (err ? err + "; " : "") + "peer did not log in";
step("login", !err, err || (WS ? `${a.mech} over ${WS}` : `${a.mech} over STARTTLS ${tlsOn}`));
if (err) { await peer.quit(); process.exit(0); }

try {
  await a.send(xml("presence"));
  // roster: A asks, the peer approves and asks back, A approves.
  await peer.cmd("approve-all");
  await a.send(xml("presence", { to: B, type: "subscribe" }));
  const sub = await a.waitFor((s) => s.is("presence") && s.attrs.type === "subscribe" && bare(s.attrs.from) === B);
  if (sub) await a.send(xml("presence", { to: B, type: "subscribed" }));
  const [okSub, whySub] = await peer.cmd(`expect-subscribed ${A} ${T}`);
  await sleep(300);
  const ros = await a.iqCaller.get(xml("query", "jabber:iq:roster"));
  const item = ros.getChildren("item").find((i) => i.attrs.jid === B);
  const subState = item ? item.attrs.subscription : "absent";
  step("roster", subState === "both", okSub ? `subscription=${subState}` : `peer: ${whySub}`);

  const pres = await a.waitFor((s) => s.is("presence") && !s.attrs.type && s.attrs.from === `${B}/peer`);
  const [okP, whyP] = await peer.cmd(`expect-presence ${A}/r1 ${T}`);
  step("presence", !!pres && okP, !pres ? "no presence from the peer" : okP ? "" : `peer: ${whyP}`);

  await a.send(xml("message", { to: B, type: "chat" }, xml("body", {}, "hello from xmppjs")));
  let [ok, why] = await peer.cmd(`expect-message ${A} hello from xmppjs ${T}`);
  step("msg-out", ok, ok ? "" : why);

  await peer.cmd(`send ${A} hello to xmppjs`);
  let m = await a.waitFor((s) => s.is("message") && bare(s.attrs.from) === B && body(s) === "hello to xmppjs");
  step("msg-in", !!m, m ? "" : "nothing received");

  [ok, why] = await peer.cmd(`join ${ROOM} peer`);
  await a.send(xml("presence", { to: `${ROOM}/xjs` },
    xml("x", { xmlns: "http://jabber.org/protocol/muc" }, xml("history", { maxstanzas: "0" }))));
  const self = await a.waitFor((s) => s.is("presence") && s.attrs.from === `${ROOM}/xjs` &&
    (s.getChild("x", "http://jabber.org/protocol/muc#user") || { getChildren: () => [] })
      .getChildren("status").some((c) => c.attrs.code === "110"));
  step("muc-join", !!self && ok, !ok ? `peer: ${why}` : self ? "" : "no self-presence with status 110");

  await a.send(xml("message", { to: ROOM, type: "groupchat" }, xml("body", {}, "gc from xmppjs")));
  [ok, why] = await peer.cmd(`expect-groupchat ${ROOM} xjs gc from xmppjs ${T}`);
  step("groupchat-out", ok, ok ? "" : why);

  await peer.cmd(`groupchat ${ROOM} gc to xmppjs`);
  m = await a.waitFor((s) => s.is("message") && s.attrs.type === "groupchat" &&
    s.attrs.from === `${ROOM}/peer` && body(s) === "gc to xmppjs");
  step("groupchat-in", !!m, m ? "" : "nothing received");

  await a.send(xml("message", { to: `${ROOM}/peer`, type: "chat" }, xml("body", {}, "pm from xmppjs"),
    xml("x", { xmlns: "http://jabber.org/protocol/muc#user" })));
  [ok, why] = await peer.cmd(`expect-pm ${ROOM} xjs pm from xmppjs ${T}`);
  await peer.cmd(`pm ${ROOM} xjs pm to xmppjs`);
  m = await a.waitFor((s) => s.is("message") && s.attrs.from === `${ROOM}/peer` && body(s) === "pm to xmppjs");
  step("muc-pm", ok && !!m, !ok ? `peer: ${why}` : m ? "" : "pm not received");

  // carbons: r1 enables them, the peer writes to r2, r1 gets the copy.
  {
    let cerr = null;
    try {
      await a.iqCaller.set(xml("enable", "urn:xmpp:carbons:2"));
    } catch (e) { cerr = `enable: ${e.message}`; }
    const a2 = makeClient("r2", SERVICE);
    if (!cerr) cerr = await online(a2);
    if (!cerr) {
      await a2.send(xml("presence"));
      await peer.cmd(`send ${A}/r2 carbon check`);
      const c = await a.waitFor((s) => {
        const r = s.is("message") && s.getChild("received", "urn:xmpp:carbons:2");
        const f = r && r.getChild("forwarded", "urn:xmpp:forward:0");
        const inner = f && f.getChild("message");
        return s.attrs.from === A && inner && body(inner) === "carbon check" && inner.attrs.to === `${A}/r2`;
      });
      const got2 = await a2.waitFor((s) => s.is("message") && body(s) === "carbon check");
      cerr = !c ? "no received-carbon on r1" : !got2 ? "r2 did not get the message" : null;
    }
    step("carbons", !cerr, cerr || "");
    try { await a2.stop(); } catch {}
  }

  // sm-resume: destroy r1's socket, the peer writes meanwhile; xmpp.js
  // reconnects (@xmpp/reconnect) and resumes (@xmpp/stream-management).
  {
    const sm = a.streamManagement;
    if (!sm || !sm.enabled) {
      step("sm-resume", false, "stream management not enabled by xmpp.js");
    } else {
      const id = sm.id;
      const resumed = new Promise((res) => { sm.once("resumed", () => res(true)); setTimeout(() => res(false), T * 1000); });
      // TCP: the socket; WebSocket: no closing handshake, as a lost link
      if (WS) a.socket.socket.close(4000); else a.socket.socket.destroy();
      await sleep(300);
      await peer.cmd(`send ${A}/r1 sent while cut`);
      const r = await resumed;
      m = r ? await a.waitFor((s) => s.is("message") && body(s) === "sent while cut") : null;
      step("sm-resume", r && !!m, !r ? "no <resumed/> within 10s" : m ? `resumed ${id}` : "resumed, but the message did not arrive");
    }
  }

  // direct-tls: a third resource over XEP-0368.
  if (WS) {
    step("direct-tls", "n/a", "a WebSocket client has wss:// (its login step)");
  } else {
    const a3 = makeClient("r3", `xmpps://localhost:${E.UXMPPD_TLS_PORT}`);
    let derr = await online(a3);
    if (!derr) {
      await peer.cmd(`send ${A}/r3 over direct tls`);
      m = await a3.waitFor((s) => s.is("message") && body(s) === "over direct tls");
      if (!m) derr = "logged in but no message";
    }
    step("direct-tls", !derr, derr || `${a3.mech}, ${a3.socket && a3.socket.socket ? a3.socket.socket.getProtocol() : "?"}`);
    try { await a3.stop(); } catch {}
  }

  await a.send(xml("presence", { to: `${ROOM}/xjs`, type: "unavailable" }));
  const [ok1, why1] = await peer.cmd(`expect-unavailable ${ROOM}/xjs ${T}`);
  await a.stop();
  const [ok2, why2] = await peer.cmd(`expect-unavailable ${A}/r1 ${T}`);
  step("leave", ok1 && ok2, ok1 && ok2 ? "" : `peer: ${ok1 ? why2 : why1}`);
} catch (e) {
  log("exception", e.stack || e);
  console.log(`# exception: ${e.message}`);
}
await peer.quit();
process.exit(0);
