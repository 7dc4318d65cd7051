"""Headless Chromium helpers shared by the browser tests (render a report, read its DOM)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--enable-logging=stderr", "--v=0")


def require_chromium() -> None:
    """Skip the calling test when Debian's chromium is not installed."""
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is absent (apt-get install chromium fonts-noto-cjk)")


def run_chromium(path: Path, tmp: Path, *args: str, size: str = "1400,6000",
                 budget_ms: int = 20000, fragment: str = "") -> tuple[str, str]:
    """Run headless Chromium on the page; return (stdout, console messages). A tall window
    makes lazily drawn figures further down draw too."""
    cmd = [str(CHROMIUM), *FLAGS, f"--window-size={size}", f"--virtual-time-budget={budget_ms}",
           f"--user-data-dir={tmp / 'chromium'}", *args, path.as_uri() + fragment]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=90, check=False)
    console = "\n".join(line for line in done.stderr.splitlines() if ":CONSOLE" in line)
    return done.stdout, console


def assert_clean_console(console: str) -> None:
    bad = [line for line in console.splitlines()
           if re.search(r"error|uncaught|refused|content security policy|failed", line, re.I)]
    assert not bad, "\n".join(bad)


def figure(dom: str, fig_id: str) -> str:
    """The DOM of one drawn figure: from its element to the next figure's."""
    match = re.search(rf'<div id="{fig_id}"[^>]*>', dom)
    assert match, fig_id
    assert 'data-drawn="1"' in match.group(0), f"{fig_id} not drawn"
    end = dom.find('<div id="fig-', match.end())
    return dom[match.start():end if end > 0 else len(dom)]


def marks(part: str, css_class: str) -> int:
    """How many SVG elements of ``css_class`` a figure draws in its plot area (the legend,
    which draws a sample of each trace, lives in the info layer after it)."""
    end = part.find('class="infolayer"')
    area = part[:end if end > 0 else len(part)]
    return len(re.findall(rf'class="{re.escape(css_class)}[" ]', area))


def legend_texts(part: str) -> list[str]:
    """Legend entries drawn by plotly in a part of the DOM."""
    return re.findall(r'class="legendtext"[^>]*>([^<]*)<', part)
