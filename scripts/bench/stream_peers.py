#!/usr/bin/env python3
"""The other ends of Trail's streams, for scripts/bench/streams.sh (standard library only, loopback only).

  stream_peers.py sse PORT COUNT SECONDS     COUNT live tails of GET /api/v1/audit/stream for SECONDS (bounded);
                                             prints "frames=<total> closed=<streams Trail cut off> connected=<n>"
  stream_peers.py webhook PORT FILE          a webhook receiver answering 204; writes the number of events it got
                                             to FILE after every request; ends on SIGTERM
The key is TRAIL_BENCH_AUTH ("ApiKey …").
"""
import asyncio
import json
import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


async def tail(port: int, auth: str, seconds: float, counts: dict) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET /api/v1/audit/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {auth}\r\n"
                 "Accept: text/event-stream\r\n\r\n".encode())
    await writer.drain()
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    try:
        status = await asyncio.wait_for(reader.readline(), timeout=10)
        if b" 200 " in status:
            counts["connected"] += 1
        while loop.time() < end:
            try:
                line = await asyncio.wait_for(reader.readline(), timeout=max(end - loop.time(), 0.01))
            except asyncio.TimeoutError:
                break
            if not line:
                break
            # Chunk-size lines and frames' other lines are skipped: an event is counted by its id line.
            if line.startswith(b"id: "):
                counts["frames"] += 1
            elif line.startswith(b"event: close"):
                counts["closed"] += 1
                break
    finally:
        writer.close()


async def tails(port: int, count: int, seconds: float) -> None:
    auth = os.environ["TRAIL_BENCH_AUTH"]
    counts = {"frames": 0, "closed": 0, "connected": 0}
    await asyncio.gather(*(tail(port, auth, seconds, counts) for _ in range(count)))
    print(f"frames={counts['frames']} closed={counts['closed']} connected={counts['connected']}", flush=True)


def webhook(port: int, file: str) -> None:
    received = [0]

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received[0] += len(json.loads(body))
            with open(file + ".tmp", "w") as out:
                out.write(str(received[0]))
            os.replace(file + ".tmp", file)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Receiver)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    if sys.argv[1] == "sse":
        asyncio.run(tails(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])))
    elif sys.argv[1] == "webhook":
        webhook(int(sys.argv[2]), sys.argv[3])
    else:
        sys.exit(__doc__)
