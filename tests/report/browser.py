"""Headless Chromium for the report tests: one page, opened on a file, collecting console
errors, page errors and dialogs (which the test asserts are empty)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Opened:
    page: Any
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


@contextmanager
def open_page(playwright: Any, path: Path, *, wait_for: str) -> Iterator[Opened]:
    """Open ``path`` in Debian's Chromium (offline), wait for ``wait_for`` and yield the page
    with the errors and dialogs it produced."""
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        out = Opened(page=page)
        page.on("console", lambda m: out.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: out.errors.append(str(exc)))
        page.on("dialog", lambda d: (out.dialogs.append(d.message), d.dismiss()))
        page.goto(path.as_uri())
        page.wait_for_selector(wait_for, timeout=20000)
        try:
            yield out
        finally:
            browser.close()
