# tests/interop/peerctl.py - drive tests/interop/peer.py from a client
# script written in Python.  Import with sys.path.insert(0, INTEROP_DIR).
#
#   AsyncPeer (asyncio clients: slixmpp, aioxmpp)
#       p = await AsyncPeer.start(jid, password)   # None if it did not log in
#       ok, data = await p.cmd("send a@localhost hi")
#       await p.quit()
#   Peer (blocking; pump() is called while waiting, e.g. to iterate a GLib
#   main context so the client under test keeps running)
#       p = Peer.start(jid, password, pump=None)
#       ok, data = p.cmd("expect-message a@localhost hi 10")
#       p.quit()
#
# cmd() returns (True, data) for "ok [data]" and (False, reason) for
# "fail reason" or when the peer died.  The peer's stderr goes to
# $INTEROP_ARTIFACTS/<name>.peer-<jid>.log when INTEROP_LOG_PREFIX is set,
# else to our stderr.
import asyncio
import os
import select
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PEER = os.path.join(HERE, "peer.py")
PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


def _stderr_for(jid):
    prefix = os.environ.get("INTEROP_LOG_PREFIX")
    if not prefix:
        return None
    return open("%s.peer-%s.log" % (prefix, jid.replace("/", "_")), "ab")


def _parse(line):
    line = line.strip()
    if line == "ok":
        return True, ""
    if line.startswith("ok "):
        return True, line[3:]
    if line.startswith("fail"):
        return False, line[5:]
    return False, "peer said %r" % line


class AsyncPeer:
    def __init__(self, proc):
        self.proc = proc

    @classmethod
    async def start(cls, jid, password, timeout_s=30):
        proc = await asyncio.create_subprocess_exec(
            PY, PEER, jid, password, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=_stderr_for(jid))
        p = cls(proc)
        try:
            line = await asyncio.wait_for(proc.stdout.readline(), timeout_s)
        except asyncio.TimeoutError:
            line = b""
        if line.strip() != b"ready":
            p.kill()
            p.error = line.decode(errors="replace").strip() or "no ready"
            return None
        return p

    async def cmd(self, line, timeout_s=60):
        try:
            self.proc.stdin.write(line.encode() + b"\n")
            await self.proc.stdin.drain()
            out = await asyncio.wait_for(self.proc.stdout.readline(),
                                         timeout_s)
        except (asyncio.TimeoutError, ConnectionError) as e:
            return False, "peer: %r" % e
        if not out:
            return False, "peer exited"
        return _parse(out.decode(errors="replace"))

    async def quit(self):
        if self.proc.returncode is None:
            await self.cmd("quit", 5)
            try:
                await asyncio.wait_for(self.proc.wait(), 5)
            except asyncio.TimeoutError:
                self.kill()

    def kill(self):
        if self.proc.returncode is None:
            self.proc.kill()


class Peer:
    def __init__(self, proc, pump):
        self.proc = proc
        self.pump = pump
        self.buf = b""

    @classmethod
    def start(cls, jid, password, pump=None, timeout_s=30):
        proc = subprocess.Popen([PY, PEER, jid, password],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=_stderr_for(jid))
        p = cls(proc, pump)
        line = p._readline(timeout_s)
        if line is None or line.strip() != "ready":
            p.kill()
            p.error = (line or "no ready").strip()
            return None
        return p

    def _readline(self, timeout_s):
        deadline = time.monotonic() + timeout_s
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buf:
            if time.monotonic() > deadline:
                return None
            if self.pump is not None:
                self.pump()
            r, _, _ = select.select([fd], [], [], 0.02)
            if r:
                chunk = os.read(fd, 4096)
                if not chunk:
                    return None
                self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode(errors="replace")

    def cmd(self, line, timeout_s=60):
        try:
            self.proc.stdin.write(line.encode() + b"\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            return False, "peer exited"
        out = self._readline(timeout_s)
        if out is None:
            return False, "peer: no answer"
        return _parse(out)

    def quit(self):
        if self.proc.poll() is None:
            self.cmd("quit", 5)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
