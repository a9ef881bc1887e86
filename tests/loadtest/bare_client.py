"""A bare asyncio-socket client for the scripted server: no HTTP library, no parsing beyond
finding the first event. What it measures is what the machine itself adds (loopback, waking
both processes), the reference the load-test client is held to.

    python -m tests.loadtest.bare_client PORT N [MAX_TOKENS]   # prints the TTFT p50 (s)
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time


async def ttfts(port: int, n: int, max_tokens: int = 2) -> list[float]:
    r, w = await asyncio.open_connection("127.0.0.1", port)
    out = []
    for _ in range(n):
        body = json.dumps({"model": "m", "prompt": "a b", "max_tokens": max_tokens,
                           "stream": True}).encode()
        t = time.perf_counter()
        w.write(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n" % len(body) + body)
        await r.readuntil(b"\r\n\r\n")
        await r.readuntil(b"data: {")
        out.append(time.perf_counter() - t)
        await r.readuntil(b"0\r\n\r\n")
    w.close()
    return out


if __name__ == "__main__":
    port, n = int(sys.argv[1]), int(sys.argv[2])
    mt = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    print(statistics.median(asyncio.run(ttfts(port, n, mt))))
