"""Grading never throttles the class it grades.

A class of 40 works through the workshop at its own pace, with boto3 and (one of them) the
real AWS CLI, on a table of 5 RCU / 5 WCU that keeps no burst capacity at all, while
`gtcheck grade --watch` re-grades it every 30 s. No request of the class is refused, the
simulator refuses nothing at all, and the board's last gradebook says what a grading of
the same finished class says on a table without limits. No read of the board's ever
overdraws the table's bucket, which would leave it refusing every caller for a while: a
board that spends burst the table does not have does, and the test tells.

Time is the simulator's injected clock: the class types while grading waits.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import shutil
import sys
from collections.abc import Iterator
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import pytest

from gtcheck import grade
from gtcheck.config import Runtime
from gtcheck.sim import ManualClock, SimConfig, Simulator
from gtcheck.sim.capacity import Kind
from tests.classroom import TABLE, Classroom, Pace, names

EVERY_S = 30.0
START = 1_790_000_000.0


def _find_aws() -> str | None:
    beside = Path(sys.executable).with_name("aws")
    return str(beside) if beside.is_file() else shutil.which("aws")


def strict_sim(*, capacity: bool = True) -> Simulator:
    """The workshop table as provisioned (5 RCU / 5 WCU per table and index), no burst."""
    config = SimConfig(lag=1.0, jitter=0.0, burst_seconds=0.0, capacity=capacity)
    return Simulator(config, clock=ManualClock(start=START))


def board_args(roster: Path, report_dir: Path, *, watch: bool) -> argparse.Namespace:
    return argparse.Namespace(
        roster=roster,
        all=False,
        collect=None,
        endpoint_url=None,
        profile=None,
        table=TABLE,
        regions=("us-east-1", "eu-west-1"),
        timeout=30.0,
        report_dir=report_dir,
        lang=None,
        watch=watch,
        every=EVERY_S,
    )


def refusals(sim: Simulator) -> dict[str, int]:
    """Requests the simulator refused, by region and table or index."""
    assert sim.capacity is not None
    return {
        f"{region} {label}": int(usage["refused_reads"] + usage["refused_writes"])
        for region, resources in sim.capacity.snapshot().items()
        for label, usage in resources.items()
        if usage["refused_reads"] or usage["refused_writes"]
    }


def overdrawn(sim: Simulator) -> dict[str, float]:
    """Read buckets some request overdrew (the table then refuses everyone for a while),
    with the lowest balance they reached, in read units."""
    assert sim.capacity is not None
    lowest = sim.capacity.lowest_balances(Kind.READ)
    return {f"{r.region} {r.label}": round(b, 2) for r, b in lowest.items() if b < 0}


def verdicts(book: dict[str, Any]) -> dict[str, dict[str, tuple[str, int, str | None]]]:
    return {
        row["participant"]: {
            step: (verdict["status"], verdict["points"], verdict["cause"])
            for step, verdict in row["steps"].items()
        }
        for row in book["participants"]
    }


@pytest.fixture(scope="module")
def roster(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("class") / "roster.csv"
    path.write_text("participant\n" + "\n".join(names(Pace())) + "\n")
    return path


def run_board(
    roster: Path, report_dir: Path, *, watch: bool, aws: str | None = None
) -> tuple[Simulator, Classroom]:
    """The class at its pace beside a board grading every 30 s until the class is done:
    `grade --watch` (watch), or a one-off `grade` started every 30 s (not watch)."""
    sim = strict_sim()
    server = sim.serve("127.0.0.1", 0) if aws else None
    try:
        classroom = Classroom(sim, Pace(), server.endpoint if server else None, aws)
        runtime = Runtime(session=sim.session(), monotonic=sim.clock.now, sleep=classroom.sleep)
        rounds = math.ceil(classroom.end_s() / EVERY_S) + 2
        args = board_args(roster, report_dir, watch=watch)
        with redirect_stdout(io.StringIO()):
            if watch:
                grade.watch_live(args, runtime, sleep=classroom.sleep, max_rounds=rounds)
            else:
                for _ in range(rounds):
                    grade.grade_live(args, Runtime(runtime.session, sim.clock.now, classroom.sleep))
                    classroom.sleep(EVERY_S)
        assert classroom.done
        return sim, classroom
    finally:
        if server is not None:
            server.stop()


@pytest.fixture(scope="module")
def watched(roster: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    report_dir = tmp_path_factory.mktemp("board")
    sim, classroom = run_board(roster, report_dir, watch=True, aws=_find_aws())
    return sim, classroom, json.loads((report_dir / "gradebook.json").read_text())


def test_no_request_of_the_class_is_throttled_while_the_board_grades(watched: Any) -> None:
    sim, classroom, _book = watched
    assert classroom.sent == classroom.total > 400
    assert classroom.refused == []
    assert refusals(sim) == {}  # nor was grading itself refused
    assert overdrawn(sim) == {}  # and no read ever left the table refusing everyone


def test_the_class_typed_into_the_aws_cli_too(watched: Any) -> None:
    if _find_aws() is None:
        pytest.skip("the AWS CLI is not installed (pip install awscli)")
    _sim, classroom, _book = watched
    assert classroom.cli_commands >= 10


def test_the_board_grades_as_a_grading_without_limits_does(
    watched: Any, roster: Path, tmp_path: Path
) -> None:
    _sim, _classroom, book = watched
    unlimited = strict_sim(capacity=False)
    classroom = Classroom(unlimited, Pace())
    classroom.finish()  # the same class, the same commands at the same times
    with redirect_stdout(io.StringIO()):
        grade.grade_live(
            board_args(roster, tmp_path, watch=False),
            Runtime(unlimited.session(), unlimited.clock.now, unlimited.advance),
        )
    reference = json.loads((tmp_path / "gradebook.json").read_text())
    assert verdicts(book) == verdicts(reference)
    scores = {row["participant"]: row["score"] for row in book["participants"]}
    assert len(set(scores.values())) >= 3  # complete, halfway and mistaken learners differ


def test_a_board_that_spends_burst_the_table_lacks_throttles_the_class(
    roster: Path, tmp_path: Path
) -> None:
    sim, _classroom = run_board(roster, tmp_path, watch=False)
    assert overdrawn(sim) != {}
