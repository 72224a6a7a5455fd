"""The rubric marker: each check declares its step id, points, exercise and title.

`gtcheck rubric` prints the rubric from these declarations, so the code is the rubric.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from gtcheck.i18n import N_, _

MARKER = "rubric"
MARKER_HELP = (
    "rubric(id, points, exercise, title, kind='graded', requires=(), primary_only=False): "
    "a graded workshop step (docs/rubric.md)"
)


class Kind(StrEnum):
    GRADED = "graded"  # counts towards the score
    ADVANCED = "advanced"  # counts, for the optional partner exercise
    GATING = "gating"  # 0 points; later steps need it
    INFO = "info"  # 0 points; reported, never fails the run


class Status(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    ERROR = "error"


STATUS_LABELS = {
    Status.PASSED: N_("passed"),
    Status.FAILED: N_("failed"),
    Status.SKIPPED: N_("skipped"),
    Status.ERROR: N_("error"),
}


def status_label(status: str) -> str:
    """A status as participants read it; reports keep the English value as data."""
    return _(STATUS_LABELS[Status(status)])


EXERCISES = {
    1: N_("Write to primary, read from replica"),
    2: N_("Write to replica, read from primary"),
    3: N_("Conflict resolution"),
    4: N_("Query patterns across regions"),
    5: N_("Replication timing"),
}


def exercise_points(steps: Iterable[dict[str, Any]]) -> dict[int, tuple[int, int]]:
    """Points earned and possible per exercise (exercises with points only)."""
    totals: dict[int, tuple[int, int]] = {}
    for step in steps:
        if step["max_points"]:
            earned, possible = totals.get(step["exercise"], (0, 0))
            totals[step["exercise"]] = (earned + step["points"], possible + step["max_points"])
    return totals


def text_bar(earned: int, possible: int, width: int = 20) -> str:
    """A progress bar for a terminal: filled blocks for the share of points earned."""
    filled = 0 if not possible else round(width * earned / possible)
    return "█" * filled + "░" * (width - filled)


@dataclass(frozen=True)
class StepSpec:
    id: str
    points: int
    exercise: int
    title: str
    kind: Kind = Kind.GRADED
    requires: tuple[str, ...] = ()
    # Judged on the primary region alone: a table missing elsewhere does not stop it.
    primary_only: bool = False

    @property
    def graded(self) -> bool:
        """Does this step decide the exit code? Info steps never do."""
        return self.kind is not Kind.INFO


def spec_of(item: Any) -> StepSpec | None:
    """The StepSpec a collected test declares with @pytest.mark.rubric, if any."""
    marker = item.get_closest_marker(MARKER)
    if marker is None:
        return None
    fields = dict(marker.kwargs)
    fields["kind"] = Kind(fields.get("kind", Kind.GRADED))
    fields["requires"] = tuple(fields.get("requires", ()))
    return StepSpec(**fields)
