"""Screenshots of three example reports for docs/screenshots/ (the top of each page: the
decision, then the shortlist), taken in Debian's headless Chromium from `airadar plan --out`.

    .venv/bin/python scripts/screenshots.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.report.browser import open_page  # noqa: E402

EXAMPLES = ("eu-support-chat", "factory-camera-inspection", "on-device-assistant")


def main() -> None:
    import playwright.sync_api as pw

    out_dir = ROOT / "docs" / "screenshots"
    with tempfile.TemporaryDirectory() as tmp:
        for name in EXAMPLES:
            report = Path(tmp) / name
            subprocess.run([sys.executable, "-m", "airadar", "plan",
                            str(ROOT / "examples" / f"{name}.yaml"), "--out", str(report)],
                           check=True, capture_output=True, text=True)
            with open_page(pw, report / "index.html", wait_for="#plot-pareto .main-svg") as o:
                o.page.set_viewport_size({"width": 1400, "height": 1100})
                o.page.screenshot(path=str(out_dir / f"{name}.png"), full_page=False)
            print(f"{name}: {out_dir / f'{name}.png'}")


if __name__ == "__main__":
    main()
