"""The rubric marker: each check declares its step id, points, exercise and title.

`gtcheck rubric` prints the rubric from these declarations, so the code is the rubric.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from gtcheck.i18n import N_, _

MARKER = "rubric"
MARKER_HELP = (
    "rubric(id, points, exercise, title, kind='graded', requires=()): "
    "a graded workshop step (RUBRIC.md)"
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


@dataclass(frozen=True)
class StepSpec:
    id: str
    points: int
    exercise: int
    title: str
    kind: Kind = Kind.GRADED
    requires: tuple[str, ...] = ()

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
