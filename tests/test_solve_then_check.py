"""The participant bot and the checker together: solve as N (with or without a mistake),
then grade N. Each mistake must fail exactly its own steps, with a hint naming the cause
and its cause id in the report."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from gtcheck.aws import Clients, Target
from gtcheck.bot import MISTAKES, solve
from gtcheck.sim import SimConfig, Simulator
from gtcheck.sim.clock import TickingClock
from gtcheck.templates import Placeholders
from tests.grading import grade, verdicts

EXPECTED_FAILURES: dict[str, dict[str, tuple[str, str, str]]] = {
    "wrong-region": {"ex1.user_created": ("failed", "written in eu-west-1", "wrong-region")},
    "key-typo": {
        "ex1.user_created": (
            "failed",
            "near miss: USER#global-usr-bea / PROFILE",
            "near-miss-key",
        ),
        "ex1.user_replicated": ("skipped", "needs ex1.user_created", "prerequisite"),
    },
    "price-as-string": {
        "ex2.product_created": ("failed", "remove the quotes", "number-as-string")
    },
    "missing-gsi-keys": {
        "ex3.order_created": ("failed", "GSI2PK is missing", "missing-gsi-keys"),
        "ex4.gsi2_status": ("failed", "has no GSI2PK and GSI2SK", "missing-gsi-keys"),
    },
    "unreplaced-placeholder": {
        "ex1.user_created": ("failed", "[your-name]", "unreplaced-placeholder")
    },
    "mixed-conflict": {"ex3.lww_coherent": ("failed", "mixes two writes", "mixed-write")},
}


def solved(mistakes: frozenset[str] = frozenset()) -> Simulator:
    """A simulator where `bea` has performed the workshop (with these mistakes)."""
    # Whole-second start, whole-second lag: a write and its copy never share a stream
    # second, so the streams can always tell where a write was made (AWS stamps records
    # to the second; a copy landing in the same second leaves the origin unknown).
    start = float(int(time.time()))
    sim = Simulator(SimConfig(lag=1.0, jitter=0.0, seed=3), clock=TickingClock(start))
    target = Target(table=sim.config.table, regions=sim.config.regions)
    solve(
        Clients(target, sim.session(), read_only=False),
        target,
        Placeholders(participant="bea", product_id="bea"),
        mistakes=mistakes,
        sleep=sim.advance,
        monotonic=sim.clock.now,
        now=sim.clock.now,
    )
    return sim


def test_solve_then_check_scores_full_marks(tmp_path: Path) -> None:
    """The bot's workshop is graded 100 / 100 with exit 0."""
    code, report = grade(solved(), "bea", tmp_path)
    assert (code, report["score"]) == (0, 100)
    assert set(verdicts(report).values()) == {"passed"}


def test_every_mistake_has_an_expectation() -> None:
    """Each mistake the bot can make is covered below."""
    assert set(EXPECTED_FAILURES) == set(MISTAKES)


@pytest.mark.parametrize("mistake", sorted(EXPECTED_FAILURES))
def test_each_mistake_fails_exactly_its_steps(mistake: str, tmp_path: Path) -> None:
    """Exactly the expected steps fail, with a hint naming the cause and its cause id; the
    rest pass, with no cause."""
    code, report = grade(solved(frozenset({mistake})), "bea", tmp_path)
    assert code == 1
    expected = EXPECTED_FAILURES[mistake]
    for step in report["steps"]:
        if step["id"] in expected:
            status, words, cause = expected[step["id"]]
            assert step["status"] == status, step
            assert words in step["hint"], step["hint"]
            assert step["cause"] == cause, step
        else:
            assert step["status"] == "passed", step
            assert step["cause"] is None, step
