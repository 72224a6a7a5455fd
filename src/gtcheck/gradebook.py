"""The class gradebook (docs/reports.md, `gtcheck.gradebook/1`) as pure data.

Participant rows come from report dicts, the rubric from the checks' StepSpecs. No files,
no clock, no AWS: the door (grade.py) reads and writes, this module only decides, so the
same inputs always give the same document.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gtcheck.i18n import N_, _
from gtcheck.report import SCHEMA as REPORT_SCHEMA
from gtcheck.rubric import Status, StepSpec

SCHEMA = "gtcheck.gradebook/1"
GRADED = "graded"
SELF_REPORTED = "self-reported"
REJECTED = "rejected"
STATUSES = tuple(status.value for status in Status)
MAX_CAUSE_CHARS = 64
MAX_NAME_BYTES = 200  # as options.MAX_NAME_BYTES: a name no check could have been run for

# Why a submitted report is rejected: a stable id and its message (named placeholders).
REASONS = {
    "unreadable": N_("the file cannot be read ({problem})"),
    "not-json": N_("not a JSON report ({problem})"),
    "schema": N_("the schema is {found}, expected {expected}"),
    "malformed": N_("{field} is not valid: {problem}"),
    "unknown-step": N_("unknown step {step}"),
    "missing-step": N_("step {step} is missing"),
    "repeated-step": N_("step {step} appears more than once"),
    "points-above-rubric": N_("step {step} has {points} points, the rubric gives at most {most}"),
    "max-points": N_("step {step} claims {claimed} points possible, the rubric gives {most}"),
    "max-score": N_("max_score is {claimed}, the rubric's total is {total}"),
    "score-not-sum": N_("the score {score} is not the sum of the steps' points ({total})"),
    "duplicate": N_("participant {name} is already reported by {file}"),
}


@dataclass(frozen=True)
class Rejection:
    """Why a submitted report does not add up: data, turned into words only when shown."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def message(self) -> str:
        return _(REASONS[self.code]).format(**self.params)


@dataclass(frozen=True)
class Submission:
    """One submitted file as the door read it: its name, its parsed JSON or a rejection."""

    file: str  # the file name, for `report` and for messages
    link: str  # where it is, relative to the gradebook's folder
    data: Any = None
    problem: Rejection | None = None  # set when the file could not be read or parsed


def rubric_rows(specs: Sequence[StepSpec]) -> list[dict[str, Any]]:
    """The `rubric` array: every step in rubric order, its title in the run's language."""
    return [
        {
            "id": spec.id,
            "exercise": spec.exercise,
            "points": spec.points,
            "kind": str(spec.kind),
            "title": _(spec.title),
        }
        for spec in specs
    ]


# ----- validating a self-reported report ---------------------------------------------------
def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _name_problem(name: Any) -> str | None:
    if not isinstance(name, str) or not name.strip():
        return "not a non-empty string"
    if len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        return f"longer than {MAX_NAME_BYTES} bytes"
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in name):
        return "holds control or invisible characters"
    return None


def _malformed(field_name: str, problem: str) -> Rejection:
    return Rejection("malformed", {"field": field_name, "problem": problem})


def validate(data: Any, specs: Sequence[StepSpec]) -> Rejection | None:
    """Why a submitted report does not add up against the rubric, or None when it does.

    A report is checked as a whole against the rubric the checks declare: its schema, one
    entry per rubric step and no other, points inside the rubric, a score that is the sum.
    It proves the file is consistent, not that the table ever held the items.
    """
    if not isinstance(data, dict):
        return Rejection("schema", {"found": type(data).__name__, "expected": REPORT_SCHEMA})
    schema = data.get("schema")
    if schema != REPORT_SCHEMA:
        return Rejection("schema", {"found": _shown(schema), "expected": REPORT_SCHEMA})
    problem = _name_problem(data.get("participant"))
    if problem:
        return _malformed("participant", problem)
    steps = data.get("steps")
    if not isinstance(steps, list) or not all(isinstance(s, dict) for s in steps):
        return _malformed("steps", "not a list of objects")
    rubric = {spec.id: spec for spec in specs}
    seen: set[str] = set()
    for step in steps:
        rejection = _validate_step(step, rubric, seen)
        if rejection:
            return rejection
    for spec in specs:
        if spec.id not in seen:
            return Rejection("missing-step", {"step": spec.id})
    score, max_score = data.get("score"), data.get("max_score")
    if not _is_int(score):
        return _malformed("score", "not an integer")
    if not _is_int(max_score):
        return _malformed("max_score", "not an integer")
    total_possible = sum(spec.points for spec in specs)
    if max_score != total_possible:
        return Rejection("max-score", {"claimed": max_score, "total": total_possible})
    total = sum(step["points"] for step in steps)
    if score != total:
        return Rejection("score-not-sum", {"score": score, "total": total})
    return None


def _validate_step(
    step: dict[str, Any], rubric: Mapping[str, StepSpec], seen: set[str]
) -> Rejection | None:
    step_id = step.get("id")
    if not isinstance(step_id, str):
        return _malformed("steps[].id", "not a string")
    if step_id not in rubric:
        return Rejection("unknown-step", {"step": _shown(step_id)})
    if step_id in seen:
        return Rejection("repeated-step", {"step": step_id})
    seen.add(step_id)
    if step.get("status") not in STATUSES:
        return _malformed(f"{step_id} status", f"not one of {', '.join(STATUSES)}")
    points, max_points, most = step.get("points"), step.get("max_points"), rubric[step_id].points
    if not _is_int(points) or points < 0:
        return _malformed(f"{step_id} points", "not a whole number >= 0")
    if points > most:
        return Rejection("points-above-rubric", {"step": step_id, "points": points, "most": most})
    if max_points != most:
        claimed = _shown(max_points)
        return Rejection("max-points", {"step": step_id, "claimed": claimed, "most": most})
    cause = step.get("cause")
    if cause is not None and not (isinstance(cause, str) and 0 < len(cause) <= MAX_CAUSE_CHARS):
        return _malformed(f"{step_id} cause", "not a short id")
    return None


def _shown(value: Any, limit: int = 60) -> str:
    """A value from a hostile file, short enough to quote in a reason."""
    text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ----- rows and counts ---------------------------------------------------------------------
def participant_row(
    report: Mapping[str, Any], specs: Sequence[StepSpec], *, source: str, link: str
) -> dict[str, Any]:
    """A participant entry from a report that adds up: per step its status, points, cause."""
    by_id = {step["id"]: step for step in report["steps"]}
    steps = {}
    for spec in specs:
        step = by_id[spec.id]
        passed = step["status"] == Status.PASSED
        steps[spec.id] = {
            "status": step["status"],
            "points": step["points"],
            "cause": None if passed else step.get("cause"),
        }
    return {
        "participant": report["participant"],
        "source": source,
        "reason": None,
        "score": report["score"],
        "max_score": report["max_score"],
        "report": link,
        "steps": steps,
    }


def rejected_row(
    participant: str, rejection: Rejection, specs: Sequence[StepSpec], *, link: str
) -> dict[str, Any]:
    """A submitted report that does not add up: its figures are not kept, only why."""
    return {
        "participant": participant,
        "source": REJECTED,
        "reason": rejection.message(),
        "score": 0,
        "max_score": sum(spec.points for spec in specs),
        "report": link,
        "steps": {},
    }


def step_counts(
    rows: Iterable[Mapping[str, Any]], specs: Sequence[StepSpec]
) -> dict[str, dict[str, Any]]:
    """Per step: how many accepted participants are in each status, and each cause's count."""
    counts: dict[str, dict[str, Any]] = {
        spec.id: {**dict.fromkeys(STATUSES, 0), "causes": Counter()} for spec in specs
    }
    for row in rows:
        for step_id, step in row["steps"].items():
            tally = counts[step_id]
            tally[step["status"]] += 1
            if step["cause"] is not None:
                tally["causes"][step["cause"]] += 1
    return counts


def ordered_causes(causes: Counter[str]) -> dict[str, int]:
    """Most frequent first, ties by id: the same order every run."""
    return dict(sorted(causes.items(), key=lambda item: (-item[1], item[0])))


def row_order(row: Mapping[str, Any]) -> tuple[str, str, bool, str]:
    """Rows by name as people sort them (case-folded, normal form), then exactly, a kept
    report before a rejected one of the same name, then by file."""
    name = row["participant"]
    folded = unicodedata.normalize("NFC", name).casefold()
    return (folded, name, row["source"] == REJECTED, row["report"])


# ----- collecting submissions --------------------------------------------------------------
def collect_rows(
    submissions: Sequence[Submission], specs: Sequence[StepSpec], canonical: Any
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Rows for submitted reports (self-reported when they add up, else rejected), and the
    reports that were accepted.

    `canonical(participant)` is the file name `gtcheck check` gives that participant's
    report. When several files claim one participant, the one so named (else the first by
    file name) is judged on its own; the others are rejected as duplicates.
    """
    rows: list[dict[str, Any]] = []
    accepted: list[dict[str, Any]] = []
    claimed: dict[str, list[Submission]] = {}
    for submission in sorted(submissions, key=lambda s: s.file):
        name = _claimed_name(submission.data)
        if submission.problem is not None or name is None:
            rejection = submission.problem or validate(submission.data, specs)
            assert rejection is not None  # no readable name: validate says why
            shown = name or _stem(submission.file)
            rows.append(rejected_row(shown, rejection, specs, link=submission.link))
            continue
        claimed.setdefault(name, []).append(submission)
    for name, files in claimed.items():
        files.sort(key=lambda s: (s.file != canonical(name), s.file))
        first, *others = files
        rejection = validate(first.data, specs)
        if rejection:
            rows.append(rejected_row(name, rejection, specs, link=first.link))
        else:
            rows.append(participant_row(first.data, specs, source=SELF_REPORTED, link=first.link))
            accepted.append(first.data)
        for other in others:
            duplicate = Rejection("duplicate", {"name": name, "file": first.file})
            rows.append(rejected_row(name, duplicate, specs, link=other.link))
    return rows, accepted


def _claimed_name(data: Any) -> str | None:
    if isinstance(data, dict) and _name_problem(data.get("participant")) is None:
        return data["participant"]
    return None


def _stem(file: str) -> str:
    return file[:-5] if file.endswith(".json") else file


# ----- the document ------------------------------------------------------------------------
def document(
    rows: Iterable[dict[str, Any]],
    specs: Sequence[StepSpec],
    *,
    table: str,
    regions: Sequence[str],
    started_at: str,
    duration_s: float,
    lang: str,
) -> dict[str, Any]:
    """The `gtcheck.gradebook/1` document; rows sorted, counts from accepted rows only."""
    ordered = sorted(rows, key=row_order)
    counts = step_counts((row for row in ordered if row["source"] != REJECTED), specs)
    return {
        "schema": SCHEMA,
        "table": table,
        "regions": list(regions),
        "started_at": started_at,
        "duration_s": duration_s,
        "lang": lang,
        "rubric": rubric_rows(specs),
        "participants": ordered,
        "steps": {
            step_id: {**{s: tally[s] for s in STATUSES}, "causes": ordered_causes(tally["causes"])}
            for step_id, tally in counts.items()
        },
    }


def common_target(
    reports: Iterable[Mapping[str, Any]], default_table: str, default_regions: Sequence[str]
) -> tuple[str, list[str]]:
    """The table and regions most reports name (ties: the first in sort order)."""
    tables: Counter[str] = Counter()
    region_lists: Counter[tuple[str, ...]] = Counter()
    for report in reports:
        if isinstance(report.get("table"), str):
            tables[report["table"]] += 1
        regions = report.get("regions")
        if isinstance(regions, list) and all(isinstance(r, str) for r in regions):
            region_lists[tuple(regions)] += 1
    table = min(tables.items(), key=lambda i: (-i[1], i[0]))[0] if tables else default_table
    chosen = (
        list(min(region_lists.items(), key=lambda i: (-i[1], i[0]))[0])
        if region_lists
        else list(default_regions)
    )
    return table, chosen


def all_passed(document_: Mapping[str, Any], specs: Sequence[StepSpec]) -> bool:
    """Did every participant pass every graded step (no rejection, nothing else)?"""
    graded = [spec.id for spec in specs if spec.graded]
    return all(
        row["source"] != REJECTED
        and all(row["steps"][step_id]["status"] == Status.PASSED for step_id in graded)
        for row in document_["participants"]
    )
