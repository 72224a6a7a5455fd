"""The parts of a validation, in order: each is a test, so `--junitxml` reports them."""

from __future__ import annotations

import pytest

from gtcheck.errors import EnvironmentProblem
from gtcheck.i18n import _
from gtcheck.scenarios import SCENARIOS
from gtcheck.validation.run import ERROR, PASSED, ValidationRun


def _verdict(status: str, what: str) -> None:
    """A failed part fails its test; one the environment kept from running is an error
    (JUnit's <error>, not <failure>)."""
    if status == ERROR:
        raise EnvironmentProblem(f"{what}: {status}")
    if status != PASSED:
        pytest.fail(f"{what}: {status}", pytrace=False)


def _needs_environment(validation: ValidationRun) -> None:
    if not validation.ready:
        pytest.skip(_("not run: the environment is not ready"))


def test_environment(validation: ValidationRun) -> None:
    """Table, replicas (waited for while CREATING), indexes and streams in every region."""
    checks = validation.environment()
    bad = [f"{c['id']} {c['status']}: {c['detail']}" for c in checks if c["status"] != PASSED]
    if any(c["status"] == ERROR for c in checks):
        raise EnvironmentProblem("; ".join(bad))
    if bad:
        pytest.fail("; ".join(bad), pytrace=False)


def test_bot_solved(validation: ValidationRun) -> None:
    """A bot named gtcheck-bot-<run id> performs the workshop."""
    _needs_environment(validation)
    _verdict(validation.solve_bot(), "bot.solved")


def test_bot_graded(validation: ValidationRun) -> None:
    """The bot is graded with the participants' checks; every graded step passes."""
    _needs_environment(validation)
    _verdict(validation.grade_bot(), "bot.graded")


def test_latency(validation: ValidationRun) -> None:
    """N probes in each direction, measured."""
    _needs_environment(validation)
    _verdict(validation.measure_latency(), "latency")


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_scenario(validation: ValidationRun, scenario: str) -> None:
    """One of the page's real-world scenarios."""
    _needs_environment(validation)
    _verdict(validation.play(scenario), scenario)


def test_cleanup(validation: ValidationRun) -> None:
    """Everything written is deleted in every region, the deletions seen replicated."""
    _verdict(validation.record_cleanup(), "cleanup")
