"""One participant's grading sheet: the rubric, each step's result, score, exit, report.

Plain data in, plain data out: the pytest plugin fills sheets, and reports, gradebooks
and the terminal read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gtcheck.causes import Cause
from gtcheck.errors import EXIT_ENVIRONMENT, EXIT_FAILED, EXIT_OK
from gtcheck.i18n import _
from gtcheck.report import SCHEMA
from gtcheck.rubric import Status, StepSpec
from gtcheck.target import Target
from gtcheck.verdict import StepResult


@dataclass
class Sheet:
    participant: str  # as typed (or as a profile carries it)
    target: Target
    specs: list[StepSpec] = field(default_factory=list)
    results: dict[str, StepResult] = field(default_factory=dict)
    environment_problem: str | None = None

    def score(self) -> tuple[int, int]:
        return (
            sum(r.points for r in self.results.values()),
            sum(spec.points for spec in self.specs),
        )

    def exit_code(self) -> int:
        """3 when a graded step could not be judged, 1 when one did not pass, else 0."""
        graded = [self.results.get(spec.id) for spec in self.specs if spec.graded]
        if any(r is not None and r.status is Status.ERROR for r in graded):
            return EXIT_ENVIRONMENT
        if any(r is None or r.status is not Status.PASSED for r in graded):
            return EXIT_FAILED
        return EXIT_OK

    def report(self, *, started_at: str, duration_s: float, lang: str) -> dict[str, Any]:
        """The participant report (docs/reports.md), steps in the rubric's order."""
        score, maximum = self.score()
        steps = []
        for spec in self.specs:
            result = self.results.get(spec.id) or StepResult(
                spec, Status.SKIPPED, 0, _("not run"), 0.0, {}, False, cause=Cause.ENVIRONMENT
            )
            steps.append(result.as_json())
        return {
            "schema": SCHEMA,
            "participant": self.participant,
            "table": self.target.table,
            "regions": list(self.target.regions),
            "started_at": started_at,
            "duration_s": duration_s,
            "score": score,
            "max_score": maximum,
            "lang": lang,
            "steps": steps,
        }


def class_exit_code(sheets: list[Sheet]) -> int:
    """The worst of the participants' exits: 3 over 1 over 0."""
    codes = [sheet.exit_code() for sheet in sheets]
    for code in (EXIT_ENVIRONMENT, EXIT_FAILED):
        if code in codes:
            return code
    return EXIT_OK


def reports_exit_code(reports: list[dict[str, Any]]) -> int:
    """The worst exit among participant reports: a graded step in error is 3, one that did
    not pass is 1 (info steps never count)."""
    statuses = {
        step["status"] for report in reports for step in report["steps"] if step["kind"] != "info"
    }
    if Status.ERROR in statuses:
        return EXIT_ENVIRONMENT
    if statuses - {Status.PASSED}:
        return EXIT_FAILED
    return EXIT_OK
