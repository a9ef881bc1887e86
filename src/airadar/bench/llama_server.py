"""llama-cpp-python's OpenAI-compatible server, launched so that quantized models load on
CPUs whose AMX repacking path crashes (``use_extra_bufts=False``, as ``bench.llamacpp``
loads them), with a packaged model name accepted for ``--model``, and requests queued rather
than interrupted by the next one (the server's default interrupts them):

    python -m airadar.bench.llama_server --model smollm2-135m --port 8000

It binds 127.0.0.1 unless ``--host`` says otherwise, prints ``READY <url>`` when the model is
loaded and the port is open, and serves until it is stopped. Needs ``pip install
'airadar[llama]'`` (llama-cpp-python with its ``server`` extra)."""

from __future__ import annotations

import argparse
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

from airadar.bench import packaged
from airadar.bench.llamacpp import INSTALL, no_extra_bufts
from airadar.errors import AiradarError, BackendError


def _announce_when_open(host: str, port: int, timeout_s: float = 300.0) -> None:
    """Print READY once the port accepts connections (uvicorn binds after the model loads)."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                sys.stdout.write(f"READY http://{host}:{port}\n")
                sys.stdout.flush()
                return
        except OSError:
            time.sleep(0.1)


def serve(*, model: str, host: str, port: int, n_ctx: int, threads: int | None,
          alias: str | None, cache_dir: Path) -> None:
    try:
        import llama_cpp
        import uvicorn
        from llama_cpp.server.app import create_app
        from llama_cpp.server.settings import ModelSettings, ServerSettings
    except ImportError:
        raise BackendError(f"the llama.cpp server needs llama-cpp-python[server]: {INSTALL}"
                           ) from None
    path = packaged.resolve(model, cache_dir)
    if not path.is_file():
        raise BackendError(f"no GGUF file at {path}")
    kw: dict[str, Any] = {"model": str(path), "model_alias": alias or model, "n_ctx": n_ctx, "verbose": False}
    if threads:
        kw["n_threads"] = kw["n_threads_batch"] = threads
    with no_extra_bufts(llama_cpp):  # for the whole run: the server may reload the model
        # interrupt_requests=False: a new request waits for the one being served (llama.cpp's
        # Python server serves one at a time) instead of cutting it off
        app = create_app(server_settings=ServerSettings(host=host, port=port,
                                                        interrupt_requests=False),
                         model_settings=[ModelSettings(**kw)])
        threading.Thread(target=_announce_when_open, args=(host, port), daemon=True).start()
        uvicorn.run(app, host=host, port=port, log_level="warning")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m airadar.bench.llama_server")
    ap.add_argument("--model", required=True, help="a .gguf path or a packaged model name")
    ap.add_argument("--alias", default=None, help="the model name clients send (default: --model)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8000)
    ap.add_argument("--n-ctx", type=int, default=2048)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "airadar")
    a = ap.parse_args(argv)
    try:
        serve(model=a.model, host=a.host, port=a.port, n_ctx=a.n_ctx, threads=a.threads,
              alias=a.alias, cache_dir=a.cache_dir)
    except AiradarError as exc:
        sys.stderr.write(f"error: {exc}\n")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
