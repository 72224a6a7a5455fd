"""What a step concluded: the verdict a check builds while it runs, the result the grader
keeps, and how both read in the report."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

import pytest

from gtcheck.causes import Cause, Diagnosis, most_important
from gtcheck.errors import EnvironmentProblem
from gtcheck.i18n import _
from gtcheck.rubric import Status, StepSpec


@dataclass
class Step:
    """What a check tells the grader: partial points, a hint, its cause, evidence, and
    time waited."""

    spec: StepSpec
    points: int = 0
    hint: str | None = None
    found: bool = False
    waited_s: float = 0.0
    evidence: dict[str, Any] = field(default_factory=dict)
    diagnosis: Diagnosis | None = None

    def fail(
        self,
        hint: str,
        *,
        cause: Cause | Diagnosis | Sequence[Diagnosis],
        points: int | None = None,
    ) -> NoReturn:
        """End the step as failed, with why as data, keeping `points` of partial credit."""
        self.diagnose(cause)
        if points is not None:
            self.points = points
        self.hint = hint
        pytest.fail(hint, pytrace=False)

    def error(
        self, hint: str, *, cause: Cause | Diagnosis, regions: tuple[str, ...] = ()
    ) -> NoReturn:
        """End the step as an environment error (not the participant's doing), with why."""
        self.diagnose(cause)
        raise EnvironmentProblem(hint, regions=regions)

    def diagnose(self, cause: Cause | Diagnosis | Sequence[Diagnosis]) -> Diagnosis:
        """Record why the step does not pass; of several, the most important names it and
        all stay in the evidence."""
        if isinstance(cause, Cause):
            found: Sequence[Diagnosis] = [Diagnosis(cause)]
        elif isinstance(cause, Diagnosis):
            found = [cause]
        else:
            found = cause
        self.diagnosis = most_important(found)
        if len(found) > 1:
            self.evidence["causes"] = [each.as_json() for each in found]
        return self.diagnosis

    def note(self, hint: str) -> None:
        """A hint that stays with a step that passes (e.g. who won the conflict)."""
        self.hint = hint


@dataclass
class StepResult:
    spec: StepSpec
    status: Status
    points: int
    hint: str | None
    waited_s: float
    evidence: dict[str, Any]
    found: bool
    # Where an environment error is confined (empty: everywhere or not an error).
    error_regions: tuple[str, ...] = ()
    cause: Cause | None = None  # None exactly when the step passed
    finished_at: float = field(default_factory=time.time)  # wall clock, for benchmarks

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.spec.id,
            "exercise": self.spec.exercise,
            "title": _(self.spec.title),
            "kind": str(self.spec.kind),
            "status": str(self.status),
            "cause": None if self.cause is None else str(self.cause),
            "points": self.points,
            "max_points": self.spec.points,
            "hint": self.hint,
            "waited_s": round(self.waited_s, 3),
            "evidence": self.evidence,
        }


def latency_summary(samples: dict[str, list[float]]) -> dict[str, Any]:
    """docs/reports.md's `replication_latency_ms`, only when something was measured."""
    if not samples:
        return {}
    summary = {}
    for direction, values in sorted(samples.items()):
        ordered = sorted(values)
        summary[direction] = {
            "samples": len(ordered),
            "min": ordered[0],
            "p50": _percentile(ordered, 50),
            "p95": _percentile(ordered, 95),
            "max": ordered[-1],
            "mean": round(sum(ordered) / len(ordered), 3),
        }
    return {"replication_latency_ms": summary}


def _percentile(ordered: list[float], percent: float) -> float:
    """Nearest-rank percentile of sorted values."""
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[rank - 1]
