#!/usr/bin/python3
# tests/interop/desktop/tcp-forward.py LISTEN_PORT TARGET_PORT - forward
# 127.0.0.1:LISTEN_PORT to 127.0.0.1:TARGET_PORT (bytes unchanged, TLS
# passes through).  For clients that cannot be told a port: Dino 0.4
# connects to the domain's SRV records or port 5222 only.  Prints
# "listening" once bound; exits 1 when the port is taken.
import asyncio
import sys

listen, target = int(sys.argv[1]), int(sys.argv[2])


async def pipe(r, w):
    try:
        while data := await r.read(65536):
            w.write(data)
            await w.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        w.close()


async def handle(cr, cw):
    try:
        sr, sw = await asyncio.open_connection("127.0.0.1", target)
    except OSError:
        cw.close()
        return
    await asyncio.gather(pipe(cr, sw), pipe(sr, cw))


async def main():
    try:
        srv = await asyncio.start_server(handle, "127.0.0.1", listen)
    except OSError as e:
        print("fail %s" % e, flush=True)
        return 1
    print("listening", flush=True)
    async with srv:
        await srv.serve_forever()

sys.exit(asyncio.run(main()))
