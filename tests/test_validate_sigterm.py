"""`gtcheck validate` as a process, over HTTP, stopped by SIGTERM in each of its phases: a
class's table is byte-identical afterwards (with `cleanup --probes` where a probe is left),
and nothing of the participants' is touched."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from gtcheck import marks
from gtcheck.scenarios import SCENARIOS
from gtcheck.sim import SimConfig, Simulator
from tests.grading import write_workshop

pytestmark = pytest.mark.server
ROOT = Path(__file__).resolve().parents[1]
TABLE = "demo-ecommerce-freetier"
CLASS = ("ana", "binh", "chi")
PROGRESS = frozenset(".sFEx")  # pytest -q: one character per finished part
WAIT_S = 60.0  # bounds every wait below; a healthy run is far quicker

# The phases (test_parts.py): the environment; then the probes, the bot and the scenarios
# side by side (their tests await them, the bot's first); the bot graded; the clean-up. A
# phase is entered once the parts before it have finished (their progress characters
# printed) and the simulator has seen it act.
BEFORE = {
    "environment": 0,
    "side-by-side": 1,
    "bot-graded": 2,
    "cleanup": 4 + len(SCENARIOS),
}
# What shows the phase has begun, besides the parts before it having finished: what the
# simulator has been asked since then (environment: anything; cleanup: a delete), or keys
# it has ever had written (side by side: a probe's, the bot's and a scenario's, so all
# three are in flight), a record that deletes do not erase.
ACTS: dict[str, Callable[[dict[str, int], set[str]], bool]] = {
    "environment": lambda asked, keys: sum(asked.values()) > 0,
    "side-by-side": lambda asked, keys: (
        any(_probe(pk) and ">" in pk for pk in keys)
        and any("gtcheck-bot-" in pk for pk in keys)
        and any(_probe(pk) and ">" not in pk for pk in keys)
    ),
    "bot-graded": lambda asked, keys: True,
    "cleanup": lambda asked, keys: asked.get("DeleteItem", 0) > 0,
}


def _probe(pk: str) -> bool:
    return pk.startswith(marks.PROBE_PREFIX)


def stopped_inside(phase: str, document: dict[str, Any] | None) -> bool:
    """The report of a run stopped in `phase` holds the parts before it, and not it."""
    checks = {check["id"] for check in (document or {}).get("checks", [])}
    played = len((document or {}).get("scenarios", []))
    return {
        "environment": "env.table" not in checks,
        "side-by-side": "env.table" in checks and "bot.solved" not in checks,
        "bot-graded": "bot.solved" in checks and "bot.graded" not in checks,
        "cleanup": played == len(SCENARIOS) and "cleanup" not in checks,
    }[phase]


@pytest.fixture
def classroom() -> Iterator[Simulator]:
    """A served simulator (real time, short lag) holding a class who did the workshop."""
    sim = Simulator(SimConfig(lag=0.2, jitter=0.0))
    server = sim.serve("127.0.0.1", 0)
    sim.endpoint = server.endpoint  # type: ignore[attr-defined]
    try:
        for name in CLASS:
            write_workshop(sim, name)
        settle(sim)
        yield sim
    finally:
        server.stop()


def settle(sim: Simulator) -> None:
    """Wait until no replicated write is pending in any direction."""
    deadline = time.monotonic() + WAIT_S
    while any(sim.state()["pending"].values()):
        assert time.monotonic() < deadline, sim.state()["pending"]
        time.sleep(0.05)


def full_scan(sim: Simulator, region: str) -> list[dict[str, Any]]:
    """Every item `region` holds, typed, sorted by key (paginated, strongly consistent)."""
    client, items, request = sim.client("dynamodb", region), [], {}
    while True:
        page = client.scan(TableName=TABLE, ConsistentRead=True, **request)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return sorted(items, key=lambda item: (item["PK"]["S"], item["SK"]["S"]))
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def snapshot(sim: Simulator) -> dict[str, bytes]:
    """Every region's full scan, in a canonical byte form."""
    return {
        region: json.dumps(full_scan(sim, region), sort_keys=True).encode()
        for region in sim.config.regions
    }


def operations(sim: Simulator) -> dict[str, int]:
    """DynamoDB requests the simulator has answered so far, per operation."""
    found: dict[str, int] = {}
    for (_region, service, operation), count in sim.request_log.counts().items():
        if service == "dynamodb":
            found[operation] = found.get(operation, 0) + count
    return found


def written_keys(sim: Simulator) -> set[str]:
    """The partition key of every item ever written in any region (deleted ones too)."""
    with sim.lock:
        return {str(key[0]) for (_region, _table, key) in sim.applied_at}  # type: ignore[index]


def since(now: dict[str, int], then: dict[str, int]) -> dict[str, int]:
    return {operation: count - then.get(operation, 0) for operation, count in now.items()}


class Progress:
    """The progress characters a `pytest -q` run has printed, read as they come."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.text = bytearray()
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        while chunk := self.stream.read1(4096):
            with self.lock:
                self.text += chunk

    def finished(self) -> int:
        """Parts finished: the progress characters before the line's first other one."""
        with self.lock:
            text = self.text.decode(errors="replace")
        count = 0
        for character in text:
            if character not in PROGRESS:
                break
            count += 1
        return count

    def output(self) -> str:
        self.thread.join(timeout=WAIT_S)
        with self.lock:
            return self.text.decode(errors="replace")


def gtcheck(*args: str) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONUNBUFFERED="1")  # each progress character as it is printed
    return subprocess.Popen(
        [sys.executable, "-m", "gtcheck", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, env=env,
    )  # fmt: skip


def stop_in(sim: Simulator, process: subprocess.Popen[bytes], phase: str) -> None:
    """Send SIGTERM once `process` is inside `phase`."""
    progress = Progress(process.stdout)
    entered: dict[str, int] | None = None  # the requests when the parts before finished
    deadline = time.monotonic() + WAIT_S
    while True:
        assert process.poll() is None, f"finished before {phase}: {progress.output()}"
        assert time.monotonic() < deadline, f"never reached {phase}: {progress.output()}"
        finished, seen = progress.finished(), operations(sim)
        assert finished <= BEFORE[phase], f"missed {phase}: {progress.output()}"
        if finished == BEFORE[phase]:
            if entered is None:
                entered = seen
            if ACTS[phase](since(seen, entered), written_keys(sim)):
                process.send_signal(signal.SIGTERM)
                return
        time.sleep(0.005)


def leftover_probes(sim: Simulator) -> list[dict[str, Any]]:
    return [
        item
        for region in sim.config.regions
        for item in full_scan(sim, region)
        if marks.is_probe(item)
    ]


@pytest.mark.parametrize("phase", [None, *BEFORE])
def test_a_class_table_is_byte_identical_after_validate_even_after_sigterm(
    classroom: Simulator, tmp_path: Path, phase: str | None
) -> None:
    """A validate run, whole or stopped by SIGTERM inside `phase`, then `cleanup --probes`
    if a probe item is left: every region's full scan is byte for byte what it was."""
    sim = classroom
    before = snapshot(sim)
    assert all(before.values())
    validate = gtcheck(
        "validate", "--endpoint-url", sim.endpoint, "--probes", "5", "--timeout", "30",
        "--report-dir", str(tmp_path),
    )  # fmt: skip
    if phase is not None:
        stop_in(sim, validate, phase)
    try:
        validate.wait(timeout=WAIT_S)
    finally:
        if validate.poll() is None:
            validate.kill()
    err = validate.stderr.read().decode()  # type: ignore[union-attr]
    report = tmp_path / "validation.json"
    document = json.loads(report.read_text()) if report.exists() else None
    if phase is None:
        assert validate.returncode == 0, err
        assert document is not None
        assert document["ok"] is True
    else:
        assert validate.returncode == 2, err
        assert "interrupted; the clean-up ran" in err
        assert stopped_inside(phase, document), document
        assert document is not None, "every interrupted run writes its report"
        assert document["interrupted"] is True
    settle(sim)
    if leftover_probes(sim):
        cleanup = gtcheck("cleanup", "--probes", "--endpoint-url", sim.endpoint)
        _out, cleanup_err = cleanup.communicate(timeout=WAIT_S)
        assert cleanup.returncode == 0, cleanup_err.decode()
        settle(sim)
    assert not leftover_probes(sim)
    assert snapshot(sim) == before
