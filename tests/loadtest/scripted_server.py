"""A tiny OpenAI-compatible streaming server with known timing, for the load-test tests.

    python -m tests.loadtest.scripted_server --ttft-ms 80 --itl-ms 15 [--status 500]
        [--cut-after 3] [--hang] [--no-usage] [--refuse-ignore-eos] [--require-key K] [--ragged]

Binds 127.0.0.1 on a free port and prints ``PORT <n>`` on its first line. Each request to
``/v1/completions`` or ``/v1/chat/completions`` streams ``max_tokens`` chunks: the first
``ttft`` after the request's body has arrived, the next every ``itl`` (each chunk due at an
absolute time, so sleeping late once does not shift the rest), then a usage event and
``[DONE]``. ``--ragged`` ends lines with CRLF and sends each text event in two writes 1 ms
apart, split inside its JSON (a client must join lines across reads). ``--log FILE``
appends, per request, when the chunks actually left (the truth the client's measurements are
held to, since a busy machine wakes the server late).
Plain asyncio streams: HTTP/1.1, keep-alive, chunked transfer encoding."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def _event(obj: object, eol: bytes = b"\n") -> bytes:
    return _chunk(b"data: " + (obj if isinstance(obj, bytes) else json.dumps(obj).encode())
                  + eol + eol)


async def _ragged(writer: asyncio.StreamWriter, obj: object) -> None:
    """One event in two chunked writes 1 ms apart, cut in the middle of its JSON."""
    line = b"data: " + json.dumps(obj).encode() + b"\r\n\r\n"
    half = len(line) // 2
    writer.write(_chunk(line[:half]))
    await writer.drain()
    await asyncio.sleep(0.001)
    writer.write(_chunk(line[half:]))


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 cfg: argparse.Namespace) -> None:
    loop = asyncio.get_running_loop()
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            path = lines[0].split(" ")[1]
            length = 0
            auth = ""
            for h in lines[1:]:
                if h.lower().startswith("content-length:"):
                    length = int(h.split(":", 1)[1])
                elif h.lower().startswith("authorization:"):
                    auth = h.split(":", 1)[1].strip()
            body = json.loads(await reader.readexactly(length)) if length else {}
            t_in = loop.time()
            if cfg.require_key and auth != f"Bearer {cfg.require_key}":
                code = 401
            elif cfg.status or (cfg.refuse_ignore_eos and "ignore_eos" in body):
                code = cfg.status or 400
            else:
                code = 0
            if code:
                msg = json.dumps({"error": {"message": f"scripted failure {code}"}}).encode()
                writer.write(f"HTTP/1.1 {code} Error\r\nContent-Type: application/json\r\n"
                             f"Content-Length: {len(msg)}\r\n\r\n".encode() + msg)
                await writer.drain()
                continue
            if cfg.hang:
                await asyncio.sleep(3600)
            chat = path.endswith("/chat/completions")
            # the object type real servers send (aiperf ignores events without it)
            kind = "chat.completion.chunk" if chat else "text_completion"
            n = int(body.get("max_tokens", 16))
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                         b"Transfer-Encoding: chunked\r\n\r\n")
            await writer.drain()
            emitted = []
            eol = b"\r\n" if cfg.ragged else b"\n"
            for k in range(n):
                due = t_in + cfg.ttft_ms / 1e3 + k * cfg.itl_ms / 1e3
                delay = due - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                if cfg.cut_after is not None and k == cfg.cut_after:
                    writer.transport.abort()  # the stream ends mid-answer, no final chunk
                    return
                choice = ({"index": 0, "delta": {"content": f" t{k}"}} if chat
                          else {"index": 0, "text": f" t{k}"})
                if k == n - 1:
                    choice["finish_reason"] = "length"
                emitted.append(loop.time() - t_in)
                ev = {"id": "x", "object": kind, "choices": [choice]}
                if cfg.ragged:
                    await _ragged(writer, ev)
                else:
                    writer.write(_event(ev))
                await writer.drain()
            if not cfg.no_usage and (body.get("stream_options") or {}).get("include_usage"):
                writer.write(_event({"id": "x", "object": kind, "choices": [], "usage": {
                    "prompt_tokens": len(str(body.get("prompt") or body.get("messages")).split()),
                    "completion_tokens": n}}, eol))
            writer.write(_event(b"[DONE]", eol) + b"0\r\n\r\n")
            await writer.drain()
            if cfg.log:
                with open(cfg.log, "a", encoding="utf-8") as fh:
                    fh.write(json.dumps({"ttft_s": emitted[0], "itl_s": [
                        b - a for a, b in zip(emitted, emitted[1:], strict=False)]}) + "\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return
    finally:
        writer.close()


async def main(cfg: argparse.Namespace) -> None:
    server = await asyncio.start_server(lambda r, w: handle(r, w, cfg), "127.0.0.1", cfg.port)
    port = server.sockets[0].getsockname()[1]
    sys.stdout.write(f"PORT {port}\n")
    sys.stdout.flush()
    async with server:
        await server.serve_forever()


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--ttft-ms", type=float, default=80.0)
    ap.add_argument("--itl-ms", type=float, default=15.0)
    ap.add_argument("--status", type=int, default=0)
    ap.add_argument("--cut-after", type=int, default=None)
    ap.add_argument("--hang", action="store_true")
    ap.add_argument("--no-usage", action="store_true")
    ap.add_argument("--refuse-ignore-eos", action="store_true")
    ap.add_argument("--require-key", default="")
    ap.add_argument("--ragged", action="store_true", help="CRLF lines, events split over writes")
    ap.add_argument("--log", default="", help="append each request's actual emission times")
    return ap.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse()))
