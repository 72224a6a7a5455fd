"""A check when the environment is partly or wholly broken: one deadline, errors as pytest
errors, and a missing replica that stops only the steps that need it."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from pathlib import Path

from gtcheck import templates
from gtcheck.sim import ManualClock, SimConfig, Simulator, TableSetup
from tests.grading import grade, placeholders, put, step, update, verdicts

PRIMARY_STEPS = {"ex1.user_created", "ex3.order_created", "ex3.order_updated"}


def make_sim(**config: object) -> Simulator:
    settings = {"lag": 1.0, "jitter": 0.0, **config}
    return Simulator(SimConfig(**settings), clock=ManualClock(start=time.time()))  # type: ignore[arg-type]


def write_primary_work(sim: Simulator, participant: str) -> None:
    """What a participant can do with only the stack's us-east-1 table: user and order."""
    values = placeholders(participant)
    put(sim, "us-east-1", templates.render(templates.load(templates.USER), values))
    order = templates.render(templates.load(templates.ORDER), values)
    put(sim, "us-east-1", order)
    key = {"PK": order["PK"], "SK": order["SK"]}
    update(sim, "us-east-1", key, templates.load(templates.ORDER_UPDATE_US))


def test_missing_replica_still_grades_the_primary_steps(tmp_path: Path) -> None:
    """The table only in us-east-1: the user's and the order's steps are judged there;
    only the steps that need eu-west-1 are errors, each with the replica hint."""
    sim = make_sim(setup=TableSetup.PRIMARY)
    write_primary_work(sim, "ana")
    code, report = grade(sim, "ana", tmp_path)
    states = verdicts(report)
    assert code == 3
    for step_id in PRIMARY_STEPS:
        assert states[step_id] == "passed", (step_id, step(report, step_id)["hint"])
    assert report["score"] == 25
    for step_id in ("ex1.user_replicated", "ex2.product_created", "ex3.order_converged"):
        assert states[step_id] == "error", step_id
    assert "add the eu-west-1 replica" in step(report, "env.table")["hint"]
    assert "add the eu-west-1 replica" in step(report, "ex2.product_created")["hint"]
    assert step(report, "env.table")["cause"] == "replica-missing"
    for step_id in ("ex1.user_replicated", "ex2.product_created", "ex3.order_converged"):
        assert step(report, step_id)["cause"] == "environment", step_id
    for step_id in PRIMARY_STEPS:
        assert step(report, step_id)["cause"] is None, step_id


def test_missing_primary_table_stops_every_step(tmp_path: Path) -> None:
    """No table anywhere: nothing can be judged, every step is an error."""
    sim = make_sim(setup=TableSetup.NONE)
    code, report = grade(sim, "ana", tmp_path)
    assert code == 3
    assert set(verdicts(report).values()) == {"error"}


def test_every_read_throttled_ends_near_the_timeout(tmp_path: Path) -> None:
    """All reads throttled: retries share the run's deadline, so the run ends within a few
    seconds of --timeout (injected time) with every step an environment error."""
    sim = make_sim(throttle=1.0)
    before = sim.clock.now()
    code, report = grade(sim, "ana", tmp_path, timeout=10)
    waited = sim.clock.now() - before
    assert code == 3
    assert waited <= 10 + 5, waited
    scored = {s["id"]: s["status"] for s in report["steps"] if s["max_points"]}
    assert set(scored.values()) == {"error"}  # DescribeTable is not throttled: env steps pass
    assert {s["cause"] for s in report["steps"] if s["max_points"]} == {"environment"}


def test_environment_errors_are_pytest_errors_in_junit(tmp_path: Path) -> None:
    """JUnit XML tells infrastructure from participant mistakes: a throttled-out run has
    <error> elements and no <failure>."""
    import argparse

    from gtcheck import check, plugin
    from gtcheck.config import Runtime

    sim = make_sim(throttle=1.0)
    args = argparse.Namespace(
        participant="ana",
        product_id=None,
        endpoint_url=None,
        profile=None,
        table="demo-ecommerce-freetier",
        regions=sim.config.regions,
        timeout=5.0,
        report_dir=tmp_path,
        lang=None,
    )
    runtime = Runtime(session=sim.session(), monotonic=sim.clock.now, sleep=sim.advance)
    inject = check.Inject(runtime)
    junit = tmp_path / "junit.xml"
    argv = [*check.pytest_args(args), f"--junitxml={junit}"]
    import pytest

    with check.own_pytest():
        pytest.main(argv, plugins=[plugin, inject])
    cases = ET.parse(junit).getroot().iter("testcase")
    outcomes = {
        case.get("name"): [child.tag for child in case if child.tag in ("failure", "error")]
        for case in cases
    }
    # CloudWatch is not throttled: the info step honestly fails for want of datapoints.
    failures = {name: tags for name, tags in outcomes.items() if "failure" in tags}
    assert set(failures) <= {"test_replication_latency"}, failures
    assert sum("error" in tags for tags in outcomes.values()) >= 11
    assert inject.grader.exit_code() == 3
