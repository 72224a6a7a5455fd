"""While a step waits, the streams tell when an item arrives: no read capacity spent on
polling, DynamoDB Streams' 5 calls per second per shard respected (the simulator refuses
a sixth, as AWS does), and the arrival seen within one stream look."""

from __future__ import annotations

import time
from pathlib import Path

from gtcheck import templates
from gtcheck.sim import ManualClock, SimConfig, Simulator
from gtcheck.streamwatch import SHARD_INTERVAL
from tests.grading import grade, placeholders, put, step, write_workshop

LAG = 3.0


def make_sim() -> Simulator:
    return Simulator(SimConfig(lag=LAG, jitter=0.0), clock=ManualClock(start=time.time()))


def rewrite_user_just_before(sim: Simulator, participant: str) -> None:
    """A settled workshop whose user the participant has just written again: that write
    reaches the replica one lag after the check starts."""
    write_workshop(sim, participant)
    user = templates.render(templates.load(templates.USER), placeholders(participant))
    user["name"] = "Ana Again"
    put(sim, "us-east-1", user)


def test_an_arrival_is_seen_within_one_stream_look(tmp_path: Path) -> None:
    """The user written just before the check: its replication step passes one stream
    look after the lag (injected time), without waiting for a poll or a fallback read."""
    sim = make_sim()
    rewrite_user_just_before(sim, "ana")
    code, report = grade(sim, "ana", tmp_path, timeout=30)
    assert code == 0
    waited = step(report, "ex1.user_replicated")["waited_s"]
    assert LAG - 0.1 <= waited <= LAG + SHARD_INTERVAL + 0.05, waited


def test_waiting_keeps_to_the_stream_limit_and_spares_read_capacity(tmp_path: Path) -> None:
    """No GetRecords refused for going over 5 a second; item reads while waiting are the
    few that confirm arrivals, not one per key every half second."""
    sim = make_sim()
    rewrite_user_just_before(sim, "ana")
    sim.request_log.clear()
    code, _ = grade(sim, "ana", tmp_path, timeout=30)
    assert code == 0
    shards = sim.state()["get_records"]
    calls = sum(shard["calls"] for region in shards.values() for shard in region.values())
    refused = sum(shard["refused"] for region in shards.values() for shard in region.values())
    assert calls > 0  # the streams were watched
    assert refused == 0
    item_reads = sim.request_log.total(frozenset({"BatchGetItem", "GetItem"}))
    assert item_reads <= 6, item_reads  # a poll every 0.5 s for 3 s would be 12 or more


def test_streams_are_opened_before_the_first_read_of_any_kind() -> None:
    """The first read may be a Scan (a small table): a write that lands after it, even
    before the first wait, is shown by the stream, not found late by a fallback read."""
    from gtcheck import workshop
    from gtcheck.aws import Clients
    from gtcheck.converge import World
    from gtcheck.target import Target

    sim = make_sim()
    user = templates.render(templates.load(templates.USER), placeholders("ana"))
    put(sim, "us-east-1", user)
    target = Target("demo-ecommerce-freetier", sim.config.regions)
    world = World(
        Clients(target, sim.session()), timeout=30, monotonic=sim.clock.now, sleep=sim.advance
    )
    key = workshop.user_key("ana")
    world.watch(key)
    world.scan_all()  # the first read: the user is only in us-east-1
    sim.advance(LAG + 0.1)  # it arrives in eu-west-1 before anything waits
    result = world.await_identical(key, "us-east-1")
    assert result.converged
    assert result.waited_s <= SHARD_INTERVAL + 0.05, result.waited_s  # injected time
