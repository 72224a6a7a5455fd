"""Unit tests of the simulator's parts: versions, the delivery queue, the configuration."""

from __future__ import annotations

import math
import random

import pytest

from gtcheck.errors import UsageError
from gtcheck.sim import ManualClock, SimConfig, TableSetup
from gtcheck.sim.faults import Faults
from gtcheck.sim.lww import Version, VersionBook
from gtcheck.sim.queue import Change, DeliveryQueue
from gtcheck.workshop import parse_regions

US, EU, AP = "us-east-1", "eu-west-1", "ap-southeast-1"
TABLE = "demo-ecommerce-freetier"
T0 = 1_790_000_000.0


def never_paused(_direction: tuple[str, str]) -> bool:
    return False


def change(key: str, source: str = US, at: float = T0, table: str = TABLE) -> Change:
    version = Version(int(at * 1_000_000), source)
    return Change(table, key, {"PK": {"S": key}}, version, source, at)


# ----- Version and VersionBook ---------------------------------------------------------------
def test_version_orders_by_time_then_region_name():
    """A later apply time wins; at the same time the larger region name wins."""
    assert Version(2, EU) > Version(1, US)
    assert Version(1, US) > Version(1, EU)
    assert Version(1, EU) > Version(1, AP)
    assert max([Version(5, EU), Version(5, US), Version(4, US)]) == Version(5, US)


def test_stamp_local_uses_the_clock_in_microseconds():
    """A local write is versioned with its apply time in whole microseconds and its region."""
    book = VersionBook()
    version = book.stamp_local(US, (TABLE, "k"), T0 + 0.25, deleted=False)
    assert version == Version(int((T0 + 0.25) * 1_000_000), US, False)
    assert book.held(US, (TABLE, "k")) == version
    assert book.held(EU, (TABLE, "k")) is None


def test_stamp_local_bumps_past_what_the_region_holds():
    """With a clock standing still, or behind a held version, each local write still wins."""
    book = VersionBook()
    key = (TABLE, "k")
    first = book.stamp_local(US, key, T0, deleted=False)
    second = book.stamp_local(US, key, T0, deleted=True)
    assert second.applied_us == first.applied_us + 1
    assert second.deleted
    assert second > first
    ahead = Version(int((T0 + 10) * 1_000_000), EU)
    assert book.admit(US, key, ahead)
    third = book.stamp_local(US, key, T0 + 1, deleted=False)
    assert third.applied_us == ahead.applied_us + 1
    assert third > ahead


def test_admit_takes_only_newer_versions():
    """A replicated version replaces an older one and is refused when equal or older."""
    book = VersionBook()
    key = (TABLE, "k")
    assert book.admit(EU, key, Version(10, US))
    assert not book.admit(EU, key, Version(10, US))
    assert not book.admit(EU, key, Version(9, US))
    assert not book.admit(EU, key, Version(10, AP))
    assert book.admit(EU, key, Version(11, AP))
    assert book.held(EU, key) == Version(11, AP)


def test_admit_breaks_ties_by_region_name_in_any_arrival_order():
    """Two writes at the same time settle on the same winner whichever arrives first."""
    for order in ((Version(7, US), Version(7, EU)), (Version(7, EU), Version(7, US))):
        book = VersionBook()
        for version in order:
            book.admit(AP, (TABLE, "k"), version)
        assert book.held(AP, (TABLE, "k")) == Version(7, US)


def test_copy_region_and_forget_touch_one_table_only():
    """A new replica copies its source's versions of that table; forgetting drops only them."""
    book = VersionBook()
    book.stamp_local(US, (TABLE, "a"), T0, deleted=False)
    book.stamp_local(US, (TABLE, "b"), T0, deleted=True)
    book.stamp_local(US, ("other", "a"), T0, deleted=False)
    book.copy_region(US, AP, TABLE)
    assert book.held(AP, (TABLE, "a")) == book.held(US, (TABLE, "a"))
    assert book.held(AP, (TABLE, "b")) == book.held(US, (TABLE, "b"))
    assert book.held(AP, ("other", "a")) is None
    book.stamp_local(AP, ("other", "x"), T0, deleted=False)
    book.forget(AP, TABLE)
    assert book.held(AP, (TABLE, "a")) is None
    assert book.held(AP, ("other", "x")) is not None
    assert book.held(US, (TABLE, "a")) is not None


# ----- DeliveryQueue ----------------------------------------------------------------------------
def test_queue_pops_due_deliveries_earliest_first():
    """Only deliveries due by `now` come out, sorted by due time across directions."""
    queue = DeliveryQueue()
    queue.push(change("a"), EU, T0 + 3)
    queue.push(change("b", source=EU), US, T0 + 1)
    queue.push(change("c"), EU, T0 + 2)
    assert queue.next_due(never_paused) == T0 + 1
    assert queue.pop_due(T0 + 0.5, never_paused) == []
    popped = queue.pop_due(T0 + 2, never_paused)
    assert [d.change.key for d in popped] == ["b", "c"]
    assert [d.direction for d in popped] == [(EU, US), (US, EU)]
    assert queue.pending() == {(US, EU): 1}
    assert [d.change.key for d in queue.pop_due(T0 + 10, never_paused)] == ["a"]
    assert queue.pending() == {}
    assert queue.next_due(never_paused) is None


def test_queue_keeps_each_items_order_despite_jitter():
    """A later change to an item scheduled earlier than the previous one waits for it."""
    queue = DeliveryQueue()
    first = queue.push(change("k", at=T0), EU, T0 + 1.3)
    second = queue.push(change("k", at=T0 + 0.1), EU, T0 + 0.8)
    other = queue.push(change("other", at=T0 + 0.1), EU, T0 + 0.8)
    assert second.due == first.due == T0 + 1.3
    assert other.due == T0 + 0.8  # a different item is not held back
    popped = queue.pop_due(T0 + 2, never_paused)
    assert [(d.change.key, d.change.written_at) for d in popped] == [
        ("other", T0 + 0.1),
        ("k", T0),
        ("k", T0 + 0.1),
    ]


def test_queue_orders_an_item_per_direction():
    """Per-item order is kept per direction: another target or source is independent."""
    queue = DeliveryQueue()
    queue.push(change("k"), EU, T0 + 2)
    to_ap = queue.push(change("k"), AP, T0 + 0.5)
    from_eu = queue.push(change("k", source=EU), AP, T0 + 0.7)
    assert to_ap.due == T0 + 0.5
    assert from_eu.due == T0 + 0.7


def test_queue_random_jitter_never_reorders_an_item():
    """Whatever the jitter, one item's deliveries on one direction pop in push order."""
    rng = random.Random(3)
    queue = DeliveryQueue()
    for n in range(200):
        written = T0 + n * 0.01
        queue.push(change(f"k{n % 3}", at=written), EU, written + rng.uniform(0.0, 2.0))
    popped = queue.pop_due(T0 + 100, never_paused)
    assert len(popped) == 200
    for key in ("k0", "k1", "k2"):
        times = [d.change.written_at for d in popped if d.change.key == key]
        assert times == sorted(times)
    dues = [d.due for d in popped]
    assert dues == sorted(dues)


def test_queue_skips_paused_directions():
    """A paused direction keeps its deliveries and does not count for the next due time."""
    queue = DeliveryQueue()
    queue.push(change("a"), EU, T0 + 1)
    queue.push(change("b", source=EU), US, T0 + 5)

    def paused(direction: tuple[str, str]) -> bool:
        return direction == (US, EU)

    assert queue.next_due(paused) == T0 + 5
    assert [d.change.key for d in queue.pop_due(T0 + 10, paused)] == ["b"]
    assert queue.pending() == {(US, EU): 1}
    assert queue.next_due(paused) is None
    assert [d.change.key for d in queue.pop_due(T0 + 10, never_paused)] == ["a"]


def test_queue_drop_region_discards_only_what_flies_to_it():
    """A deleted replica receives nothing more; what it sent still lands elsewhere."""
    queue = DeliveryQueue()
    queue.push(change("to-ap"), AP, T0 + 1)
    queue.push(change("ap-to-us", source=AP), US, T0 + 1)
    queue.push(change("to-eu"), EU, T0 + 1)
    queue.drop_region(AP)
    assert queue.pending() == {(AP, US): 1, (US, EU): 1}
    popped = queue.pop_due(T0 + 2, never_paused)
    assert sorted(d.change.key for d in popped) == ["ap-to-us", "to-eu"]


def test_queue_copy_to_new_replica_duplicates_inbound_flights():
    """Changes still flying to the copied region also fly to the new replica, same due time."""
    queue = DeliveryQueue()
    queue.push(change("eu-write", source=EU), US, T0 + 1.5)
    queue.push(change("ap-write", source=AP), US, T0 + 1.2)
    queue.push(change("us-write"), EU, T0 + 1.0)
    queue.copy_to_new_replica(US, AP)
    assert queue.pending() == {(EU, US): 1, (AP, US): 1, (US, EU): 1, (EU, AP): 1}
    to_ap = [d for d in queue.pop_due(T0 + 2, never_paused) if d.target == AP]
    assert [(d.change.key, d.due) for d in to_ap] == [("eu-write", T0 + 1.5)]


# ----- Faults and the clock ------------------------------------------------------------------
def test_fault_delay_stays_within_lag_and_jitter_and_never_negative():
    """A delay is lag +- jitter, clipped at zero."""
    rng = random.Random(1)
    faults = Faults(lag=1.0, jitter=0.4, throttle=0.0)
    delays = [faults.delay(rng) for _ in range(500)]
    assert all(0.6 <= d <= 1.4 for d in delays)
    faults.set_lag(0.1, 0.5)
    assert all(faults.delay(rng) >= 0.0 for _ in range(500))


def test_faults_validate_every_change():
    """Negative or non-finite lag and jitter, and throttles outside 0..1 are refused."""
    faults = Faults(lag=1.0, jitter=0.0, throttle=0.0)
    for lag, jitter in ((-0.1, None), (math.nan, None), (math.inf, None), (1.0, -1.0)):
        with pytest.raises(UsageError):
            faults.set_lag(lag, jitter)
    for fraction in (-0.01, 1.5, math.nan):
        with pytest.raises(UsageError):
            faults.set_throttle(fraction)


def test_manual_clock_moves_only_forward_and_calls_listeners():
    """The injected clock advances when told, tells its listeners, and never runs back."""
    clock = ManualClock(start=100.0)
    calls: list[float] = []
    clock.on_advance(lambda: calls.append(clock.now()))
    clock.advance(2.5)
    clock.sleep(0.5)
    assert clock.now() == 103.0
    assert calls == [102.5, 103.0]
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1)


# ----- SimConfig -------------------------------------------------------------------------------
def test_sim_config_defaults():
    """The defaults are the workshop's: two regions, its table, a global setup."""
    config = SimConfig()
    assert config.regions == (US, EU)
    assert config.primary == US
    assert config.table == TABLE
    assert config.setup is TableSetup.GLOBAL


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"regions": (US, "mars-north-1")}, "unknown region 'mars-north-1'"),
        ({"regions": (US,)}, "at least two regions"),
        ({"regions": ()}, "at least two regions"),
        ({"regions": (US, EU, US)}, "listed twice"),
        ({"lag": math.nan}, "lag must be"),
        ({"lag": -0.5}, "lag must be"),
        ({"lag": math.inf}, "lag must be"),
        ({"lag": 3601.0}, "at most 3600"),
        ({"jitter": -0.1}, "jitter must be"),
        ({"jitter": math.nan}, "jitter must be"),
        ({"throttle": -0.1}, "throttle must be"),
        ({"throttle": 1.5}, "throttle must be"),
        ({"throttle": math.nan}, "throttle must be"),
        ({"replica_create_seconds": -1.0}, "replica_create_seconds must be"),
        ({"replica_create_seconds": math.inf}, "replica_create_seconds must be"),
        ({"burst_seconds": -1.0}, "burst_seconds must be"),
        ({"burst_seconds": math.nan}, "burst_seconds must be"),
        ({"table": "ab"}, "3 to 255"),
        ({"table": ""}, "3 to 255"),
        ({"table": "t" * 256}, "3 to 255"),
    ],
)
def test_sim_config_refuses_invalid_values(kwargs, message):
    """Every invalid setting raises UsageError with a message naming the problem."""
    with pytest.raises(UsageError, match=message):
        SimConfig(**kwargs)


def test_sim_config_accepts_edge_values():
    """Zero lag, throttles 0 and 1, a three-character table name and three regions are valid."""
    SimConfig(lag=0.0, jitter=0.0, throttle=0.0)
    SimConfig(lag=3600.0, throttle=1.0, table="abc")
    SimConfig(regions=(US, EU, AP), table="t" * 255)


def test_parse_regions():
    """A comma-separated list is split, trimmed and validated."""
    assert parse_regions(" us-east-1, eu-west-1 ,") == (US, EU)
    with pytest.raises(UsageError):
        parse_regions("us-east-1")
    with pytest.raises(UsageError):
        parse_regions("us-east-1,nowhere-1")
