"""Checking the same state twice gives byte-identical reports: the wall clock is frozen
with freezegun, the run's own clock is the simulator's injected one."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from freezegun import freeze_time

from gtcheck import templates
from gtcheck.sim import ManualClock, SimConfig, Simulator
from tests.grading import grade, placeholders, put, write_workshop

FROZEN = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)


def test_checking_the_same_state_twice_gives_identical_json(tmp_path: Path) -> None:
    """Passed, failed and still-pending steps, hints, evidence and waits: the same bytes."""
    sim = Simulator(SimConfig(lag=1.0, jitter=0.0), clock=ManualClock(start=FROZEN.timestamp()))
    with freeze_time(FROZEN, tick=False):
        write_workshop(sim, "ana")
        product = templates.render(templates.load(templates.PRODUCT), placeholders("ana"))
        product["price"] = "299"  # a number typed as a string: a failed step with evidence
        sim.pause("eu-west-1", "us-east-1")  # and a replication still pending at the deadline
        put(sim, "eu-west-1", product)
        first = grade(sim, "ana", tmp_path / "first", timeout=5)
        second = grade(sim, "ana", tmp_path / "second", timeout=5)
    assert first[0] == second[0] == 1
    assert first[1]["started_at"] == "2026-11-26T15:00:00+00:00"
    assert {s["status"] for s in first[1]["steps"]} >= {"passed", "failed"}
    one = (tmp_path / "first" / "ana.json").read_bytes()
    two = (tmp_path / "second" / "ana.json").read_bytes()
    assert one == two
