"""Open the churn report in headless Chromium: fail on any console message, save a screenshot.

``make report-check`` (installs the Debian ``chromium`` package when it is missing). Chromium
prints the page's console messages to stderr with ``--enable-logging=stderr``; an empty list
and a full-page screenshot are the evidence that the report renders in a real browser.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

CONSOLE_LINE = re.compile(r"CONSOLE\(\d+\)|Uncaught|Failed to load resource")


def check(report: Path, screenshot: Path) -> int:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        print("chromium is not installed (make report-check installs it)", file=sys.stderr)
        return 2
    common = [browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0"]
    shot = subprocess.run(
        [*common, f"--screenshot={screenshot}", "--window-size=1200,5200", report.absolute().as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    dom = subprocess.run(
        [*common, "--dump-dom", report.absolute().as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    console = [line for line in (shot.stderr + dom.stderr).splitlines() if CONSOLE_LINE.search(line)]
    images = dom.stdout.count("<img")
    print(
        f"chromium: screenshot {screenshot} ({screenshot.stat().st_size / 1024:.0f} KB); {images} images in the DOM"
    )
    for line in console:
        print(f"console: {line}")
    return 1 if console or images == 0 or shot.returncode != 0 else 0


if __name__ == "__main__":
    report_file = Path(sys.argv[1])
    sys.exit(check(report_file, report_file.with_suffix(".png")))
