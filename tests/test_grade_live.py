"""`gtcheck grade --roster` / `--all` as an instructor runs them, over HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gtcheck.sim import ManualClock, SimConfig, Simulator
from tests.grading import write_workshop

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    sim = Simulator(SimConfig(lag=0.2, jitter=0.0), clock=ManualClock(start=time.time()))
    write_workshop(sim, "ana")  # settled on the injected clock, then served as it is
    server = sim.serve("127.0.0.1", 0)
    try:
        yield server.endpoint
    finally:
        server.stop()


def gtcheck(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gtcheck", *args],
        capture_output=True, text=True, timeout=180, cwd=cwd, env=dict(os.environ),
    )  # fmt: skip


def test_grade_a_roster_writes_reports_and_the_gradebook(endpoint: str, tmp_path: Path) -> None:
    (tmp_path / "class.csv").write_text("participant\nana\nbo\n")
    done = gtcheck(
        "grade", "--roster", "class.csv", "--endpoint-url", endpoint, "--timeout", "10",
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr  # bo did nothing
    reports = tmp_path / "reports"
    assert json.loads((reports / "ana.json").read_text())["score"] == 100
    assert json.loads((reports / "bo.json").read_text())["score"] == 0
    book = json.loads((reports / "gradebook.json").read_text())
    assert [row["participant"] for row in book["participants"]] == ["ana", "bo"]
    assert "gradebook.html" in done.stdout


def test_grade_all_finds_the_class_itself(endpoint: str, tmp_path: Path) -> None:
    done = gtcheck("grade", "--all", "--endpoint-url", endpoint, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    book = json.loads((tmp_path / "reports" / "gradebook.json").read_text())
    assert [row["participant"] for row in book["participants"]] == ["ana"]


@pytest.mark.parametrize(
    ("roster", "words"),
    [
        ("name\nana\n", "class.csv:1: no participant column"),
        ("participant\nana\nana\n", "class.csv:3: participant 'ana' is already on line 2"),
    ],
)
def test_a_bad_roster_is_one_line_and_exit_2(tmp_path: Path, roster: str, words: str) -> None:
    (tmp_path / "class.csv").write_text(roster)
    done = gtcheck("grade", "--roster", "class.csv", cwd=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert words in lines[0]
    assert not (tmp_path / "reports").exists()
