// tests/interop/clients/xmppjs-ws.js - xmpp.js over WebSocket (RFC 7395):
// the xmppjs row's script with its client on wss://.../xmpp-websocket
// (https_listen) instead of TCP; the reference peer stays on TCP.  Node
// 20 has WebSocket (undici's) behind --experimental-websocket, and
// undici takes our CA from NODE_EXTRA_CA_CERTS, read at start: so this
// re-runs node with both.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const E = process.env;
if (typeof WebSocket === "undefined" || !E.NODE_EXTRA_CA_CERTS) {
  const here = fileURLToPath(new URL("./xmppjs.js", import.meta.url));
  const r = spawnSync(process.execPath, ["--experimental-websocket", "--no-warnings", here], {
    stdio: "inherit",
    env: { ...E, NODE_EXTRA_CA_CERTS: E.UXMPPD_CERT,
      XMPPJS_SERVICE: `wss://localhost:${E.UXMPPD_HTTPS_PORT}/xmpp-websocket` },
  });
  process.exit(r.status === null ? 1 : r.status);
}
