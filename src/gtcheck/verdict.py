"""What a step concluded: the verdict a check builds while it runs, the result the grader
keeps, and how both read in the report."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, NoReturn

import pytest

from gtcheck.i18n import _
from gtcheck.rubric import Status, StepSpec


@dataclass
class Step:
    """What a check tells the grader: partial points, a hint, evidence, and time waited."""

    spec: StepSpec
    points: int = 0
    hint: str | None = None
    found: bool = False
    waited_s: float = 0.0
    evidence: dict[str, Any] = field(default_factory=dict)

    def fail(self, hint: str, *, points: int | None = None) -> NoReturn:
        """End the step as failed, keeping `points` of partial credit."""
        if points is not None:
            self.points = points
        self.hint = hint
        pytest.fail(hint, pytrace=False)

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
    finished_at: float = field(default_factory=time.time)  # wall clock, for benchmarks

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.spec.id,
            "exercise": self.spec.exercise,
            "title": _(self.spec.title),
            "kind": str(self.spec.kind),
            "status": str(self.status),
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
