"""`gtcheck check` against the simulator, time injected: verdicts, hints, exit codes."""

from __future__ import annotations

import time
from pathlib import Path

import boto3
import pytest

from gtcheck import templates
from gtcheck.sim import ManualClock, SimConfig, Simulator, TableSetup
from gtcheck.sim.gateway import error_response
from gtcheck.sim.inprocess import InProcessDoor
from tests.grading import grade, placeholders, put, step, update, verdicts, write_workshop

REPLICATION_STEPS = {
    "ex1.user_replicated", "ex2.product_replicated", "ex3.order_converged",
    "ex4.gsi1_category", "ex4.gsi2_status", "ex5.timing_item",
}  # fmt: skip
GRADED = {
    "ex1.user_created", "ex1.user_replicated", "ex2.product_created", "ex2.product_replicated",
    "ex3.order_created", "ex3.order_updated", "ex3.order_converged", "ex3.lww_coherent",
    "ex4.gsi1_category", "ex4.gsi2_status", "ex5.timing_item",
}  # fmt: skip


def make_sim(**config: object) -> Simulator:
    """Two regions, 1 s lag, no jitter; the clock starts now so CloudWatch windows fit."""
    settings = {"lag": 1.0, "jitter": 0.0, **config}
    return Simulator(SimConfig(**settings), clock=ManualClock(start=time.time()))  # type: ignore[arg-type]


@pytest.fixture
def sim() -> Simulator:
    return make_sim()


def test_complete_participant_scores_full_marks(sim: Simulator, tmp_path: Path) -> None:
    """Every step done as the page says: 100 / 100, every step passed, exit 0."""
    write_workshop(sim, "ana")
    code, report = grade(sim, "ana", tmp_path)
    assert code == 0
    assert report["schema"] == "gtcheck.report/1"
    assert (report["score"], report["max_score"]) == (100, 100)
    assert set(verdicts(report).values()) == {"passed"}
    assert report["participant"] == "ana"
    assert report["regions"] == ["us-east-1", "eu-west-1"]
    assert step(report, "ex3.lww_coherent")["hint"].startswith("eu-west-1's update won")
    assert step(report, "mon.replication_latency")["evidence"]["eu-west-1"]["samples"] >= 1


def test_check_never_writes(sim: Simulator, tmp_path: Path) -> None:
    """A check is read-only: the simulator receives zero write requests while it runs."""
    write_workshop(sim, "ana")
    sim.request_log.clear()
    grade(sim, "ana", tmp_path)
    assert sim.request_log.reads() > 0
    assert sim.request_log.writes() == 0
    assert sim.request_log.total(frozenset({"UpdateTable", "CreateTable", "DeleteTable"})) == 0


def test_nothing_done_scores_zero_without_waiting(sim: Simulator, tmp_path: Path) -> None:
    """An empty table fails fast: score 0, exit 1, and no replication wait at all."""
    before, started = sim.clock.now(), time.monotonic()
    code, report = grade(sim, "ana", tmp_path, timeout=120)
    assert code == 1
    assert report["score"] == 0
    assert sim.clock.now() - before < 1.0  # injected time: nothing was waited for
    assert time.monotonic() - started < 15
    created = step(report, "ex1.user_created")
    assert (created["status"], created["cause"]) == ("failed", "not-found")
    assert "USER#global-user-ana / PROFILE is not in us-east-1" in created["hint"]
    replicated = step(report, "ex1.user_replicated")
    assert (replicated["status"], replicated["cause"]) == ("skipped", "prerequisite")
    assert "needs ex1.user_created" in replicated["hint"]
    assert step(report, "ex2.product_created")["cause"] == "not-found"
    assert step(report, "ex5.timing_item")["cause"] == "not-found"


def test_paused_replication_fails_pending_steps_within_one_timeout(
    sim: Simulator, tmp_path: Path
) -> None:
    """With replication stopped, replication steps fail as still pending; one timeout."""
    sim.pause("us-east-1", "eu-west-1")
    sim.pause("eu-west-1", "us-east-1")
    write_workshop(sim, "ana", settle=False)
    before = sim.clock.now()
    code, report = grade(sim, "ana", tmp_path, timeout=30)
    waited = sim.clock.now() - before
    assert 30 <= waited < 33, waited  # one timeout for the whole run, not one per step
    assert code == 1
    states = verdicts(report)
    for step_id in REPLICATION_STEPS:
        assert states[step_id] == "failed", step_id
        assert "still pending" in step(report, step_id)["hint"], step_id
        # The order's two updates made a copy in each region: they differ, none is missing.
        cause = "attributes-differ" if step_id == "ex3.order_converged" else "pending"
        assert step(report, step_id)["cause"] == cause, step_id
    for step_id in (
        "ex1.user_created",
        "ex2.product_created",
        "ex3.order_created",
        "ex3.order_updated",
    ):
        assert states[step_id] == "passed", step_id
    assert states["ex3.lww_coherent"] == "skipped"
    assert step(report, "ex3.lww_coherent")["cause"] == "prerequisite"


def test_throttled_reads_give_the_same_verdicts(tmp_path: Path) -> None:
    """30% of reads throttled: retries with backoff give the same full marks."""
    sim = make_sim(throttle=0.3, seed=7)
    write_workshop(sim, "ana")
    code, report = grade(sim, "ana", tmp_path)
    assert (code, report["score"]) == (0, 100)


def test_unreachable_endpoint_is_an_environment_error(tmp_path: Path, capsys) -> None:
    """Nothing listens at the endpoint: exit 3, every step `error`, one line on stderr."""
    import argparse

    from gtcheck import check

    args = argparse.Namespace(
        participant="ana",
        product_id=None,
        endpoint_url="http://127.0.0.1:9",
        profile=None,
        table="demo-ecommerce-freetier",
        regions=("us-east-1", "eu-west-1"),
        timeout=5.0,
        report_dir=tmp_path,
    )
    code, grader = check.run(args, quiet=True)
    assert code == 3
    assert set(verdicts(grader.report()).values()) == {"error"}
    assert {s["cause"] for s in grader.report()["steps"]} == {"environment"}
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("gtcheck check: error: cannot reach the endpoint")


def test_access_denied_is_an_environment_error(sim: Simulator, tmp_path: Path) -> None:
    """Every call denied: exit 3 and `error`, never `failed`: no points lost to IAM."""

    def deny(environ, start_response):
        response = error_response("AccessDeniedException", "User is not authorized")
        start_response(f"{response.status} Denied", response.headers)
        return [response.body]

    denied = boto3.Session(aws_access_key_id="a", aws_secret_access_key="b")
    denied.events.register_first("before-send", InProcessDoor(deny))
    code, report = grade(sim, "ana", tmp_path, session=denied)
    assert code == 3
    assert set(verdicts(report).values()) == {"error"}
    assert "access denied" in step(report, "env.table")["hint"]
    assert {s["cause"] for s in report["steps"]} == {"environment"}


def test_missing_credentials_is_an_environment_error(
    sim: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No credentials anywhere: exit 3 with a hint on how to configure them."""
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    session = boto3.Session()
    session.events.register_first("before-send", InProcessDoor(sim.app))
    code, report = grade(sim, "ana", tmp_path, session=session)
    assert code == 3
    assert "no AWS credentials" in step(report, "env.table")["hint"]


def test_missing_table_is_an_environment_error(tmp_path: Path) -> None:
    """No table at all: exit 3, and the hint says to deploy the stack."""
    sim = make_sim(setup=TableSetup.NONE)
    code, report = grade(sim, "ana", tmp_path)
    assert code == 3
    assert "does not exist in us-east-1" in step(report, "env.table")["hint"]
    assert set(verdicts(report).values()) == {"error"}
    assert {s["cause"] for s in report["steps"]} == {"environment"}  # no replica to miss


def test_missing_replica_says_so_plainly(tmp_path: Path) -> None:
    """Only the stack's us-east-1 table: the hint says to add the eu-west-1 replica."""
    sim = make_sim(setup=TableSetup.PRIMARY)
    code, report = grade(sim, "ana", tmp_path)
    assert code == 3
    hint = step(report, "env.table")["hint"]
    assert "does not exist in eu-west-1" in hint
    assert "add the eu-west-1 replica" in hint
    assert step(report, "env.table")["cause"] == "replica-missing"
    assert step(report, "env.replicas")["cause"] == "environment"  # not judged: env.table


def test_number_stored_as_string_costs_the_attribute_points(sim: Simulator, tmp_path: Path) -> None:
    """A price typed in quotes is a string: 5 of 10 points and a hint to drop the quotes."""
    write_workshop(sim, "ana")
    product = templates.render(templates.load(templates.PRODUCT), placeholders("ana"))
    product["price"] = "299"
    put(sim, "eu-west-1", product)
    sim.advance(2)
    _, report = grade(sim, "ana", tmp_path)
    created = step(report, "ex2.product_created")
    assert (created["status"], created["points"]) == ("failed", 5)
    assert created["cause"] == "number-as-string"
    assert 'price is S "299"' in created["hint"]
    assert "remove the quotes" in created["hint"]
    assert step(report, "ex2.product_replicated")["status"] == "passed"


def test_user_written_in_the_wrong_region_is_told_by_the_streams(
    sim: Simulator, tmp_path: Path
) -> None:
    """Written in eu-west-1 and replicated: the streams show where it was written first."""
    user = templates.render(templates.load(templates.USER), placeholders("ana"))
    put(sim, "eu-west-1", user)
    sim.advance(2)
    _, report = grade(sim, "ana", tmp_path)
    created = step(report, "ex1.user_created")
    assert (created["status"], created["points"]) == ("failed", 5)
    assert created["cause"] == "wrong-region"
    assert "written in eu-west-1" in created["hint"]
    assert step(report, "ex1.user_replicated")["status"] == "passed"


def test_near_miss_key_is_named(sim: Simulator, tmp_path: Path) -> None:
    """A key with a typo is found by the bounded scan and named in the hint."""
    user = templates.render(templates.load(templates.USER), placeholders("ana"))
    user["PK"] = "USER#global-usr-ana"
    put(sim, "us-east-1", user)
    sim.advance(2)
    _, report = grade(sim, "ana", tmp_path)
    hint = step(report, "ex1.user_created")["hint"]
    assert "near miss: USER#global-usr-ana / PROFILE in" in hint
    assert "typo" in hint
    assert step(report, "ex1.user_created")["cause"] == "near-miss-key"


def test_missing_gsi_keys_explain_the_empty_query(sim: Simulator, tmp_path: Path) -> None:
    """An order without GSI2 keys: the GSI2 step says the query cannot find it, and why."""
    write_workshop(sim, "ana")
    order = templates.render(templates.load(templates.ORDER), placeholders("ana"))
    del order["GSI2PK"], order["GSI2SK"]
    put(sim, "us-east-1", order)
    sim.advance(2)
    _, report = grade(sim, "ana", tmp_path)
    assert step(report, "ex3.order_created")["status"] == "failed"
    assert step(report, "ex3.order_created")["cause"] == "missing-gsi-keys"
    gsi = step(report, "ex4.gsi2_status")
    assert (gsi["status"], gsi["cause"]) == ("failed", "missing-gsi-keys")
    assert "has no GSI2PK and GSI2SK" in gsi["hint"]


def test_mixed_conflict_write_is_not_coherent(sim: Simulator, tmp_path: Path) -> None:
    """200 with us-east-1 is two writes mixed: lww_coherent fails and says what goes together."""
    write_workshop(sim, "ana")
    key = {"PK": "USER#global-user-ana", "SK": "ORDER#conflict-test"}
    update(sim, "eu-west-1", key, {"total_amount": 200, "last_updated_region": "us-east-1"})
    sim.advance(2)
    _, report = grade(sim, "ana", tmp_path)
    coherent = step(report, "ex3.lww_coherent")
    assert (coherent["status"], coherent["cause"]) == ("failed", "mixed-write")
    assert "mixes two writes" in coherent["hint"]
    assert step(report, "ex3.order_converged")["status"] == "passed"


def test_ambiguous_product_names_candidates(sim: Simulator, tmp_path: Path) -> None:
    """Two products carry the name: the hint lists them and asks for --product-id."""
    write_workshop(sim, "ana")
    for product_id in ("ana-1", "ana-2"):
        product = templates.render(
            templates.load(templates.PRODUCT), placeholders("ana", product_id)
        )
        put(sim, "eu-west-1", product)
    sim.advance(2)
    _, report = grade(sim, "ana", tmp_path)
    hint = step(report, "ex2.product_created")["hint"]
    assert step(report, "ex2.product_created")["cause"] == "ambiguous-product"
    assert "PRODUCT#eu-product-ana-1" in hint
    assert "--product-id" in hint
    _, chosen = grade(sim, "ana", tmp_path, product_id="ana-2")
    assert step(chosen, "ex2.product_created")["status"] == "passed"


def test_timing_item_of_nobody_in_particular(sim: Simulator, tmp_path: Path) -> None:
    """Two participants share the table and the timing item has no name: say so."""
    write_workshop(sim, "ana")
    write_workshop(sim, "bo")
    timing = {
        "PK": "TEST#timing-1",
        "SK": "REPLICATION",
        "created_at": "x",
        "source_region": "us-east-1",
        "test_purpose": "timing_analysis",
    }
    sim.client("dynamodb", "us-east-1").delete_item(
        TableName="demo-ecommerce-freetier",
        Key=templates.to_attributes({"PK": "TEST#timing-20261126T150000-ana", "SK": "REPLICATION"}),
    )
    sim.client("dynamodb", "us-east-1").delete_item(
        TableName="demo-ecommerce-freetier",
        Key=templates.to_attributes({"PK": "TEST#timing-20261126T150000-bo", "SK": "REPLICATION"}),
    )
    put(sim, "us-east-1", timing)
    sim.advance(2)
    _, report = grade(sim, "ana", tmp_path)
    hint = step(report, "ex5.timing_item")["hint"]
    assert "belong to nobody in particular" in hint
    assert step(report, "ex5.timing_item")["cause"] == "not-found"


def test_sole_ownership_belongs_to_the_profiles_owner_only(sim: Simulator, tmp_path: Path) -> None:
    """One profile in the table, ana's: her unnamed product and timing item are hers, and
    nobody else's. Checking carol against ana's table gives carol none of ana's work."""
    values = templates.Placeholders(  # a product id and timing key without her name
        participant="ana", product_id="x1", timestamp="20261126T150000",
        exact_timestamp="2026-11-26T15:00:00.000Z",
    )  # fmt: skip
    put(sim, "us-east-1", templates.render(templates.load(templates.USER), values))
    put(sim, "eu-west-1", templates.render(templates.load(templates.PRODUCT), values))
    put(sim, "us-east-1", templates.render(templates.load(templates.TIMING), values))
    sim.advance(2)
    _, ana = grade(sim, "ana", tmp_path)
    assert step(ana, "ex2.product_created")["status"] == "passed"
    assert step(ana, "ex5.timing_item")["status"] == "passed"
    _, carol = grade(sim, "carol", tmp_path)
    assert step(carol, "ex2.product_created")["status"] == "failed"
    assert step(carol, "ex5.timing_item")["status"] == "failed"


def test_hostile_item_contents_are_graded_not_crashed_on(sim: Simulator, tmp_path: Path) -> None:
    """Wrong types, a huge attribute and odd unicode: the run completes with hints."""
    name = "Zoë <b>🚀</b>"
    user = templates.render(templates.load(templates.USER), placeholders(name))
    user["name"] = 42
    user["email"] = True
    user["created_timestamp"] = "<script>alert(1)</script>" + "x" * 300_000
    put(sim, "us-east-1", user)
    sim.advance(2)
    code, report = grade(sim, name, tmp_path)
    assert code == 1
    created = step(report, "ex1.user_created")
    assert (created["status"], created["points"]) == ("failed", 5)
    assert "name is N '42'" in created["hint"]
    assert "email is BOOL True" in created["hint"]
    assert created["cause"] == "wrong-value"
    assert report["participant"] == name
    written = sorted(path.name for path in tmp_path.iterdir())
    assert [Path(name).suffix for name in written] == [".html", ".json"]
    assert Path(written[0]).stem == Path(written[1]).stem


def test_three_regions_are_all_checked(tmp_path: Path) -> None:
    """A third region is checked like the replica: a step passes only when it agrees too."""
    sim = make_sim(regions=("us-east-1", "eu-west-1", "ap-southeast-1"))
    write_workshop(sim, "ana")
    code, report = grade(sim, "ana", tmp_path)
    assert (code, report["score"]) == (0, 100)
    regions = step(report, "ex1.user_replicated")["evidence"]["regions"]
    assert set(regions) == {"us-east-1", "eu-west-1", "ap-southeast-1"}


def test_reports_are_named_safely(sim: Simulator, tmp_path: Path) -> None:
    """A name with a path in it never writes outside the report folder."""
    reports = tmp_path / "reports"
    _, report = grade(sim, "../escape", reports)
    assert report["participant"] == "../escape"
    assert {p.parent for p in reports.iterdir()} == {reports}
    assert not (tmp_path / "escape.json").exists()


def test_watch_stops_by_itself_once_every_step_passes() -> None:
    """--watch re-runs on its interval (time injected) and stops at the first full pass."""
    import argparse

    from gtcheck.check import watch

    codes = iter([1, 1, 0, 1])
    slept: list[float] = []
    result = watch(
        argparse.Namespace(every=10.0), lambda: next(codes), sleep=slept.append, redraw=lambda: None
    )
    assert result == 0
    assert slept == [10.0, 10.0]


def test_watch_sees_the_participant_finish(sim: Simulator, tmp_path: Path) -> None:
    """A participant finishing mid-watch: the watch ends with exit 0 on its own."""
    import argparse

    from gtcheck.check import watch

    runs: list[int] = []

    def check_once() -> int:
        code, _ = grade(sim, "ana", tmp_path, timeout=5)
        runs.append(code)
        return code

    def participant_works(seconds: float) -> None:
        write_workshop(sim, "ana")
        sim.advance(seconds)

    code = watch(
        argparse.Namespace(every=10.0),
        check_once,
        sleep=participant_works,
        redraw=lambda: None,
        max_rounds=5,
    )
    assert code == 0
    assert runs == [1, 0]
