"""`gtcheck check` begins its first look on a thread while pytest loads: the steps find
those reads done and give the same verdicts, nothing is read twice, and a broken
environment met early is still reported by the steps that need it (time injected)."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from gtcheck import check, check_command, templates, workshop
from gtcheck.aws import Clients
from gtcheck.config import Runtime
from gtcheck.converge import World
from gtcheck.headstart import RUNTIME_KEY, HeadStart
from gtcheck.sim import ManualClock, SimConfig, Simulator, TableSetup
from gtcheck.target import Target
from tests.grading import TABLE, placeholders, put, verdicts, write_workshop

FIRST_LOOK = frozenset({"DescribeTable", "Scan"})


def make_sim(**config: Any) -> Simulator:
    settings = {"lag": 1.0, "jitter": 0.0, **config}
    return Simulator(SimConfig(**settings), clock=ManualClock(start=time.time()))


def grade(sim: Simulator, report_dir: Path, *, early: bool) -> tuple[int, dict[str, Any]]:
    """`gtcheck check` of ana in process, with or without the head start."""
    args = argparse.Namespace(
        participant="ana",
        product_id=None,
        endpoint_url=None,
        profile=None,
        table=TABLE,
        regions=sim.config.regions,
        timeout=30.0,
        report_dir=report_dir,
        lang=None,
    )
    runtime = Runtime(session=sim.session(), monotonic=sim.clock.now, sleep=sim.advance)
    if early:
        runtime.extra[RUNTIME_KEY] = check_command.head_start(args, runtime)
    code, grader = check.run(args, runtime, quiet=True)
    assert grader is not None
    return code, json.loads(grader.report_json_path().read_text())


def test_a_head_start_gives_the_same_report_and_reads_nothing_twice(tmp_path: Path) -> None:
    sim = make_sim()
    write_workshop(sim, "ana")
    _, plain = grade(sim, tmp_path / "plain", early=False)
    sim.request_log.clear()
    code, early = grade(sim, tmp_path / "early", early=True)
    assert code == 0
    assert early["steps"] == plain["steps"]
    counts = sim.request_log.counts()
    for region in sim.config.regions:
        for operation in FIRST_LOOK:
            assert counts[(region, "dynamodb", operation)] == 1, (region, operation)
        assert counts[(region, "dynamodb", "DescribeStream")] == 1, region
        assert counts[(region, "dynamodb", "Query")] == 2, region  # GSI1 and GSI2, once


def test_a_missing_replica_met_early_is_reported_by_the_steps_that_need_it(
    tmp_path: Path,
) -> None:
    sim = make_sim(setup=TableSetup.PRIMARY)
    values = placeholders("ana")
    put(sim, "us-east-1", templates.render(templates.load(templates.USER), values))
    plain_code, plain = grade(sim, tmp_path / "plain", early=False)
    early_code, early = grade(sim, tmp_path / "early", early=True)
    assert early_code == plain_code == 3
    assert verdicts(early) == verdicts(plain)
    assert [s["hint"] for s in early["steps"]] == [s["hint"] for s in plain["steps"]]


def test_it_is_handed_over_once_and_only_for_its_own_target() -> None:
    sim = make_sim()
    target = Target(TABLE, sim.config.regions)
    world = World(Clients(target, sim.session()), timeout=30, monotonic=sim.clock.now)
    early = HeadStart(world)
    assert early.take(Target("another-table", sim.config.regions)) is None
    assert early.take(target) is world
    assert early.take(target) is None


def test_each_region_s_stream_is_open_before_its_scan() -> None:
    """A write that lands after the first look's Scan is shown by the stream."""
    sim = make_sim()
    put(sim, "us-east-1", templates.render(templates.load(templates.USER), placeholders("ana")))
    target = Target(TABLE, sim.config.regions)
    world = World(
        Clients(target, sim.session()), timeout=30, monotonic=sim.clock.now, sleep=sim.advance
    )
    world.prepare()
    assert set(world.snapshot.scans) == set(sim.config.regions)
    assert world.reader.histories() is not None
    key = workshop.user_key("ana")
    world.watch(key)
    assert world.copies(key)["eu-west-1"] is None  # answered by the scan: not yet there
    sim.advance(1.1)  # it arrives in eu-west-1 before anything waits
    result = world.await_identical(key, "us-east-1")
    assert result.converged
    assert sim.request_log.total(frozenset({"Scan"})) == 2


def world_of(sim: Simulator) -> World:
    target = Target(TABLE, sim.config.regions)
    return World(
        Clients(target, sim.session()), timeout=30, monotonic=sim.clock.now, sleep=sim.advance
    )


def test_a_write_the_history_shows_after_the_scan_is_re_read_at_once() -> None:
    """The user reaches eu-west-1 between the first look's Scan and its history read:
    the wait re-reads it straight away, without waiting for the stream's next look."""
    sim = make_sim()
    put(sim, "us-east-1", templates.render(templates.load(templates.USER), placeholders("ana")))
    world = world_of(sim)
    key = workshop.user_key("ana")
    world.scan_all()
    sim.advance(1.1)  # replicated after the scan
    world.histories()
    world.watch(key)
    assert world.copies(key)["eu-west-1"] is None
    sim.request_log.clear()
    result = world.await_identical(key, "us-east-1")
    assert result.converged
    assert result.waited_s == 0.0  # injected time: no sleep at all
    assert sim.request_log.total(frozenset({"GetRecords"})) == 0


def test_what_the_scan_already_holds_is_not_re_read() -> None:
    sim = make_sim()
    write_workshop(sim, "ana")
    world = world_of(sim)
    world.scan_all()
    world.histories()
    shown = {key for region, key in world.snapshot.stream_seen}
    assert workshop.user_key("ana") not in shown
    assert shown == set()


def test_an_index_a_later_step_expects_is_queried_when_its_item_arrives() -> None:
    """While the user's replication is awaited, the product reaches us-east-1 too: its
    GSI1 partition there is queried then, so exercise 4's wait finds it with no query."""
    sim = make_sim()
    values = placeholders("ana")
    put(sim, "us-east-1", templates.render(templates.load(templates.USER), values))
    put(sim, "eu-west-1", templates.render(templates.load(templates.PRODUCT), values))
    world = world_of(sim)
    world.prepare(workshop.FIRST_LOOK_INDEXES)
    user, product = workshop.user_key("ana"), workshop.product_key("ana")
    world.watch(user, product)
    world.expect_in_index("GSI1", workshop.CATEGORY, product)
    assert product not in world.index_keys("us-east-1", "GSI1", workshop.CATEGORY)
    sim.advance(1.1)  # both replicated
    assert world.await_identical(user, "us-east-1").converged
    sim.request_log.clear()
    result = world.await_in_index("GSI1", workshop.CATEGORY, product)
    assert result.converged
    assert result.waited_s == 0.0
    assert sim.request_log.total(frozenset({"Query"})) == 0


def test_a_second_first_look_reads_nothing() -> None:
    """The grading fixtures ask every table for its first look, the head start may already
    have made it: the second asks nothing of AWS."""
    sim = make_sim()
    write_workshop(sim, "ana")
    world = world_of(sim)
    world.prepare(workshop.FIRST_LOOK_INDEXES)
    made = sum(sim.request_log.counts().values())
    world.prepare(workshop.FIRST_LOOK_INDEXES)
    assert made > 0
    assert sum(sim.request_log.counts().values()) == made
