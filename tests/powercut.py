#!/usr/bin/env python3
"""powercut.py - what a power cut leaves of the data directory, at
thousands of moments of a real run, and whether uxmppd starts on each with
every acknowledged change.

Record: adduser and then the server run with tests/powercut_shim.so
preloaded (every open, write, ftruncate, fsync/fdatasync, rename, unlink,
mkdir under the directory goes to a trace, with the data written) while
tests/crash_driver changes the store and the room archive, appending its
"sent"/"ack" lines to the same trace (-m).  A kill -9 ends the server's
run; then an offline store-compact (traced too) and a second server run
with a second driver run, ended by kill -9 again.

Check, at each of POINTS crash points N (seeded, so reproducible):
materialize the directory as a power cut just after trace event N could
leave it, on a file system that keeps only what was made durable:
  - a file keeps what the last fsync/fdatasync of it held; what was written
    (or truncated) since is, per file and at random: all lost, all kept, a
    prefix of it with the next write torn at a random byte, or a random
    subset of its 4 KiB pages (unwritten pages read as zeros, the size
    anywhere between the synced and the last one);
  - a directory keeps the entries it had at its last fsync; the entry
    changes made since (creations, renames, unlinks, mkdirs) are replayed
    up to a random number of them, in order (a rename inside one directory
    is one change);
then run `uxmppd store-check` (must exit 0), start the server on it (it
must come up), run the crash driver for 6 more changes (the room's
archive is repaired when first opened, and every append must line up
with what the repairs kept), stop it (whatever the restart cut or
rewrote, rather than appended to, must be named in its log), run
store-check again (now no torn store record may remain) and compare
store-dump and the room's archive-dump with the journal up to N plus the
new changes: each key holds its last acknowledged value or one that was
sent after it; nothing no request explains.

usage: powercut.py [--seed N] [--points N] [--ops N] [--keep]
                   [--trace DIR --point N]
Environment: UXMPPD, CRASH_DRIVER, POWERCUT_SHIM (default paths under the
build directory).  Prints one FAIL line per bad point, with the command that checks that
point alone again on the same trace (a run with a failure keeps its
directory: the trace, and with --point the materialized directory and the
server's log), then "N passed, N failed".
"""
import argparse
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

PAGE = 4096
OWNER = "owner@localhost"
ROOM = "crash@conference.localhost"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("BUILD", "build")
UXMPPD = os.environ.get("UXMPPD", os.path.join(ROOT, "uxmppd"))
DRIVER = os.environ.get("CRASH_DRIVER",
                        os.path.join(ROOT, BUILD, "crash_driver"))
SHIM = os.environ.get("POWERCUT_SHIM",
                      os.path.join(ROOT, BUILD, "powercut_shim.so"))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def write_conf(path, data_dir, port, log):
    with open(path, "w") as f:
        f.write("domain = localhost\nmuc_domain = conference.localhost\n"
                "data_dir = %s\nc2s_listen = 127.0.0.1:%d\nlog_file = %s\n"
                "store_sync = always\nallow_registration = yes\n"
                % (data_dir, port, log))


def wait_port(port, proc, secs):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        if proc.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return True
        except OSError:
            time.sleep(0.01)
    return False


# ---- record ----

def record(tmp, ops, seed):
    root = os.path.realpath(os.path.join(tmp, "root"))
    os.makedirs(root)
    trace = os.path.join(tmp, "trace")
    open(trace, "wb").close()
    port = free_port()
    conf = os.path.join(tmp, "record.conf")
    write_conf(conf, os.path.join(root, "data"), port,
               os.path.join(tmp, "record.log"))
    env = dict(os.environ, LD_PRELOAD=SHIM, POWERCUT_ROOT=root,
               POWERCUT_TRACE=trace)
    # an ASan build (make asan) wants its runtime first; the shim only
    # wraps libc calls, so the order does not matter here
    env["ASAN_OPTIONS"] = (os.environ.get("ASAN_OPTIONS", "") +
                           ":verify_asan_link_order=0").lstrip(":")
    with open(trace, "ab") as f:
        f.write(("0 M sent acct %s - yes\n" % OWNER).encode())
    r = subprocess.run([UXMPPD, "-c", conf, "adduser", OWNER],
                       input=b"ownerpw\n", env=env, capture_output=True)
    if r.returncode != 0:
        sys.exit("powercut: adduser failed: %r" % r.stderr[-300:])
    with open(trace, "ab") as f:
        f.write(("0 M ack acct %s - yes\n" % OWNER).encode())
    err = open(os.path.join(tmp, "record.stderr"), "wb")
    # two runs of the driver (tags p and q), with an offline compaction
    # between them: its temp file, fsync, rename and directory fsync are
    # in the trace too
    for phase, tag in enumerate(("p", "q")):
        if phase > 0:
            r = subprocess.run([UXMPPD, "-c", conf, "store-compact"],
                               env=env, capture_output=True)
            if r.returncode != 0:
                sys.exit("powercut: store-compact failed: %r"
                         % r.stdout[-300:])
        srv = subprocess.Popen([UXMPPD, "-c", conf], env=env, stdout=err,
                               stderr=err)
        try:
            if not wait_port(port, srv, 10):
                sys.exit("powercut: the recording server did not start")
            d = subprocess.run([DRIVER, "-m", trace, "-n",
                                str((ops + 1) // 2), "-s",
                                str((seed or 1) + phase), "-t", tag,
                                "127.0.0.1:%d" % port, OWNER, "ownerpw",
                                ROOM], capture_output=True, timeout=300)
            if d.returncode != 0:
                sys.exit("powercut: crash_driver exit %d: %r"
                         % (d.returncode, d.stderr[-300:]))
        finally:
            srv.send_signal(signal.SIGKILL)
            srv.wait()
    err.close()
    text = open(os.path.join(tmp, "record.stderr"), errors="replace").read()
    if re.search(r"Sanitizer|runtime error", text):
        sys.exit("powercut: sanitizer report from the recording server")
    return root, trace


def read_trace(path):
    """Events: (pid, op, args, data)."""
    ev = []
    with open(path, "rb") as f:
        while True:
            line = f.readline()
            if not line:
                break
            if not line.endswith(b"\n"):
                sys.exit("powercut: trace ends in a partial line")
            parts = line[:-1].decode().split(" ", 2)
            pid, op = parts[0], parts[1]
            rest = parts[2] if len(parts) > 2 else ""
            data = b""
            if op == "W":
                n = int(rest.split(" ")[2])
                data = f.read(n)
                if len(data) != n:
                    sys.exit("powercut: trace ends inside a write")
            ev.append((pid, op, rest, data))
    return ev


# ---- the file system model ----

class Inode:
    def __init__(self, is_dir):
        self.is_dir = is_dir
        # files: contents; ops since the last sync, ("w", off, data) or
        # ("t", size)
        self.durable = bytearray()
        self.cur = bytearray()
        self.ops = []
        # directories: name -> inode
        self.dur_ents = {}
        self.cur_ents = {}
        self.changes = []   # each a list of (name, inode or None)


def apply_op(buf, op):
    if op[0] == "w":
        off, data = op[1], op[2]
        if len(buf) < off:
            buf.extend(bytes(off - len(buf)))
        buf[off:off + len(data)] = data
    else:
        del buf[op[1]:]
        if len(buf) < op[1]:
            buf.extend(bytes(op[1] - len(buf)))


class Model:
    def __init__(self, root):
        self.root = root
        self.top = Inode(True)
        self.fds = {}
        self.markers = []

    def lookup(self, path):
        """(parent inode, name, inode or None) of an absolute path."""
        rel = os.path.relpath(path, self.root)
        if rel == ".":
            return None, "", self.top
        comps = rel.split("/")
        d = self.top
        for c in comps[:-1]:
            d = d.cur_ents.get(c)
            if d is None or not d.is_dir:
                raise KeyError(path)
        return d, comps[-1], d.cur_ents.get(comps[-1])

    def change(self, d, items):
        for name, ino in items:
            if ino is None:
                d.cur_ents.pop(name, None)
            else:
                d.cur_ents[name] = ino
        d.changes.append(items)

    def event(self, ev):
        pid, op, rest, data = ev
        if op == "M" and pid == "0":
            self.markers.append(rest)
            return
        if op == "O":
            fd, flags, path = rest.split(" ", 2)
            parent, name, ino = self.lookup(path)
            if ino is None:
                ino = Inode("d" in flags)
                self.change(parent, [(name, ino)])
            if "t" in flags and not ino.is_dir:
                o = ("t", 0)
                apply_op(ino.cur, o)
                ino.ops.append(o)
            self.fds[(pid, int(fd))] = ino
        elif op == "C":
            self.fds.pop((pid, int(rest)), None)
        elif op == "W":
            fd, off, _ = rest.split(" ")
            ino = self.fds[(pid, int(fd))]
            o = ("w", int(off), data)
            apply_op(ino.cur, o)
            ino.ops.append(o)
        elif op == "T":
            fd, size = rest.split(" ")
            ino = self.fds[(pid, int(fd))]
            o = ("t", int(size))
            apply_op(ino.cur, o)
            ino.ops.append(o)
        elif op in ("S", "D"):
            ino = self.fds[(pid, int(rest))]
            if ino.is_dir:
                ino.dur_ents = dict(ino.cur_ents)
                ino.changes = []
            else:
                ino.durable = bytearray(ino.cur)
                ino.ops = []
        elif op == "R":
            old, new = rest.split(" ")
            op_, on, ino = self.lookup(old)
            np_, nn, _ = self.lookup(new)
            if op_ is np_:
                self.change(op_, [(on, None), (nn, ino)])
            else:
                self.change(np_, [(nn, ino)])
                self.change(op_, [(on, None)])
        elif op in ("U", "X"):
            parent, name, _ = self.lookup(rest)
            self.change(parent, [(name, None)])
        elif op == "M":
            parent, name, _ = self.lookup(rest)
            self.change(parent, [(name, Inode(True))])
        else:
            sys.exit("powercut: unknown trace event %r" % op)

    # -- what a power cut leaves --

    def crash_file(self, ino, rng, how):
        if not ino.ops:
            return bytes(ino.durable), "synced"
        mode = rng.random()
        if mode < 0.2:
            return bytes(ino.durable), "unsynced dropped"
        if mode < 0.4:
            return bytes(ino.cur), "unsynced kept"
        if mode < 0.8:
            b = bytearray(ino.durable)
            k = rng.randint(0, len(ino.ops) - 1)
            for o in ino.ops[:k]:
                apply_op(b, o)
            o = ino.ops[k]
            if o[0] == "w":
                cut = rng.randint(0, len(o[2]))
                apply_op(b, ("w", o[1], o[2][:cut]))
                return bytes(b), "%d of %d writes, then %d of %d bytes" % (
                    k, len(ino.ops), cut, len(o[2]))
            return bytes(b), "%d of %d writes" % (k, len(ino.ops))
        # pages: each page that changed is new or old; the size anywhere
        # between the synced one and the last one
        lo, hi = sorted((len(ino.durable), len(ino.cur)))
        size = rng.choice([lo, hi, rng.randint(lo, hi)])
        old = bytes(ino.durable) + bytes(max(0, size - len(ino.durable)))
        new = bytes(ino.cur) + bytes(max(0, size - len(ino.cur)))
        out = bytearray()
        kept = 0
        for p in range(0, size, PAGE):
            a, b = old[p:min(p + PAGE, size)], new[p:min(p + PAGE, size)]
            if a != b and rng.random() < 0.5:
                out += b
                kept += 1
            else:
                out += a
        return bytes(out), "pages: %d changed kept, size %d (%d..%d)" % (
            kept, size, lo, hi)

    def materialize(self, dest, rng, notes):
        done = {}

        def walk(d, path):
            ents = dict(d.dur_ents)
            if d.changes:
                k = rng.randint(0, len(d.changes))
                for items in d.changes[:k]:
                    for name, ino in items:
                        if ino is None:
                            ents.pop(name, None)
                        else:
                            ents[name] = ino
                if k < len(d.changes):
                    notes.append("%s/: %d of %d entry changes" % (
                        os.path.relpath(path, dest), k, len(d.changes)))
            for name, ino in sorted(ents.items()):
                p = os.path.join(path, name)
                if ino.is_dir:
                    os.mkdir(p)
                    walk(ino, p)
                    continue
                if id(ino) not in done:
                    done[id(ino)] = self.crash_file(ino, rng, None)
                data, how = done[id(ino)]
                if how != "synced":
                    notes.append("%s: %s" % (os.path.relpath(p, dest), how))
                with open(p, "wb") as f:
                    f.write(data)
        walk(self.top, dest)


# ---- what the restarted server must hold ----

def dump_state(dump, arc):
    have = {}
    for line in dump.splitlines():
        if line.startswith("#"):
            continue
        f = line.split("\t")
        if len(f) < 3:
            continue
        kind, key, val = f[0], f[1], f[2]
        if kind == "account":
            have[("acct", key, "-")] = "yes"
        elif kind == "muc_aff":
            k = key.split(" ")
            have[("aff", k[0], k[1])] = val.split("\\t")[0]
        elif kind == "ps-item":
            k = key.split(" ")
            v = re.sub(r"^[^>]*>", "", val)
            have[("pep", k[0], k[1])] = re.sub(r"<.*$", "", v)
        elif kind == "muc_room":
            have[("cfg", key, "persistent")] = "1"
            for kv in val.split("\\n"):
                p = kv.split("\\t")
                if len(p) == 2 and p[0] in ("name", "desc"):
                    have[("cfg", key, p[0])] = p[1]
    for m in re.finditer(r"<body>([^<]*)</body>", arc):
        have[("msg", ROOM, m.group(1))] = "yes"
    return have


def check_state(markers, have):
    base, acked, maybe = {}, {}, {}
    for m in markers:
        verb, kind, obj, attr, val = m.split(" ", 4)
        k = (kind, obj, attr)
        if kind == "aff" and val == "none":
            val = "-"
        if verb == "ack":
            base[k] = val
            acked[k] = True
            maybe[k] = []
        else:
            maybe.setdefault(k, []).append(val)
    out = []
    for k, v in sorted(have.items()):
        if k not in base and k not in maybe:
            out.append("unexpected record %s = %s" % (" ".join(k), v))
    for k in sorted(set(base) | set(maybe)):
        v = have.get(k, "-")
        b = base.get(k, "-")
        if v == b or v in maybe.get(k, []):
            continue
        if acked.get(k):
            out.append("lost acknowledged %s = %s, store has %s"
                       % (" ".join(k), b, v))
        else:
            out.append("unexpected %s = %s" % (" ".join(k), v))
    return out


def snapshot(d):
    out = {}
    for dp, _, fs in os.walk(d):
        for f in fs:
            p = os.path.join(dp, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, d)] = fh.read()
    return out


stats = {"after": 0}


def check_point(tmp, model, n, rng, keep_dir=None):
    """Problems at crash point n (the model holds events 1..n)."""
    pt = keep_dir or os.path.join(tmp, "point")
    shutil.rmtree(pt, ignore_errors=True)
    os.makedirs(pt)
    notes = []
    model.materialize(pt, rng, notes)
    data = os.path.join(pt, "data")
    port = free_port()
    conf = os.path.join(tmp, "point.conf")
    log = os.path.join(pt, "server.log")
    write_conf(conf, data, port, log)
    bad = []

    def run(*args):
        return subprocess.run([UXMPPD, "-c", conf] + list(args),
                              capture_output=True, timeout=60)
    c = run("store-check")
    if c.returncode != 0:
        bad.append("store-check before start exit %d: %s" % (
            c.returncode, c.stdout.decode(errors="replace")
            .strip().splitlines()[-1:] +
            c.stderr.decode(errors="replace").strip().splitlines()[:5]))
    before = snapshot(data) if os.path.isdir(data) else {}
    err = open(os.path.join(pt, "server.stderr"), "wb")
    srv = subprocess.Popen([UXMPPD, "-c", conf], stdout=err, stderr=err)
    if not wait_port(port, srv, 10):
        srv.kill()
        srv.wait()
        tail = open(log, errors="replace").read()[-300:] \
            if os.path.exists(log) else ""
        return ["the server did not start: %s" % tail.strip()], notes
    # a few more changes on the repaired files: the room (and so its
    # archive, repaired when opened) and the store must take appends
    # that line up with what the repair kept
    # (once the owner's account was acknowledged: before, it may be lost)
    more, d = [], None
    if "ack acct %s - yes" % OWNER in model.markers:
        d = subprocess.run([DRIVER, "-n", "6", "-s", str(n + 1), "-t",
                            "v%d" % n, "127.0.0.1:%d" % port, OWNER,
                            "ownerpw", ROOM], capture_output=True,
                           timeout=60)
        more = [ln for ln in d.stdout.decode(errors="replace").splitlines()
                if ln.startswith(("sent ", "ack "))]
    if d is not None and (d.returncode != 0 or not more):
        bad.append("crash_driver after the restart exit %d: %s" % (
            d.returncode, d.stderr.decode(errors="replace")
            .strip().splitlines()[-1:]))
    srv.send_signal(signal.SIGTERM)
    try:
        rc = srv.wait(10)
    except subprocess.TimeoutExpired:
        srv.kill()
        rc = srv.wait()
    if rc != 0:
        bad.append("server exit %d after SIGTERM" % rc)
    logtext = open(log, errors="replace").read() \
        if os.path.exists(log) else ""
    errtext = open(os.path.join(pt, "server.stderr"),
                   errors="replace").read()
    if re.search(r"Sanitizer|runtime error", errtext + logtext):
        bad.append("sanitizer report from the server")
    # whatever the restart cut or rewrote (not only appended to) must be
    # named in the log
    after = snapshot(data)
    for name, old in sorted(before.items()):
        # the store's and the archives' files (tls.c regenerates a lost
        # certificate and says so in its own words)
        if name != "store.log" and not name.startswith("archive/"):
            continue
        new = after.get(name)
        if new is not None and new.startswith(old):
            continue
        if os.path.basename(name) not in logtext:
            bad.append("%s cut or rewritten at the restart (%d -> %s "
                       "bytes) with no log line naming it" % (
                           name, len(old),
                           "gone" if new is None else len(new)))
    c = run("store-check")
    text = c.stdout.decode(errors="replace")
    # archives are repaired when first opened, not at start: only the
    # store must be clean now
    if c.returncode != 0 or re.search(r"store\.log.*torn", text):
        bad.append("store-check after the restart: %s" %
                   text.strip().splitlines()[-1:])
    d = run("store-dump")
    a = run("archive-dump", ROOM)
    if d.returncode != 0 or a.returncode != 0:
        bad.append("store-dump %d / archive-dump %d: %s" % (
            d.returncode, a.returncode,
            (d.stderr + a.stderr).decode(errors="replace")[:300]))
    else:
        have = dump_state(d.stdout.decode(errors="replace"),
                          a.stdout.decode(errors="replace"))
        bad += check_state(model.markers + more, have)
    stats["after"] += sum(1 for ln in more if ln.startswith("ack "))
    return bad, notes


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--points", type=int, default=300)
    ap.add_argument("--ops", type=int, default=150)
    ap.add_argument("--point", type=int, help="check only this event")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--expect-compactions", action="store_true",
                    help="fail unless the server compacted the store "
                    "while recording (a build with a small "
                    "STORE_COMPACT_MIN_DEAD)")
    ap.add_argument("--trace", help="a kept run's directory: check its "
                    "trace again instead of recording one")
    o = ap.parse_args()
    for f in (UXMPPD, DRIVER, SHIM):
        if not os.path.exists(f):
            print("FAIL setup: %s missing (make %s)" % (f, f))
            print("0 passed, 1 failed")
            return 1
    tmp = tempfile.mkdtemp(prefix="uxmppd-powercut.")
    failed_any = [False]
    try:
        if o.trace:
            root = os.path.realpath(os.path.join(o.trace, "root"))
            trace = os.path.join(o.trace, "trace")
        else:
            root, trace = record(tmp, o.ops, o.seed)
        ev = read_trace(trace)
        renames = sum(1 for e in ev if e[1] == "R" and e[0] != "0" and
                      e[2].startswith(os.path.join(root, "data",
                                                   "store.log.tmp")))
        if o.expect_compactions and renames < 3:
            print("FAIL setup: %d compactions in the trace; expected the "
                  "server's own (STORE_COMPACT_MIN_DEAD)" % renames)
            print("0 passed, 1 failed")
            return 1
        acks = sum(1 for e in ev if e[1] == "M" and e[0] == "0" and
                   e[2].startswith("ack "))
        rng = random.Random(o.seed)
        if o.point is not None:
            points = [o.point]
        else:
            points = sorted(set(rng.randrange(len(ev) + 1)
                                for _ in range(o.points)))
        print("powercut: seed %d, %d trace events, %d acknowledged changes,"
              " %d store.log renames, %d crash points" % (
                  o.seed, len(ev), acks, renames, len(points)))
        model = Model(root)
        passed = failed = 0
        done = 0
        for i, n in enumerate(points):
            while done < n:
                model.event(ev[done])
                done += 1
            prng = random.Random("%d/%d" % (o.seed, n))
            keep_dir = os.path.join(tmp, "point-%d" % n) \
                if o.point is not None else None
            bad, notes = check_point(tmp, model, n, prng, keep_dir)
            if bad:
                failed += 1
                print("FAIL point %d (%s): %s" % (n, "; ".join(notes),
                                                  "; ".join(bad[:4])))
                print("  repeat: %s --seed %d --trace %s --point %d --keep"
                      % (sys.argv[0], o.seed, o.trace or tmp, n))
                failed_any[0] = True
            else:
                passed += 1
        print("powercut: %d points, %d passed; %d changes acknowledged "
              "after the restarts" % (len(points), passed, stats["after"]))
        print("%d passed, %d failed" % (passed, failed))
        return 1 if failed else 0
    finally:
        if o.keep or (failed_any[0] and not o.trace):
            print("powercut: kept %s" % tmp, file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
