"""The commands as an instructor or participant runs them, over HTTP against `gtcheck sim`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gtcheck.sim import SimConfig, Simulator

pytestmark = pytest.mark.server
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def endpoint() -> Iterator[str]:
    """A simulator over HTTP with a short lag, so real waits stay short."""
    sim = Simulator(SimConfig(lag=0.3, jitter=0.0))
    server = sim.serve("127.0.0.1", 0)
    try:
        yield server.endpoint
    finally:
        server.stop()


def gtcheck(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gtcheck", *args],
        capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=dict(os.environ),
    )  # fmt: skip


def test_solve_check_cleanup_round_trip(endpoint: str, tmp_path: Path) -> None:
    """solve, then check passes with 100; cleanup, then check fails fast with 0."""
    solved = gtcheck("solve", "--participant", "cy", "--endpoint-url", endpoint)
    assert solved.returncode == 0, solved.stderr
    assert "gtcheck solve:" in solved.stdout
    checked = gtcheck(
        "check", "--participant", "cy", "--endpoint-url", endpoint, "--report-dir", str(tmp_path)
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    report = json.loads((tmp_path / "cy.json").read_text())
    assert report["score"] == 100
    assert "score 100 / 100" in checked.stdout
    cleaned = gtcheck("cleanup", "--participant", "cy", "--endpoint-url", endpoint)
    assert cleaned.returncode == 0, cleaned.stderr
    again = gtcheck(
        "check", "--participant", "cy", "--endpoint-url", endpoint, "--report-dir", str(tmp_path)
    )
    assert again.returncode == 1
    assert json.loads((tmp_path / "cy.json").read_text())["score"] == 0


def test_plain_pytest_runs_the_same_checks(endpoint: str, tmp_path: Path) -> None:
    """`pytest checks --participant N` grades as `gtcheck check` does, with RUBRIC's exit."""
    assert gtcheck("solve", "--participant", "di", "--endpoint-url", endpoint).returncode == 0
    env = dict(os.environ)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "checks", "--participant", "di", "--endpoint-url",
         endpoint, "--report-dir", str(tmp_path), "-p", "no:cacheprovider", "-q",
         "--junitxml", str(tmp_path / "junit.xml")],
        capture_output=True, text=True, timeout=120, cwd=ROOT, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads((tmp_path / "di.json").read_text())["score"] == 100
    assert (tmp_path / "junit.xml").exists()


def test_rubric_is_printed_from_the_checks() -> None:
    """`gtcheck rubric --json` lists every docs/rubric.md step, 100 points in all."""
    result = gtcheck("rubric", "--json")
    assert result.returncode == 0, result.stderr
    steps = json.loads(result.stdout)
    assert sum(step["points"] for step in steps) == 100
    assert [s["id"] for s in steps][:4] == [
        "env.table",
        "env.replicas",
        "env.indexes",
        "env.streams",
    ]
    assert len(steps) == 16


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["check"], "--participant"),
        (["check", "--participant", ""], "must not be empty"),
        (["check", "--participant", "a\tb"], "control or invisible"),
        (["check", "--participant", "x" * 300], "too long"),
        (["check", "--participant", "ana", "--regions", "us-east-1"], "at least two regions"),
        (["check", "--participant", "ana", "--timeout", "-5"], "--timeout"),
        (["check", "--participant", "ana", "--timeout", "99999"], "--timeout"),
        (["check", "--participant", "ana", "--bogus"], "unrecognized arguments"),
        (["check", "--participant", "ana", "--profile", "no-such-profile"], "not configured"),
        (["solve", "--participant", "ana", "--mistake", "nope"], "invalid choice"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], words: str) -> None:
    """Bad flags and values: one line on stderr, exit 2, no traceback."""
    result = gtcheck(*args, timeout=60)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert words in lines[0]
    assert "Traceback" not in result.stderr
