"""The pure gradebook: rows, counts, validation of self-reported reports and the document,
on hand-built report dicts against a small hand-built rubric (no simulator, no files)."""

from __future__ import annotations

import copy
from collections import Counter
from typing import Any

import pytest

from gtcheck import gradebook
from gtcheck.gradebook import REJECTED, SELF_REPORTED, Rejection, Submission
from gtcheck.rubric import Kind, StepSpec

SPECS = [
    StepSpec("env.table", 0, 0, "The workshop table exists", kind=Kind.GATING),
    StepSpec("ex1.user_created", 10, 1, "Global user created in the primary region"),
    StepSpec("ex2.product_created", 10, 2, "Product created in the replica region"),
    StepSpec("mon.replication_latency", 0, 6, "CloudWatch ReplicationLatency", kind=Kind.INFO),
]


def report(name: str = "ana", **statuses: str) -> dict[str, Any]:
    """A report as `gtcheck check` writes it; every step passed unless named in `statuses`
    (`ex1_user_created="failed"`), a step that did not pass earning 0 with a cause."""
    steps = []
    for spec in SPECS:
        status = statuses.get(spec.id.replace(".", "_"), "passed")
        step: dict[str, Any] = {
            "id": spec.id,
            "exercise": spec.exercise,
            "title": spec.title,
            "kind": str(spec.kind),
            "status": status,
            "points": spec.points if status == "passed" else 0,
            "max_points": spec.points,
            "hint": None,
            "waited_s": 0.0,
            "evidence": {},
        }
        if status != "passed":
            step["cause"] = "not-found"
        steps.append(step)
    return {
        "schema": "gtcheck.report/1",
        "participant": name,
        "table": "demo-ecommerce-freetier",
        "regions": ["us-east-1", "eu-west-1"],
        "started_at": "2026-11-26T15:00:00+00:00",
        "duration_s": 1.0,
        "score": sum(s["points"] for s in steps),
        "max_score": 20,
        "lang": "en",
        "steps": steps,
    }


def step_of(data: dict[str, Any], step_id: str) -> dict[str, Any]:
    return next(s for s in data["steps"] if s["id"] == step_id)


def canonical(name: str) -> str:
    return f"{name}.json"


def submit(data: Any, file: str | None = None) -> Submission:
    name = file or f"{data['participant']}.json"
    return Submission(name, name, data=data)


# ----- validation ---------------------------------------------------------------------------
def test_a_report_that_adds_up_is_accepted() -> None:
    """A complete report, one with failures and one without `cause` (older reports) pass."""
    assert gradebook.validate(report(), SPECS) is None
    assert gradebook.validate(report(ex1_user_created="failed"), SPECS) is None
    older = report(ex2_product_created="skipped")
    del step_of(older, "ex2.product_created")["cause"]
    assert gradebook.validate(older, SPECS) is None


def _tamper(change: str) -> Any:
    data = report()
    if change == "not an object":
        return ["gtcheck.report/1"]
    if change == "schema":
        data["schema"] = "gtcheck.report/2"
    elif change == "no schema":
        del data["schema"]
    elif change == "unknown step":
        data["steps"].append({**step_of(data, "ex1.user_created"), "id": "ex9.bonus"})
    elif change == "missing step":
        data["steps"] = [s for s in data["steps"] if s["id"] != "ex2.product_created"]
        data["score"] = 10
    elif change == "repeated step":
        data["steps"].append(copy.deepcopy(step_of(data, "env.table")))
    elif change == "points above the rubric":
        step_of(data, "ex1.user_created")["points"] = 15
        data["score"] = 25
    elif change == "points possible raised":
        step_of(data, "ex1.user_created")["max_points"] = 15
    elif change == "max_score":
        data["max_score"] = 10
    elif change == "score raised":
        data["score"] = 25
    elif change == "negative points":
        step_of(data, "ex1.user_created")["points"] = -5
        data["score"] = 5
    elif change == "points as a boolean":
        step_of(data, "env.table")["points"] = False
    elif change == "points as text":
        step_of(data, "ex1.user_created")["points"] = "10"
    elif change == "score as a float":
        data["score"] = 20.0
    elif change == "unknown status":
        step_of(data, "ex1.user_created")["status"] = "excellent"
    elif change == "cause not an id":
        step_of(data, "ex1.user_created")["cause"] = ["x"]
    elif change == "empty name":
        data["participant"] = " "
    elif change == "control characters in the name":
        data["participant"] = "ana\x1b[2J"
    elif change == "steps not a list":
        data["steps"] = {"env.table": {}}
    return data


@pytest.mark.parametrize(
    ("change", "code", "words"),
    [
        ("not an object", "schema", "the schema is list"),
        ("schema", "schema", "the schema is gtcheck.report/2, expected gtcheck.report/1"),
        ("no schema", "schema", "the schema is None"),
        ("unknown step", "unknown-step", "unknown step ex9.bonus"),
        ("missing step", "missing-step", "step ex2.product_created is missing"),
        ("repeated step", "repeated-step", "env.table appears more than once"),
        ("points above the rubric", "points-above-rubric", "ex1.user_created has 15 points"),
        ("points possible raised", "max-points", "claims 15 points possible"),
        ("max_score", "max-score", "max_score is 10, the rubric's total is 20"),
        ("score raised", "score-not-sum", "the score 25 is not the sum of the steps' points (20)"),
        ("negative points", "malformed", "ex1.user_created points"),
        ("points as a boolean", "malformed", "env.table points"),
        ("points as text", "malformed", "ex1.user_created points"),
        ("score as a float", "malformed", "score is not valid"),
        ("unknown status", "malformed", "ex1.user_created status"),
        ("cause not an id", "malformed", "ex1.user_created cause"),
        ("empty name", "malformed", "participant"),
        ("control characters in the name", "malformed", "control"),
        ("steps not a list", "malformed", "steps"),
    ],
)
def test_a_report_that_does_not_add_up_is_rejected_with_its_reason(
    change: str, code: str, words: str
) -> None:
    """Each way a report can be tampered with or broken has its own reason, as data."""
    rejection = gradebook.validate(_tamper(change), SPECS)
    assert rejection is not None
    assert rejection.code == code
    assert words in rejection.message()


def test_reasons_quote_hostile_values_shortened() -> None:
    """A reason quotes what it found, but never a whole hostile blob."""
    data = report()
    data["schema"] = "<script>" + "x" * 500
    message = gradebook.validate(data, SPECS).message()
    assert len(message) < 200
    assert message.startswith("the schema is <script>xxx")


# ----- rows ---------------------------------------------------------------------------------
def test_a_row_keeps_status_points_and_cause_per_step() -> None:
    """Causes are kept for steps that did not pass, None when absent or when passed."""
    data = report(ex1_user_created="failed", ex2_product_created="skipped")
    del step_of(data, "ex2.product_created")["cause"]
    step_of(data, "env.table")["cause"] = "stale"  # a passed step's cause is not kept
    row = gradebook.participant_row(data, SPECS, source=SELF_REPORTED, link="ana.json")
    assert row["steps"] == {
        "env.table": {"status": "passed", "points": 0, "cause": None},
        "ex1.user_created": {"status": "failed", "points": 0, "cause": "not-found"},
        "ex2.product_created": {"status": "skipped", "points": 0, "cause": None},
        "mon.replication_latency": {"status": "passed", "points": 0, "cause": None},
    }
    assert (row["score"], row["max_score"], row["reason"]) == (0, 20, None)
    assert (row["source"], row["report"]) == ("self-reported", "ana.json")


def test_step_counts_tally_statuses_and_causes() -> None:
    """Per step: participants in each status, and how often each cause occurred."""
    rows = []
    for name, cause in [("a", "number-as-string"), ("b", "number-as-string"), ("c", None)]:
        data = report(name, ex2_product_created="failed")
        if cause:
            step_of(data, "ex2.product_created")["cause"] = cause
        else:
            step_of(data, "ex2.product_created")["cause"] = "wrong-region"
        rows.append(gradebook.participant_row(data, SPECS, source="graded", link=f"{name}.json"))
    rows.append(gradebook.participant_row(report("d"), SPECS, source="graded", link="d.json"))
    counts = gradebook.step_counts(rows, SPECS)
    assert counts["ex2.product_created"] == {
        "passed": 1,
        "failed": 3,
        "skipped": 0,
        "error": 0,
        "causes": Counter({"number-as-string": 2, "wrong-region": 1}),
    }
    assert counts["ex1.user_created"]["passed"] == 4


def test_ordered_causes_most_frequent_first_then_by_id() -> None:
    causes = Counter({"wrong-region": 2, "number-as-string": 5, "not-found": 2})
    assert list(gradebook.ordered_causes(causes).items()) == [
        ("number-as-string", 5),
        ("not-found", 2),
        ("wrong-region", 2),
    ]


# ----- collecting ----------------------------------------------------------------------------
def test_duplicates_keep_the_report_under_the_participants_own_file_name() -> None:
    """Two files for one participant: the one `gtcheck check` would have named is judged,
    the other is rejected naming it, whatever the order of the files."""
    original = submit(report("ana"), "ana.json")
    again = submit(report("ana", ex1_user_created="failed"), "ana (1).json")
    for order in ([original, again], [again, original]):
        rows, accepted = gradebook.collect_rows(order, SPECS, canonical)
        by_file = {row["report"]: row for row in rows}
        assert by_file["ana.json"]["source"] == SELF_REPORTED
        assert by_file["ana (1).json"]["source"] == REJECTED
        reason = by_file["ana (1).json"]["reason"]
        assert reason == "participant ana is already reported by ana.json"
        assert accepted == [original.data]


def test_duplicates_without_the_own_file_name_keep_the_first_by_file_name() -> None:
    rows, _accepted = gradebook.collect_rows(
        [submit(report("ana"), "b.json"), submit(report("ana"), "a.json")], SPECS, canonical
    )
    assert {row["report"]: row["source"] for row in rows} == {
        "a.json": SELF_REPORTED,
        "b.json": REJECTED,
    }


def test_an_unreadable_file_is_a_rejected_row_named_after_the_file() -> None:
    broken = Submission("broken.json", "../in/broken.json", problem=Rejection(
        "not-json", {"problem": "Expecting value: line 1 column 1 (char 0)"}
    ))  # fmt: skip
    nameless = submit({"schema": "gtcheck.report/1", "steps": []}, "who.json")
    rows, accepted = gradebook.collect_rows([broken, nameless], SPECS, canonical)
    assert accepted == []
    assert [(r["participant"], r["source"], r["report"], r["steps"]) for r in rows] == [
        ("broken", REJECTED, "../in/broken.json", {}),
        ("who", REJECTED, "who.json", {}),
    ]
    assert rows[0]["reason"].startswith("not a JSON report (Expecting value")
    assert rows[1]["reason"] == "participant is not valid: not a non-empty string"


# ----- the document ----------------------------------------------------------------------------
def test_document_sorts_rows_and_counts_only_accepted_reports() -> None:
    """Rows by name as people sort them; rejected rows are listed but never counted."""
    rows = [
        gradebook.participant_row(report(n), SPECS, source="graded", link=f"{n}.json")
        for n in ("Zoë", "bob", "Ana")
    ]
    rows.append(gradebook.rejected_row("ana", Rejection("schema", {
        "found": "x", "expected": "gtcheck.report/1"}), SPECS, link="ana.json"))  # fmt: skip
    doc = gradebook.document(
        rows, SPECS, table="t", regions=["us-east-1", "eu-west-1"],
        started_at="2026-11-26T15:00:00+00:00", duration_s=0.0, lang="en",
    )  # fmt: skip
    assert [r["participant"] for r in doc["participants"]] == ["Ana", "ana", "bob", "Zoë"]
    assert doc["schema"] == "gtcheck.gradebook/1"
    assert [s["id"] for s in doc["rubric"]] == [s.id for s in SPECS]
    assert doc["rubric"][1] == {
        "id": "ex1.user_created",
        "exercise": 1,
        "points": 10,
        "kind": "graded",
        "title": "Global user created in the primary region",
    }
    assert doc["steps"]["ex1.user_created"] == {
        "passed": 3, "failed": 0, "skipped": 0, "error": 0, "causes": {}
    }  # fmt: skip


def test_all_passed_ignores_info_steps_but_not_rejections() -> None:
    info_failed = report("a", mon_replication_latency="failed")
    row = gradebook.participant_row(info_failed, SPECS, source="graded", link="a.json")
    doc = {"participants": [row]}
    assert gradebook.all_passed(doc, SPECS)
    gating_error = report("b", env_table="error")
    doc["participants"].append(
        gradebook.participant_row(gating_error, SPECS, source="graded", link="b.json")
    )
    assert not gradebook.all_passed(doc, SPECS)
    rejected = gradebook.rejected_row("c", Rejection("missing-step", {"step": "x"}), SPECS,
                                      link="c.json")  # fmt: skip
    assert not gradebook.all_passed({"participants": [row, rejected]}, SPECS)


def test_common_target_is_what_most_reports_name() -> None:
    one, two, three = report("a"), report("b"), report("c")
    three["table"] = "other"
    three["regions"] = ["eu-west-1", "us-east-1"]
    assert gradebook.common_target([one, two, three], "d", ["x"]) == (
        "demo-ecommerce-freetier",
        ["us-east-1", "eu-west-1"],
    )
    assert gradebook.common_target([], "d", ["x"]) == ("d", ["x"])
