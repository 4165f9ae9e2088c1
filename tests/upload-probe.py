#!/usr/bin/env python3
"""tests/upload-probe.py C2S_PORT COMMAND ARGS - the XMPP and raw-socket
parts of tests/upload-test.sh (curl does the rest).  Standard library only.

  slot USER SIZE NAME TYPE   log in as USER@localhost (password
                             "password", PLAIN over loopback), ask
                             upload.localhost for a slot (XEP-0363 §4) and
                             print three lines: the PUT URL, the GET URL and
                             the Authorization header value; or "error
                             CONDITION" and exit 1.
  hold HTTP_PORT PUT_URL AUTH SIZE
                             start that PUT, send half of its body, print
                             "holding" and keep the connection open until
                             killed (a PUT under way, for the 503 check).
  pipelined HTTP_PORT PATH [tls]
                             a HEAD and two GETs of PATH in one write on one
                             keep-alive connection: answered in order, the
                             HEAD with no body, the GETs with the whole file
                             (a streamed body holds back the next request);
                             prints each status and body size.  With tls,
                             over TLS (certificate not checked): requests
                             mbedTLS has decrypted but not handed over when
                             input pauses must still be answered.
"""
import base64
import re
import socket
import ssl
import sys
import time
import urllib.parse

HOST = "127.0.0.1"


def fail(why):
    sys.stderr.write(why + "\n")
    sys.exit(1)


def xmpp_login(port, user):
    s = socket.create_connection((HOST, port), timeout=10)
    buf = [b""]

    def until(pat):
        while not re.search(pat, buf[0], re.S):
            d = s.recv(65536)
            if not d:
                fail("closed waiting for %r: %r" % (pat, buf[0]))
            buf[0] += d
        m = re.search(pat, buf[0], re.S)
        buf[0] = buf[0][m.end():]
        return m
    hdr = (b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
           b"xmlns:stream='http://etherx.jabber.org/streams' "
           b"to='localhost' version='1.0'>")
    s.sendall(hdr)
    until(rb"</stream:features>")
    cred = base64.b64encode(b"\0" + user.encode() + b"\0password")
    s.sendall(b"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
              b"mechanism='PLAIN'>%s</auth>" % cred)
    until(rb"<success")
    s.sendall(hdr)
    until(rb"</stream:features>")
    s.sendall(b"<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:"
              b"ns:xmpp-bind'><resource>probe</resource></bind></iq>")
    until(rb"</iq>")
    return s, until


def unescape(v):
    return (v.replace("&apos;", "'").replace("&quot;", '"')
            .replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))


def esc(v):
    return (v.replace("&", "&amp;").replace("<", "&lt;")
            .replace("'", "&apos;"))


def cmd_slot(port, user, size, name, ctype):
    s, until = xmpp_login(port, user)
    s.sendall(("<iq type='get' id='slot1' to='upload.localhost'>"
               "<request xmlns='urn:xmpp:http:upload:0' filename='%s' "
               "size='%s' content-type='%s'/></iq>"
               % (esc(name), size, esc(ctype))).encode())
    m = until(rb"<iq[^>]*id='slot1'.*?</iq>")
    iq = m.group(0).decode()
    if "type='error'" in iq:
        c = re.search(r"<([a-z-]+) xmlns='urn:ietf:params:xml:ns:"
                      r"xmpp-stanzas'", iq)
        print("error %s" % (c.group(1) if c else "?"))
        sys.exit(1)
    put = re.search(r"<put url='([^']*)'", iq)
    get = re.search(r"<get url='([^']*)'", iq)
    auth = re.search(r"<header name='Authorization'>([^<]*)</header>", iq)
    if not (put and get and auth):
        fail("no slot in %r" % iq)
    print(unescape(put.group(1)))
    print(unescape(get.group(1)))
    print(unescape(auth.group(1)))


def cmd_hold(hport, url, auth, size):
    size = int(size)
    path = urllib.parse.urlsplit(url).path
    s = socket.create_connection((HOST, hport), timeout=10)
    s.sendall(("PUT %s HTTP/1.1\r\nHost: localhost\r\nAuthorization: %s\r\n"
               "Content-Type: application/octet-stream\r\n"
               "Content-Length: %d\r\n\r\n" % (path, auth, size)).encode())
    s.sendall(b"x" * (size // 2))
    print("holding", flush=True)
    time.sleep(120)


def read_response(s, buf, bodiless=False):
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            fail("closed before a response head: %r" % buf[:200])
        buf += d
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    hdrs = dict((k.strip().lower(), v.strip()) for k, v in
                (l.split(":", 1) for l in lines[1:]))
    n = 0 if bodiless else int(hdrs.get("content-length", "0"))
    while len(rest) < n:
        d = s.recv(1 << 20)
        if not d:
            fail("closed inside a body (%d of %d)" % (len(rest), n))
        rest += d
    return int(lines[0].split()[1]), rest[:n], rest[n:]


def cmd_pipelined(hport, path, tls=None):
    s = socket.create_connection((HOST, hport), timeout=10)
    if tls == "tls":
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        s = ctx.wrap_socket(s, server_hostname="localhost")
    req = " " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n"
    s.sendall(("HEAD" + req + "GET" + req + "GET" + req).encode())
    buf = b""
    for head in (True, False, False):
        st, body, buf = read_response(s, buf, head)
        print(st, len(body))
    s.settimeout(0.5)
    try:
        extra = s.recv(100)
    except socket.timeout:
        extra = b""
    if extra:
        fail("bytes after the last answer: %r" % extra)


cmd, args = sys.argv[2], sys.argv[3:]
if cmd == "slot":
    cmd_slot(int(sys.argv[1]), *args)
elif cmd == "hold":
    cmd_hold(int(args[0]), *args[1:])
elif cmd == "pipelined":
    cmd_pipelined(int(args[0]), *args[1:])
else:
    fail("unknown command %s" % cmd)
