"""One streamed request to an OpenAI-compatible server (``/v1/completions`` or
``/v1/chat/completions``, server-sent events), timed on the client.

Times are ``time.perf_counter()`` readings taken the moment the client reads each event off
the socket, before parsing it (aiohttp, whose HTTP parser is compiled): TTFT = first chunk
carrying text - the moment the request went on the wire (a new connection starts to open, or
the headers start to be written on a kept-alive one); ITL = gaps between chunks carrying
text; end-to-end = ``[DONE]`` (else the end of the stream) - send.
TPOT = (end-to-end - TTFT) / (output tokens - 1) (DESIGN.md, metric definitions).

Output tokens come from the server's ``usage`` when it sends one (``stream_options:
{"include_usage": true}`` is asked for), else they are counted as the chunks that carried
text (one token per chunk on vLLM, SGLang, TGI and llama.cpp; the record says which).

A request that fails (refused connection, an HTTP error status, a stream cut before its end,
a timeout, an error event) is a record with ``error`` set; nothing raises past
``stream_request`` except cancellation."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import urlsplit

from airadar.errors import SpecError

ENDPOINTS = {"completions": "/completions", "chat": "/chat/completions"}

# Common English words: with the BPE tokenizers of current LLMs each " word" is one token,
# so a prompt of n words is about n tokens (the server's usage gives the exact count).
_WORDS = (
    "the", "be", "to", "of", "and", "a", "in", "that", "have", "it", "for", "not", "on", "with",
    "he", "as", "you", "do", "at", "this", "but", "his", "by", "from", "they", "we", "say", "her",
    "she", "or", "an", "will", "my", "one", "all", "would", "there", "their", "what", "so", "up",
    "out", "if", "about", "who", "get", "which", "go", "me", "when", "make", "can", "like", "time",
    "no", "just", "him", "know", "take", "people", "into", "year", "your", "good", "some", "could",
    "them", "see", "other", "than", "then", "now", "look", "only", "come", "its", "over", "think",
    "also", "back", "after", "use", "two", "how", "our", "work", "first", "well", "way", "even",
    "new", "want", "because", "any", "these", "give", "day", "most", "us", "is", "was", "are",
    "been", "has", "had", "were", "said", "did", "made", "find", "where", "long", "down", "side",
    "call", "water", "part", "sound", "old", "place", "great", "show", "small", "set", "put", "end",
    "does", "another", "large", "must", "big", "high", "such", "follow", "act", "why", "ask", "men",
    "change", "went", "light", "kind", "off", "need", "house", "picture", "try", "again", "animal",
    "point", "mother", "world", "near", "build", "self", "earth", "father", "head", "stand", "own",
    "page", "should", "country", "found", "answer", "school", "grow", "study", "still", "learn",
    "plant", "cover", "food", "sun", "four", "between", "state", "keep", "eye", "never", "last",
    "let", "thought", "city", "tree", "cross", "farm", "hard", "start", "might", "story", "saw",
    "far", "sea", "draw", "left", "late", "run", "while", "press", "close", "night", "real", "life",
    "few", "north"
)


def endpoint_url(url: str, kind: str) -> str:
    """``http://host:port`` or ``.../v1`` or the full endpoint URL -> the endpoint URL."""
    if kind not in ENDPOINTS:
        raise SpecError("--endpoint", kind, "completions or chat")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SpecError("--url", url, "an http:// or https:// URL with a host, e.g. "
                        "http://127.0.0.1:8000")
    path = parts.path.rstrip("/")
    for suffix in ENDPOINTS.values():
        if path.endswith(suffix):
            path = path[: -len(suffix)]
            break
    if not path.endswith("/v1"):
        path += "/v1"
    return f"{parts.scheme}://{parts.netloc}{path}{ENDPOINTS[kind]}"


def synthetic_prompt(n_words: int, seed: int) -> str:
    """A prompt of ``n_words`` common words; the seed varies its start so a server's prefix
    cache cannot serve one request from another's."""
    import random

    r = random.Random(seed)
    return " ".join(r.choice(_WORDS) for _ in range(max(n_words, 1)))


def payload(*, kind: str, model: str, prompt: str, max_tokens: int, ignore_eos: bool,
            include_usage: bool, temperature: float = 0.0) -> dict[str, Any]:
    body: dict[str, Any] = {"model": model, "max_tokens": max_tokens, "stream": True,
                            "temperature": temperature}
    if kind == "chat":
        body["messages"] = [{"role": "user", "content": prompt}]
    else:
        body["prompt"] = prompt
    if ignore_eos:
        body["ignore_eos"] = True
    if include_usage:
        body["stream_options"] = {"include_usage": True}
    return body


@dataclass(kw_only=True)
class RequestRecord:
    """What one request did; times in seconds from the run's start (``*_at_s``) or as
    durations."""

    index: int
    warmup: bool = False
    scheduled_at_s: float = 0.0
    sent_at_s: float = 0.0
    prompt_words: int = 0
    max_tokens: int = 0
    input_tokens: int | None = None
    output_tokens: int = 0
    tokens_source: str = "chunks"  # "usage", "chunks" or "tokenizer"
    ttft_s: float | None = None
    e2e_s: float | None = None
    itl_s: list[float] = field(default_factory=list)
    status: int | None = None
    finish_reason: str | None = None
    error: str | None = None
    text: list[str] = field(default_factory=list, repr=False)  # the answer; not stored

    @property
    def ok(self) -> bool:
        return self.error is None and self.e2e_s is not None

    @property
    def tpot_s(self) -> float | None:
        if not self.ok or self.ttft_s is None or self.output_tokens < 2:
            return None
        assert self.e2e_s is not None
        return (self.e2e_s - self.ttft_s) / (self.output_tokens - 1)

    def as_dict(self) -> dict[str, Any]:
        # a shallow copy field by field (dataclasses.asdict deep-copies recursively: a fifth
        # of the client's own time per request at 300 requests/s)
        d = {f: getattr(self, f) for f in _RECORD_FIELDS}
        d["itl_s"] = list(self.itl_s)
        d["tpot_s"] = self.tpot_s
        return d


#: what a stored record holds (the answer's text is not stored)
_RECORD_FIELDS = tuple(f.name for f in fields(RequestRecord) if f.name != "text")


def _text_of(kind: str, choice: dict[str, Any]) -> str:
    if kind == "chat":
        delta = choice.get("delta") or {}
        return str(delta.get("content") or "")
    return str(choice.get("text") or "")


def open_session(*, limit: int, timeout_s: float, connect_timeout_s: float) -> Any:
    """An aiohttp session of at most ``limit`` connections for ``stream_request``:
    ``timeout_s`` is the longest wait for any read (the response's headers, then each piece of
    the stream), ``connect_timeout_s`` for a new connection. Made inside a running event loop;
    closed by the caller. No proxy from the environment (loopback and named endpoints only)."""
    import aiohttp

    trace = aiohttp.TraceConfig()
    # the request is on the wire when a new connection starts to open, or when its headers
    # start to be written on a kept-alive one: the client's own preparation is not the server's
    trace.on_connection_create_start.append(_on_wire)
    trace.on_request_headers_sent.append(_on_wire)
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=limit, limit_per_host=0),
        timeout=aiohttp.ClientTimeout(total=None, sock_connect=connect_timeout_s,
                                      sock_read=timeout_s),
        trace_configs=[trace], trust_env=False)


async def _on_wire(session: Any, ctx: Any, params: Any) -> None:
    on_wire = ctx.trace_request_ctx
    if isinstance(on_wire, list) and not on_wire:
        on_wire.append(time.perf_counter())


class _BadEvent(Exception):
    """An event that ends the request as failed (its message is the record's error)."""


class _Stream:
    """The timing and counting of one stream, fed one ``data:`` payload at a time."""

    __slots__ = ("chunks", "done", "end", "kind", "last", "rec", "sent")

    def __init__(self, kind: str, rec: RequestRecord, sent: float) -> None:
        self.kind, self.rec, self.sent = kind, rec, sent
        self.chunks = 0
        self.last: float | None = None
        self.done = False
        self.end = sent

    def event(self, data: bytes, now: float) -> None:
        """One ``data:`` payload (stripped) that arrived at ``now``."""
        if data == b"[DONE]":
            # the answer ends here; the stream is still read to its end, so that the
            # connection goes back to the pool instead of being closed half-read
            self.done, self.end = True, now
            return
        if self.done:
            return
        rec = self.rec
        try:
            ev = json.loads(data)
        except ValueError:  # invalid JSON or invalid UTF-8
            ev = None
        if not isinstance(ev, dict):
            raise _BadEvent(f"malformed event: {data[:80].decode('utf-8', 'replace')!r}")
        if ev.get("error"):
            raise _BadEvent(f"error event: {_error_text(json.dumps(ev['error']))}")
        usage = ev.get("usage")
        if isinstance(usage, dict) and usage.get("completion_tokens") is not None:
            try:
                rec.output_tokens = int(usage["completion_tokens"])
                if usage.get("prompt_tokens") is not None:
                    rec.input_tokens = int(usage["prompt_tokens"])
            except (TypeError, ValueError):
                raise _BadEvent(f"malformed usage: {json.dumps(usage)[:80]}") from None
            rec.tokens_source = "usage"
        for ch in ev.get("choices") or []:
            piece = _text_of(self.kind, ch)
            if piece:
                rec.text.append(piece)
                self.chunks += 1
                if self.last is None:
                    rec.ttft_s = now - self.sent
                else:
                    rec.itl_s.append(now - self.last)
                self.last = now
            if ch.get("finish_reason"):
                rec.finish_reason = str(ch["finish_reason"])


def _data_lines(block: bytes) -> list[bytes]:
    """The stripped payloads of the ``data:`` lines in complete lines ``block``."""
    return [ln[5:].strip() for ln in block.split(b"\n") if ln.startswith(b"data:")]


async def stream_request(session: Any, *, url: str, kind: str, body: dict[str, Any],
                         headers: dict[str, str], rec: RequestRecord, t0: float) -> RequestRecord:
    """Send ``body`` and time its stream into ``rec`` (``t0``: the run's perf_counter origin);
    ``session`` from ``open_session``. Every piece of the stream is timed when it is read off
    the socket, before it is parsed."""
    import aiohttp

    sent = time.perf_counter()
    rec.sent_at_s = sent - t0
    on_wire: list[float] = []
    st = _Stream(kind, rec, sent)
    try:
        async with session.post(url, json=body, headers=headers,
                                trace_request_ctx=on_wire) as resp:
            st.sent = sent = on_wire[0] if on_wire else sent
            rec.sent_at_s = sent - t0
            rec.status = resp.status
            if resp.status >= 400:
                text = (await resp.read()).decode("utf-8", "replace")
                rec.error = f"HTTP {resp.status}: {_error_text(text)}"
                return rec
            content = resp.content
            tail = b""  # an incomplete last line, completed by the next read
            while True:
                got = await content.readany()
                now = time.perf_counter()
                if not got:
                    break
                cut = got.rfind(b"\n")
                if cut < 0:
                    tail += got
                    continue
                block, tail = tail + got[:cut], got[cut + 1:]
                if b"data:" in block:
                    for data in _data_lines(block):
                        st.event(data, now)
            if tail.startswith(b"data:"):  # a last line without its newline
                st.event(tail[5:].strip(), now)
        if not st.done:
            st.end = time.perf_counter()
    except _BadEvent as exc:
        rec.error = str(exc)
        return rec
    except TimeoutError as exc:  # aiohttp's ServerTimeoutError is one
        rec.error = f"timeout ({type(exc).__name__}) after {st.chunks} chunks"
        return rec
    except aiohttp.ClientConnectorError as exc:
        rec.error = f"cannot connect: {exc.strerror or _reason(exc)}"
        return rec
    except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, ConnectionError) as exc:
        rec.error = f"stream cut after {st.chunks} chunks: {_reason(exc)}"
        return rec
    except aiohttp.ClientError as exc:
        rec.error = f"{type(exc).__name__}: {_reason(exc)}"
        return rec
    if not st.done and rec.finish_reason is None:
        rec.error = f"stream ended after {st.chunks} chunks without [DONE] or a finish reason"
        return rec
    if st.chunks == 0:
        rec.error = "the stream carried no text"
        return rec
    if rec.tokens_source != "usage":
        rec.output_tokens = st.chunks
    rec.e2e_s = st.end - sent
    return rec


def _reason(exc: BaseException) -> str:
    s = str(exc).strip() or type(exc).__name__
    return s.splitlines()[0][:160]


def _error_text(text: str) -> str:
    """The message of an OpenAI-style error body, else its first 160 characters."""
    try:
        obj = json.loads(text)
    except json.JSONDecodeError:
        return " ".join(text.split())[:160] or "(empty body)"
    if isinstance(obj, dict):
        err = obj.get("error", obj.get("detail", obj))
        if isinstance(err, dict) and "message" in err:
            return str(err["message"])[:160]
        return json.dumps(err)[:160]
    return json.dumps(obj)[:160]
