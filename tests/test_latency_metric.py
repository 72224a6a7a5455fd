"""CloudWatch's ReplicationLatency, read ahead in a class's first look and asked again by
the step when that early answer was empty: a fresh table's first replication may happen
while the run waits."""

from __future__ import annotations

import time

from gtcheck.aws import Clients
from gtcheck.converge import World
from gtcheck.sim import ManualClock, SimConfig, Simulator
from gtcheck.target import Target
from tests.grading import TABLE, write_workshop

US, EU = "us-east-1", "eu-west-1"


def fresh_world() -> tuple[Simulator, World]:
    sim = Simulator(SimConfig(lag=1.0, jitter=0.0), clock=ManualClock(start=time.time()))
    target = Target(TABLE, (US, EU))
    world = World(Clients(target, sim.session()), timeout=30, monotonic=sim.clock.now)
    return sim, world


def test_an_empty_early_answer_is_asked_again_when_the_step_wants_it() -> None:
    sim, world = fresh_world()
    assert world.replication_latency(EU, ahead=True) == []  # nothing has replicated yet
    write_workshop(sim, "ana")  # replicated while the run waits
    points = world.replication_latency(EU)
    assert points
    assert points[0]["SampleCount"] >= 1
    asked = world.requests["get_metric_statistics"]
    assert world.replication_latency(EU) == points  # then read once for the table
    assert world.requests["get_metric_statistics"] == asked


def test_a_step_s_empty_answer_is_final() -> None:
    _sim, world = fresh_world()
    assert world.replication_latency(EU) == []
    asked = world.requests["get_metric_statistics"]
    assert world.replication_latency(EU) == []
    assert world.requests["get_metric_statistics"] == asked
