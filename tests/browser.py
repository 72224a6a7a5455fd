"""Headless Chromium for report tests: the DOM after the page's own scripts ran, screenshots,
and what the page printed on its console.

Chromium only ever opens local file:// pages here, with a fresh profile each run, no
network services, and a hard timeout that ends the whole process group it started.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium")
BASE_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)  # every Chromium the tests start, also the one tests/accessibility.py drives
FLAGS = (
    *BASE_FLAGS,
    "--disable-quic",
    "--enable-logging=stderr",
    "--v=0",
    "--virtual-time-budget=5000",  # let the page's scripts render before the dump
)
TIMEOUT_S = 60.0

# Chromium's console lines on stderr, e.g.
#   [1:1:1126/151041.209267:INFO:CONSOLE:1] "Uncaught ReferenceError: x", source: file:///p (1)
# and, in older builds, `...:INFO:CONSOLE(1)] "message", source: ...`.
CONSOLE_LINE = re.compile(
    r":(?P<level>[A-Z]+):CONSOLE(?::|\()(?P<line>\d+)\)?\]\s+\"(?P<text>.*)\", "
    r"source: (?P<source>\S*) \(\d+\)\s*$"
)

needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed (scripts/install-chromium installs it)",
)


@dataclass(frozen=True)
class ConsoleMessage:
    level: str
    text: str
    source: str
    line: int


@dataclass(frozen=True)
class Outcome:
    """What one Chromium run printed: stdout (a DOM dump) and its console messages."""

    stdout: str
    stderr: str
    console: list[ConsoleMessage]

    def page_errors(self, page: Path) -> list[str]:
        """Uncaught exceptions and error-level console lines coming from `page`.

        Chromium's own noise on stderr (D-Bus, GPU, sandbox warnings) is not the page's.
        """
        uri = page.resolve().as_uri()
        errors = [
            f"{m.level} {m.text} ({m.source}:{m.line})"
            for m in self.console
            if m.source.startswith(uri)
            and (m.level in ("ERROR", "FATAL") or "Uncaught" in m.text or "Error" in m.text)
        ]
        errors += [
            line
            for line in self.stderr.splitlines()
            if "Uncaught" in line and not CONSOLE_LINE.search(line)
        ]
        return errors


def console_messages(stderr: str) -> list[ConsoleMessage]:
    """The page's console messages among everything Chromium logs on stderr."""
    messages = []
    for line in stderr.splitlines():
        found = CONSOLE_LINE.search(line)
        if found:
            messages.append(
                ConsoleMessage(found["level"], found["text"], found["source"], int(found["line"]))
            )
    return messages


def run(page: Path, *arguments: str, timeout: float = TIMEOUT_S) -> Outcome:
    """Open `page` (a local file) in headless Chromium with `arguments`; bounded by `timeout`."""
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (scripts/install-chromium installs it)")
    with tempfile.TemporaryDirectory(
        prefix="gtcheck-chromium-", ignore_cleanup_errors=True
    ) as profile:
        command = [
            CHROMIUM,
            *FLAGS,
            f"--user-data-dir={profile}",
            *arguments,
            page.resolve().as_uri(),
        ]
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, so a timeout ends all of it
            env={**os.environ, "LANG": "C.UTF-8"},
        )
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise
    stdout = out.decode("utf-8", "replace")
    stderr = err.decode("utf-8", "replace")
    if process.returncode != 0:
        raise RuntimeError(f"chromium exited {process.returncode}: {stderr[-2000:]}")
    return Outcome(stdout, stderr, console_messages(stderr))


def dump_dom(page: Path) -> Outcome:
    """The DOM as serialised after the page's scripts ran (`Outcome.stdout`)."""
    return run(page, "--dump-dom")


def screenshot(page: Path, png: Path, width: int = 1280, height: int = 2000) -> Outcome:
    """A PNG of the page's first `width` x `height` pixels, written to `png`."""
    return run(page, f"--screenshot={png}", f"--window-size={width},{height}")
