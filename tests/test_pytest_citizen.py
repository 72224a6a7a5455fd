"""The wheel beside other pytest plugins: the same verdicts, one report, the rubric's order.

A fresh virtualenv holds the wheel and pytest-timeout, pytest-profiling, pytest-xdist,
pytest-randomly, pytest-rerunfailures and pytest-cov. Its `gtcheck check` and plain
`pytest -p gtcheck.plugin --pyargs gtcheck.checks` must grade a half-solved participant
exactly as `gtcheck check` in the project's own virtualenv does.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gtcheck.sim import SimConfig, Simulator

pytestmark = [pytest.mark.plugins, pytest.mark.server]
ROOT = Path(__file__).resolve().parents[1]
PLUGINS = (
    "pytest-timeout",
    "pytest-profiling",
    "pytest-xdist",
    "pytest-randomly",
    "pytest-rerunfailures",
    "pytest-cov",
)
PARTICIPANT = "pat"
SUMMARY_ROW = re.compile(r"^(passed|failed|skipped|error)\s+\d+/\d+\s+(\S+)")
RUN_ROW = re.compile(r"^(\S+::test_\S+) (PASSED|FAILED|SKIPPED|ERROR)\b")


# Dummy credentials and no profile, also for module-scoped fixtures (set up before the
# suite's autouse fixture that says the same for each test).
OFFLINE = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
    "LANGUAGE": "en",
}


def run(command: list[str], cwd: Path, **environment: str) -> subprocess.CompletedProcess[str]:
    """Run away from the checkout: no PYTHONPATH, PYTEST_ADDOPTS, AWS profile or endpoint."""
    hidden = ("PYTHONPATH", "PYTEST_ADDOPTS", "AWS_PROFILE", "AWS_ENDPOINT_URL")
    env = {key: value for key, value in os.environ.items() if key not in hidden}
    env.update(OFFLINE, **environment)
    return subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=cwd, env=env)


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


@pytest.fixture(scope="session")
def plugin_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """bin/ of a fresh virtualenv with the built wheel and the six plugins, nothing else."""
    folder = tmp_path_factory.mktemp("plugin-venv")
    ok(run([sys.executable, "-m", "build", "--outdir", str(folder / "dist"), str(ROOT)], folder))
    (wheel,) = (folder / "dist").glob("gtcheck-*.whl")
    ok(run([sys.executable, "-m", "venv", str(folder / "venv")], folder))
    python = folder / "venv" / "bin" / "python"
    install = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    ok(run([*install, "--no-compile", str(wheel), *PLUGINS], folder))
    return python.parent


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A simulator over HTTP where PARTICIPANT did all but exercise 3."""
    sim = Simulator(SimConfig(lag=0.3, jitter=0.0))
    server = sim.serve("127.0.0.1", 0)
    try:
        ok(
            run(
                [sys.executable, "-m", "gtcheck", "solve", "--participant", PARTICIPANT,
                 "--endpoint-url", server.endpoint, "--skip", "ex3"],
                tmp_path_factory.mktemp("solve"),
            )
        )  # fmt: skip
        yield server.endpoint
    finally:
        server.stop()


def check_command(gtcheck: list[str], endpoint: str) -> list[str]:
    return [*gtcheck, "check", "--participant", PARTICIPANT, "--endpoint-url", endpoint,
            "--timeout", "30"]  # fmt: skip


def plain_pytest(bin_dir: Path, endpoint: str, *extra: str) -> list[str]:
    return [str(bin_dir / "python"), "-m", "pytest", "-p", "gtcheck.plugin", "--pyargs",
            "gtcheck.checks", "--participant", PARTICIPANT, "--endpoint-url", endpoint,
            "--replication-timeout", "30", "-p", "no:cacheprovider", *extra]  # fmt: skip


def verdicts(folder: Path) -> list[tuple[str, str, int]]:
    report = json.loads((folder / "reports" / f"{PARTICIPANT}.json").read_text())
    return [(step["id"], step["status"], step["points"]) for step in report["steps"]]


def rubric_ids(bin_dir: Path, cwd: Path) -> list[str]:
    result = ok(run([str(bin_dir / "gtcheck"), "rubric", "--json"], cwd))
    return [step["id"] for step in json.loads(result.stdout)]


def test_every_plugin_loaded_gives_the_same_verdicts(
    plugin_bin: Path, endpoint: str, tmp_path: Path
):
    """gtcheck check and plain pytest beside the six plugins grade as the project's own
    gtcheck check does: every step's status and points, passed, failed and skipped."""
    own, beside, plain = (tmp_path / name for name in ("own", "beside", "plain"))
    for folder in (own, beside, plain):
        folder.mkdir()
    reference = run(check_command([sys.executable, "-m", "gtcheck"], endpoint), own)
    assert reference.returncode == 1, reference.stdout + reference.stderr
    checked = run(check_command([str(plugin_bin / "gtcheck")], endpoint), beside)
    assert checked.returncode == 1, checked.stdout + checked.stderr
    tested = run(plain_pytest(plugin_bin, endpoint, "-p", "randomly"), plain)
    assert tested.returncode == 1, tested.stdout + tested.stderr

    header = next(line for line in tested.stdout.splitlines() if line.startswith("plugins:"))
    for name in ("timeout", "profiling", "xdist", "randomly", "rerunfailures", "cov"):
        assert name in header
    assert "randomly-seed" in tested.stdout
    expected = verdicts(own)
    assert {status for _, status, _ in expected} == {"passed", "failed", "skipped"}
    assert verdicts(beside) == expected
    assert verdicts(plain) == expected


def test_xdist_refuses_with_one_line_and_writes_no_report(
    plugin_bin: Path, endpoint: str, tmp_path: Path
):
    """Plain pytest with -n 2 stops before anything runs, with one line that says to run
    without -n, and writes no report."""
    tested = run(plain_pytest(plugin_bin, endpoint, "-n", "2"), tmp_path)
    assert tested.returncode == pytest.ExitCode.USAGE_ERROR
    lines = [line for line in tested.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, tested.stderr
    assert "pytest-xdist" in lines[0]
    assert "without -n" in lines[0]
    assert not (tmp_path / "reports").exists()


def collected(bin_dir: Path, cwd: Path, *extra: str) -> list[str]:
    """The checks' node ids in collection order (no grading, so nothing reorders them)."""
    result = ok(
        run(
            [str(bin_dir / "python"), "-m", "pytest", "-p", "gtcheck.plugin", "--pyargs",
             "gtcheck.checks", "--collect-only", "-q", "-p", "no:cacheprovider", *extra],
            cwd,
        )
    )  # fmt: skip
    return [line for line in result.stdout.splitlines() if "::test_" in line]


def test_summary_and_report_keep_rubric_order_under_randomly(
    plugin_bin: Path, endpoint: str, tmp_path: Path
):
    """pytest-randomly shuffles the checks; a graded run still runs them, and its summary
    and report list them, in the order of `gtcheck rubric`."""
    rubric = rubric_ids(plugin_bin, tmp_path)
    assert rubric == rubric_ids(Path(sys.executable).parent, tmp_path)
    seed = "--randomly-seed=7"
    natural = collected(plugin_bin, tmp_path, "-p", "no:randomly")
    assert collected(plugin_bin, tmp_path, seed) != natural  # this seed does shuffle

    graded = run(plain_pytest(plugin_bin, endpoint, seed, "-v"), tmp_path)
    assert graded.returncode == 1, graded.stdout + graded.stderr
    lines = graded.stdout.splitlines()
    ran = [m.group(1) for m in map(RUN_ROW.match, lines) if m]
    assert ran == natural
    assert [m.group(2) for m in map(SUMMARY_ROW.match, lines) if m] == rubric
    assert [step for step, _, _ in verdicts(tmp_path)] == rubric
