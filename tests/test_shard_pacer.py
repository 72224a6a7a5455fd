"""The shard pacer keeps GetRecords inside DynamoDB Streams' 5 calls per second per shard,
close to that limit, with a margin for calls that reach the service unevenly (time
injected; the simulator's own limiter judges)."""

from __future__ import annotations

import random

from gtcheck.sim.streamlimit import GetRecordsLimit
from gtcheck.streamwatch import CALLS_PER_SECOND, LIMIT_MARGIN_S, SHARD_INTERVAL, ShardPacer


def eager_calls(seconds: float, step: float = 0.001) -> list[float]:
    """When a reader that calls whenever the pacer lets it would call, over `seconds`."""
    now = 0.0
    pacer = ShardPacer(lambda: now)
    calls = []
    while now < seconds:
        if pacer.wait_for("shard") == 0:
            pacer.mark("shard")
            calls.append(now)
        now += step
    return calls


def test_six_calls_never_fit_in_one_second_even_with_the_margin_spent() -> None:
    calls = eager_calls(20.0)
    spans = [later - first for first, later in zip(calls, calls[CALLS_PER_SECOND:], strict=False)]
    assert min(spans) >= 1.0 + LIMIT_MARGIN_S - 1e-6


def test_it_reads_close_to_the_limit() -> None:
    calls = eager_calls(20.0)
    assert len(calls) / 20.0 >= CALLS_PER_SECOND * 0.9
    assert SHARD_INTERVAL <= 0.25


def test_calls_delayed_unevenly_on_their_way_are_never_refused() -> None:
    """Each call reaches the service up to 90 ms late, at random: none is refused."""
    shaken = random.Random(7)
    limit = GetRecordsLimit()
    for sent in eager_calls(30.0):
        arrived = sent + shaken.uniform(0.0, LIMIT_MARGIN_S * 0.9)
        assert limit.admit("us-east-1", "shard", arrived), sent


def test_shards_are_paced_apart() -> None:
    now = 0.0
    pacer = ShardPacer(lambda: now)
    pacer.mark("a")
    assert pacer.wait_for("a") == SHARD_INTERVAL
    assert pacer.wait_for("b") == 0
