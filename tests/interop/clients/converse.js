// tests/interop/clients/converse.js - Converse.js (npm converse.js) in a
// real browser: headless Chromium (Debian's chromium, driven by npm
// playwright-core) loads a local page that runs Converse.js against
// wss://localhost:PORT/xmpp-websocket (RFC 7395, https_listen); peer.py on
// TCP is the native client on the other side.  Messages are typed into
// Converse's own text areas and read back from what it shows; the roster
// and room joins go through its API, as its buttons would.  A screenshot
// of the page ends up in $INTEROP_LOG_PREFIX.png.  See ../README.md.
import { createServer } from "node:http";
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";

import { startPeer } from "../peerctl.mjs";

const E = process.env;
const CHROMIUM = E.CHROMIUM || "/usr/bin/chromium";
const require = createRequire(import.meta.url);
let playwright, dist;
try {
  playwright = await import("playwright-core");
  dist = path.dirname(require.resolve("converse.js/dist/converse.min.js"));
} catch (e) {
  console.log("skip converse.js or playwright-core not installed (npm ci in tests/interop)");
  process.exit(0);
}
if (!fs.existsSync(CHROMIUM)) {
  console.log(`skip ${CHROMIUM} not installed (apt-get install chromium)`);
  process.exit(0);
}

const A = E.INTEROP_JID_A, B = E.INTEROP_JID_B, PW = E.INTEROP_PASSWORD;
const ROOM = E.INTEROP_ROOM, T = 15;
const NICK = "conv";
const log = (...a) => console.error(new Date().toISOString(), ...a);
const step = (name, ok, why = "") =>
  console.log(`step ${name} ${typeof ok === "string" ? ok : ok ? "ok" : "FAIL"} ${why}`.trimEnd());

// The page: Converse.js from node_modules, and a plugin that hands the
// test its _converse object and the events it waits for.
const page_html = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>uxmppd interop: Converse.js</title>
<link rel="stylesheet" href="/dist/converse.min.css"></head>
<body class="converse-fullscreen"><script type="module">
import converse from "/dist/converse.min.js";
converse.plugins.add("uxmppd-test", {
  initialize() {
    const c = this._converse;
    window.__c = c;
    window.__events = [];
    c.api.listen.on("connected", () => window.__events.push("connected"));
    c.api.listen.on("disconnected", () => window.__events.push("disconnected"));
  },
});
converse.initialize({
  websocket_url: "wss://localhost:${E.UXMPPD_HTTPS_PORT}/xmpp-websocket",
  discover_connection_methods: false,
  jid: "${A}/converse",
  password: "${PW}",
  auto_login: true,
  view_mode: "fullscreen",
  whitelisted_plugins: ["uxmppd-test"],
  allow_contact_requests: true,
  auto_subscribe: true,
  play_sounds: false,
  show_desktop_notifications: false,
  clear_cache_on_logout: true,
  persistent_store: "sessionStorage",
  loglevel: "debug",
});
</script></body></html>`;

function serve() {
  const srv = createServer((req, res) => {
    const url = new URL(req.url, "http://127.0.0.1");
    if (url.pathname === "/" || url.pathname === "/index.html") {
      res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
      res.end(page_html);
      return;
    }
    const rel = path.normalize(decodeURIComponent(url.pathname)).replace(/^\/dist\//, "");
    const file = path.join(dist, rel);
    if (!url.pathname.startsWith("/dist/") || !file.startsWith(dist) || !fs.existsSync(file) ||
        fs.statSync(file).isDirectory()) {
      res.writeHead(404);
      res.end();
      return;
    }
    const types = { ".js": "text/javascript", ".css": "text/css", ".json": "application/json",
      ".wasm": "application/wasm", ".svg": "image/svg+xml", ".png": "image/png" };
    res.writeHead(200, { "Content-Type": types[path.extname(file)] || "application/octet-stream" });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((res) => srv.listen(Number(E.UXMPPD_WEB_PORT), "127.0.0.1", () => res(srv)));
}

const peer = startPeer(`${B}/peer`, PW);
const web = await serve();
const browser = await playwright.chromium.launch({
  executablePath: CHROMIUM, headless: true,
  // the server's certificate is the run's self-signed one
  args: ["--ignore-certificate-errors", "--no-sandbox", "--disable-gpu"],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
const pageErrors = [];
page.on("console", (m) => {
  log("console", m.type(), m.text());
  // Converse logs a refused bookmark publish (XEP-0402) this way
  if (m.type() === "error" && /bookmarks/i.test(m.text())) pageErrors.push(m.text());
});
page.on("pageerror", (e) => log("pageerror", e.message));
const until = async (fn, arg, s = T) => {
  try {
    await page.waitForFunction(fn, arg, { timeout: s * 1000, polling: 100 });
    return true;
  } catch (e) {
    log("wait failed:", e.message.split("\n")[0]);
    return false;
  }
};
// Type a line into the text area inside the element matching scope, as a
// user does, and press Enter.
async function typeInto(scope, text) {
  const area = page.locator(`${scope} textarea.chat-textarea`).first();
  await area.waitFor({ timeout: T * 1000 });
  await area.click();
  await area.fill(text);
  await area.press("Enter");
}
const shown = (scope, text) => until(([s, t]) =>
  [...document.querySelectorAll(`${s} .chat-msg__text`)].some((e) => e.textContent.includes(t)),
[scope, text]);

try {
  await page.goto(`http://localhost:${E.UXMPPD_WEB_PORT}/`);
  const connected = await until(() => window.__events && window.__events.includes("connected"), null, 30);
  const peerOk = await peer.ready;
  const transport = connected ? await page.evaluate(() => {
    const conn = window.__c.api.connection.get();
    return `${conn.service || "?"}${conn._proto && conn._proto.socket ? "" : ""}`;
  }) : "";
  step("login", connected && peerOk, !connected ? "Converse did not connect" :
    !peerOk ? "peer did not log in" : `over ${transport}`);
  if (!connected || !peerOk) throw new Error("no login");

  // roster: Converse adds the peer (its "Add a contact" form calls this),
  // the peer approves and asks back, Converse approves (auto_subscribe).
  await peer.cmd("approve-all");
  await page.evaluate((b) => window.__c.api.contacts.add({ jid: b, nickname: "peer" }), B);
  const [okSub, whySub] = await peer.cmd(`expect-subscribed ${A} ${T}`);
  const both = await until((b) => {
    const c = window.__c.state.roster && window.__c.state.roster.get(b);
    return c && c.get("subscription") === "both";
  }, B);
  step("roster", okSub && both, !okSub ? `peer: ${whySub}` : both ? "subscription=both" :
    "Converse's roster item is not subscription=both");

  const [okP, whyP] = await peer.cmd(`expect-presence ${A}/converse ${T}`);
  const online = await until((b) => {
    const c = window.__c.state.roster && window.__c.state.roster.get(b);
    return c && c.getStatus() === "online";
  }, B);
  step("presence", okP && online, !okP ? `peer: ${whyP}` : online ? "" : "Converse does not show the peer online");

  await page.evaluate((b) => window.__c.api.chats.open(b), B);
  const chat = `converse-chat[jid="${B}"]`;
  await typeInto(chat, "hello from converse");
  let [ok, why] = await peer.cmd(`expect-message ${A} hello from converse ${T}`);
  step("msg-out", ok, ok ? "typed into the chat box" : why);

  await peer.cmd(`send ${A} hello to converse`);
  ok = await shown(chat, "hello to converse");
  step("msg-in", ok, ok ? "shown in the chat box" : "not shown");

  [ok, why] = await peer.cmd(`join ${ROOM} peer`);
  // force: shown in front, as when its entry in the rooms list is clicked
  await page.evaluate(([r, n]) => window.__c.api.rooms.open(r, { nick: n }, true), [ROOM, NICK]);
  const [okJ, whyJ] = await peer.cmd(`expect-presence ${ROOM}/${NICK} ${T}`);
  const entered = await until((r) => {
    const m = window.__c.state.chatboxes && window.__c.state.chatboxes.get(r);
    return m && m.isEntered && m.isEntered();
  }, ROOM);
  // Converse bookmarks a room it joins (XEP-0402, autojoin): wait for it
  const marked = await until((r) => {
    const b = window.__c.state.bookmarks;
    return b && b.get(r);
  }, ROOM);
  await new Promise((r) => setTimeout(r, 500));	// its publish's answer
  step("muc-join", ok && okJ && entered && marked && !pageErrors.length,
    !ok ? `peer: ${why}` : !okJ ? `peer: ${whyJ}` : !entered ? "Converse did not enter the room" :
    !marked ? "no bookmark made" : pageErrors.length ? `bookmark refused: ${pageErrors[0]}` :
    "entered, bookmarked (XEP-0402)");

  const room = `converse-muc[jid="${ROOM}"]`;
  await typeInto(room, "gc from converse");
  [ok, why] = await peer.cmd(`expect-groupchat ${ROOM} ${NICK} gc from converse ${T}`);
  step("groupchat-out", ok, ok ? "" : why);

  await peer.cmd(`groupchat ${ROOM} gc to converse`);
  ok = await shown(room, "gc to converse");
  step("groupchat-in", ok, ok ? "shown in the room" : "not shown");
  await page.screenshot({ path: `${E.INTEROP_LOG_PREFIX}.png` });

  step("muc-pm", "n/a", "not driven in the browser row");
  step("carbons", "n/a", "one browser session");
  step("sm-resume", "n/a", "not driven in the browser row");
  step("direct-tls", "n/a", "a WebSocket client has wss:// (its login step)");

  await page.evaluate(() => window.__c.api.user.logout());
  const [ok2, why2] = await peer.cmd(`expect-unavailable ${A}/converse ${T}`);
  step("leave", ok2, ok2 ? "logged out" : `peer: ${why2}`);
} catch (e) {
  log("exception", e.stack || e);
  console.log(`# exception: ${e.message}`);
  try { await page.screenshot({ path: `${E.INTEROP_LOG_PREFIX}.png` }); } catch {}
}
await browser.close();
web.close();
await peer.quit();
process.exit(0);
