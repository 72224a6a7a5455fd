"""Cause ids: every step that did not pass names why, from the diagnosis as data, the same
in every language (docs/reports.md#causes)."""

from __future__ import annotations

import gettext
import time
from pathlib import Path
from typing import Any

import pytest

from gtcheck import html_report, i18n, templates
from gtcheck.causes import PRECEDENCE, Cause, Diagnosis, diagnosis, most_important
from gtcheck.items import Exactly, OfType, OneOf, Timestamp, problems
from gtcheck.rubric import StepSpec
from gtcheck.sim import ManualClock, SimConfig, Simulator, TableSetup
from gtcheck.verdict import Step
from tests.grading import grade, placeholders, put, step

# The contract, as docs/reports.md and RUBRIC.md list it: spelled out, not read from the code.
CONTRACT = {
    "not-found", "wrong-region", "near-miss-key", "unreplaced-placeholder", "number-as-string",
    "missing-attribute", "wrong-value", "missing-gsi-keys", "ambiguous-product",
    "replica-missing", "replica-not-active", "pending", "attributes-differ", "mixed-write",
    "prerequisite", "environment",
}  # fmt: skip

# What the mixed state below gets wrong, step by step; every other step passes.
MIXED_CAUSES = {
    "ex1.user_created": "wrong-region",  # and a wrong email: the region comes first
    "ex2.product_created": "number-as-string",
    "ex3.order_created": "missing-gsi-keys",
    "ex3.order_updated": "missing-attribute",  # no update_timestamp, total still 100
    "ex3.lww_coherent": "prerequisite",
    "ex4.gsi2_status": "missing-gsi-keys",
    "ex5.timing_item": "not-found",
}


def make_sim(**config: Any) -> Simulator:
    settings = {"lag": 1.0, "jitter": 0.0, **config}
    return Simulator(SimConfig(**settings), clock=ManualClock(start=time.time()))


def write_mixed(sim: Simulator, participant: str) -> None:
    """Several mistakes at once: the user in the replica with a wrong email, the price in
    quotes, an order without GSI2 keys and never updated, no timing item."""
    values = placeholders(participant)
    user = templates.render(templates.load(templates.USER), values)
    user["email"] = "someone@else.com"
    put(sim, "eu-west-1", user)
    product = templates.render(templates.load(templates.PRODUCT), values)
    product["price"] = "299"
    put(sim, "eu-west-1", product)
    order = templates.render(templates.load(templates.ORDER), values)
    del order["GSI2PK"], order["GSI2SK"]
    put(sim, "us-east-1", order)
    sim.advance(2)


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    sim = make_sim()
    write_mixed(sim, "ana")
    _, report = grade(sim, "ana", tmp_path_factory.mktemp("mixed"))
    return report


def causes_of(report: dict[str, Any]) -> dict[str, str | None]:
    return {s["id"]: s["cause"] for s in report["steps"]}


def test_the_cause_ids_are_the_contract() -> None:
    """The code's ids are exactly the documented ones, each placed once in the precedence."""
    assert {str(cause) for cause in Cause} == CONTRACT
    assert sorted(PRECEDENCE) == sorted(Cause)


def test_every_step_of_a_mixed_report_has_a_cause_exactly_when_it_did_not_pass(
    mixed: dict[str, Any],
) -> None:
    """`cause` is on every step: an id of the contract when not passed, null when passed."""
    for found in mixed["steps"]:
        assert "cause" in found, found["id"]
        if found["status"] == "passed":
            assert found["cause"] is None, found
        else:
            assert found["cause"] in CONTRACT, found
    assert {k: v for k, v in causes_of(mixed).items() if v is not None} == MIXED_CAUSES


def test_several_problems_keep_every_cause_in_the_evidence(mixed: dict[str, Any]) -> None:
    """Wrong region and a wrong email: the region names the step, both are in evidence."""
    user = step(mixed, "ex1.user_created")
    assert [c["cause"] for c in user["evidence"]["causes"]] == ["wrong-region", "wrong-value"]
    assert user["evidence"]["causes"][1]["attribute"] == "email"


class Nonsense(gettext.NullTranslations):
    """Every message translated into the same words, so no hint says what went wrong."""

    def gettext(self, message: str) -> str:
        return "xyzzy"

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return "xyzzy"


def test_causes_never_come_from_hint_text(
    mixed: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Hints in Vietnamese, or in nonsense, give the very causes English hints give."""
    sim = make_sim()
    write_mixed(sim, "ana")
    _, vietnamese = grade(sim, "ana", tmp_path / "vi", lang="vi")
    assert vietnamese["lang"] == "vi"
    assert step(vietnamese, "ex1.user_created")["hint"] != step(mixed, "ex1.user_created")["hint"]
    assert causes_of(vietnamese) == causes_of(mixed)
    monkeypatch.setattr(i18n, "translations", lambda lang: Nonsense())
    _, nonsense = grade(sim, "ana", tmp_path / "nonsense")
    hints = [s["hint"] for s in nonsense["steps"] if s["status"] == "failed"]
    assert {word for hint in hints for word in hint.replace(".", " ").split()} == {"xyzzy"}
    assert causes_of(nonsense) == causes_of(mixed)


def test_a_replica_still_being_created_is_not_missing(tmp_path: Path) -> None:
    """A replica added a moment ago is CREATING: replica-not-active, and the hint says to
    wait for it to be created, not to add it."""
    sim = make_sim(setup=TableSetup.PRIMARY, replica_create_seconds=600.0)
    sim.client("dynamodb", "us-east-1").update_table(
        TableName="demo-ecommerce-freetier",
        ReplicaUpdates=[{"Create": {"RegionName": "eu-west-1"}}],
    )
    code, report = grade(sim, "ana", tmp_path, timeout=5)
    table = step(report, "env.table")
    assert code == 3
    assert (table["status"], table["cause"]) == ("error", "replica-not-active")
    assert "still being created" in table["hint"]
    assert "add the" not in table["hint"]


EMAIL = Exactly("S", "ana@global.com")


@pytest.mark.parametrize(
    ("matcher", "value", "cause"),
    [
        (EMAIL, None, Cause.MISSING_ATTRIBUTE),
        (EMAIL, {"S": "bo@global.com"}, Cause.WRONG_VALUE),
        (EMAIL, {"S": "[your-name]@global.com"}, Cause.UNREPLACED_PLACEHOLDER),
        (EMAIL, {"S": "[tên-của-bạn]@global.com"}, Cause.UNREPLACED_PLACEHOLDER),
        (EMAIL, {"N": "1"}, Cause.WRONG_VALUE),
        (OfType("N"), {"S": "299"}, Cause.NUMBER_AS_STRING),
        (OfType("S"), {"S": " "}, Cause.WRONG_VALUE),
        (Timestamp(), {"S": "[exact-timestamp]"}, Cause.UNREPLACED_PLACEHOLDER),
        (Timestamp(), {"S": "yesterday"}, Cause.WRONG_VALUE),
        (OneOf("N", ("150", "200")), {"N": "100"}, Cause.WRONG_VALUE),
        (OneOf("N", ("150", "200")), None, Cause.MISSING_ATTRIBUTE),
    ],
)  # fmt: skip
def test_matchers_report_their_problem_as_a_cause(matcher: Any, value: Any, cause: Cause) -> None:
    problem = matcher.problem(value)
    assert problem is not None
    assert problem.cause is cause


def test_a_missing_index_key_is_named_as_such() -> None:
    """GSI2PK absent keeps the item out of GSI2: missing-gsi-keys, not a plain attribute."""
    found = problems({"user_id": {"S": "x"}}, {"GSI2PK": OfType("S"), "status": OfType("S")})
    assert [(p.attribute, p.cause) for p in found] == [
        ("GSI2PK", Cause.MISSING_GSI_KEYS),
        ("status", Cause.MISSING_ATTRIBUTE),
    ]
    assert str(found[0]).startswith("GSI2PK is missing")


def test_the_most_important_cause_names_the_step() -> None:
    """Identity before region, region before contents, contents before replication."""
    found = [
        diagnosis(Cause.ATTRIBUTES_DIFFER),
        diagnosis(Cause.WRONG_VALUE, attribute="email"),
        diagnosis(Cause.UNREPLACED_PLACEHOLDER, attribute="GSI1PK"),
        diagnosis(Cause.WRONG_REGION),
    ]
    assert most_important(found).cause is Cause.WRONG_REGION
    assert most_important(found[:3]).cause is Cause.UNREPLACED_PLACEHOLDER
    assert most_important([diagnosis(Cause.PENDING), found[0]]).cause is Cause.PENDING


def test_a_failure_cannot_go_without_a_cause() -> None:
    """`Step.fail` records its cause; leaving it out is a TypeError, not a silent null."""
    spec = StepSpec(id="ex1.user_created", points=10, exercise=1, title="t")
    failing = Step(spec)
    with pytest.raises(pytest.fail.Exception):
        failing.fail("wrong", cause=[diagnosis(Cause.WRONG_VALUE), diagnosis(Cause.NOT_FOUND)])
    assert failing.diagnosis == Diagnosis(Cause.NOT_FOUND)
    with pytest.raises(TypeError):
        Step(spec).fail("wrong")  # type: ignore[call-arg]


def test_the_html_row_shows_the_cause_escaped() -> None:
    row = {
        "id": "ex1.user_created", "exercise": 1, "points": 5, "max_points": 10,
        "status": "failed", "waited_s": 0.0, "hint": "<b>hint</b>", "cause": "<i>x</i>",
    }  # fmt: skip
    hint_cell = html_report.cells(row)[-1]
    assert '<small class="gt-cause">&lt;i&gt;x&lt;/i&gt;</small>' in hint_cell
    assert "&lt;b&gt;hint&lt;/b&gt;" in hint_cell
    assert "gt-cause" not in html_report.cells({**row, "cause": None})[-1]
