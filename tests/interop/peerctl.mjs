// tests/interop/peerctl.mjs - drive tests/interop/peer.py from a client
// script on node (the JavaScript twin of peerctl.py):
//   const peer = startPeer(jid, password);
//   await peer.ready;                       // true once it logged in
//   const [ok, data] = await peer.cmd("send a@localhost hi");
//   await peer.quit();
// The peer's stderr goes to $INTEROP_LOG_PREFIX.peer-<jid>.log.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import fs from "node:fs";

export function startPeer(jid, password) {
  const E = process.env;
  const err = fs.openSync(`${E.INTEROP_LOG_PREFIX}.peer-${jid.replace("/", "_")}.log`, "a");
  const p = spawn("/usr/bin/python3", [`${E.INTEROP_DIR}/peer.py`, jid, password],
    { stdio: ["pipe", "pipe", err] });
  const lines = [];
  let waiter = null;
  createInterface({ input: p.stdout }).on("line", (l) => {
    if (waiter) { const w = waiter; waiter = null; w(l); } else lines.push(l);
  });
  p.on("exit", () => { if (waiter) { const w = waiter; waiter = null; w("fail peer exited"); } });
  const next = (ms = 60000) => lines.length ? Promise.resolve(lines.shift()) :
    new Promise((res) => {
      waiter = res;
      setTimeout(() => { if (waiter === res) { waiter = null; res("fail no answer"); } }, ms);
    });
  return {
    ready: next(30000).then((l) => l === "ready"),
    async cmd(line) {
      p.stdin.write(line + "\n");
      const l = await next();
      return l === "ok" || l.startsWith("ok ") ? [true, l.slice(3)] : [false, l.replace(/^fail /, "")];
    },
    async quit() { try { p.stdin.write("quit\n"); await next(3000); } catch {} p.kill(); },
  };
}
