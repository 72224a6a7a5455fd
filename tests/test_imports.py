"""What each door loads: the checker never the simulator, `--help` no AWS SDK."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gtcheck.sim import SimConfig, Simulator

SIMULATOR_MODULES = ("moto", "werkzeug", "gtcheck.sim")
PROBE = """
import json, sys
from gtcheck.cli import main
code = main(sys.argv[1:])
loaded = sorted(name for name in sys.modules
                if name.split(".")[0] in ("moto", "werkzeug") or name.startswith("gtcheck.sim"))
print(json.dumps({"code": code, "loaded": loaded}))
"""


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    sim = Simulator(SimConfig(lag=0.2, jitter=0.0))
    server = sim.serve("127.0.0.1", 0)
    try:
        yield server.endpoint
    finally:
        server.stop()


def run_probe(tmp_path: Path, *args: str) -> dict[str, object]:
    """Run one `gtcheck` command in a fresh interpreter; what it loaded and its exit."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, env=dict(os.environ),
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.server
def test_a_real_check_never_loads_the_simulator(endpoint: str, tmp_path: Path) -> None:
    """`gtcheck check` against an endpoint: neither moto nor werkzeug nor gtcheck.sim."""
    result = run_probe(
        tmp_path, "check", "--participant", "ana", "--endpoint-url", endpoint, "--timeout", "1"
    )
    assert result["code"] == 1  # nothing done: failed steps, a real run
    assert result["loaded"] == []
    assert (tmp_path / "reports" / "ana.json").exists()  # ./reports of the folder it ran in


def test_grade_collect_never_loads_the_simulator(tmp_path: Path) -> None:
    """`gtcheck grade --collect` reads files only: neither moto nor werkzeug nor gtcheck.sim."""
    (tmp_path / "submitted").mkdir()
    (tmp_path / "submitted" / "ana.json").write_text('{"schema": "gtcheck.report/1"}')
    result = run_probe(tmp_path, "grade", "--collect", "submitted")
    assert result == {"code": 1, "loaded": []}  # the report does not add up: rejected
    assert (tmp_path / "reports" / "gradebook.html").exists()


def test_rubric_never_loads_the_simulator(tmp_path: Path) -> None:
    result = run_probe(tmp_path, "rubric")
    assert result == {"code": 0, "loaded": []}


def test_help_loads_no_aws_sdk() -> None:
    """`gtcheck --help` builds only names and summaries: no boto3, no pytest."""
    probe = (
        "import sys\n"
        "from gtcheck.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('boto3', 'botocore', 'pytest', 'moto') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"
    assert "check" in done.stdout
    assert "sim" in done.stdout
