"""Latency probes against the simulator on injected time: what they report, what they
spend, and that they leave nothing behind."""

from __future__ import annotations

import pytest

from gtcheck import marks
from gtcheck.aws import Clients, Target
from gtcheck.errors import EnvironmentProblem
from gtcheck.latency import ProbeTimeline, percentile, summarise
from gtcheck.probe import measure
from gtcheck.sim import Simulator

US, EU = "us-east-1", "eu-west-1"
FORWARD, BACKWARD = f"{US}->{EU}", f"{EU}->{US}"


def run_probes(sim: Simulator, **kwargs):
    target = Target(table=sim.config.table, regions=sim.config.regions)
    clients = Clients(target, sim.session(), read_only=False)
    kwargs.setdefault("run_id", "testrun")
    return measure(clients, target, sleep=sim.advance, monotonic=sim.clock.now, **kwargs)


def probe_items(sim: Simulator) -> dict[str, list]:
    found = {}
    for region in sim.config.regions:
        items = sim.client("dynamodb", region).scan(TableName=sim.config.table)["Items"]
        found[region] = [item for item in items if marks.is_probe(item)]
    return found


def test_one_second_lag_is_measured_to_within_30_ms(sim):
    """Lag 1.0 s, no jitter: both directions report every probe, the median within 30 ms
    of 1000 ms, each probe known to one look interval (250 ms) at worst."""
    summaries = run_probes(sim, probes=10)
    assert set(summaries) == {FORWARD, BACKWARD}
    for summary in summaries.values():
        assert (summary.sent, summary.samples, summary.not_arrived) == (10, 10, 0)
        assert summary.p50 == pytest.approx(1000, abs=30)
        assert summary.mean == pytest.approx(1000, abs=30)
        assert summary.min <= summary.p50 <= summary.p95 <= summary.max
        assert 0 < summary.resolution_ms <= 250 + 1e-6
        assert summary.within_page_claim is True


def test_probes_are_written_together_not_one_after_another(sim):
    """Every put probe of both directions (half of each direction's probes; the other
    half delete those items again) is written within one look interval, before the first
    one could have arrived: none waits for another's arrival."""
    sim.request_log.clear()
    started = sim.clock.now()
    seen_writes: list[float] = []
    original = sim.app._aws

    def timed(environ, body):
        if b"PutItem" in environ.get("HTTP_X_AMZ_TARGET", "").encode():
            seen_writes.append(sim.clock.now())
        return original(environ, body)

    sim.app._aws = timed
    run_probes(sim, probes=8)
    assert len(seen_writes) == 8
    assert max(seen_writes) - started < 0.25


def test_a_paused_direction_is_reported_not_arrived_while_the_other_is_measured(sim):
    """us-east-1 -> eu-west-1 paused: its probes are reported as not arrived by the
    deadline (its three puts were sent; their two deletions never could be), and
    eu-west-1 -> us-east-1 is measured as usual."""
    sim.pause(US, EU)
    started = sim.clock.now()
    summaries = run_probes(sim, probes=5, timeout=10.0)
    paused, running = summaries[FORWARD], summaries[BACKWARD]
    assert (paused.sent, paused.samples, paused.not_arrived) == (3, 0, 5)
    assert paused.p50 is None
    assert paused.within_page_claim is None
    assert (running.samples, running.not_arrived) == (5, 0)
    assert running.p50 == pytest.approx(1000, abs=40)
    assert sim.clock.now() - started == pytest.approx(10.0, abs=0.5)


def test_streams_are_read_within_their_limit_and_reads_stay_in_budget(sim):
    """No GetRecords call is refused (under 5 a second per shard), and the only item
    reads are one confirmation per arrival."""
    sim.request_log.clear()
    run_probes(sim, probes=10)
    refused = [
        counts["refused"]
        for shards in sim.get_records_limit.snapshot().values()
        for counts in shards.values()
    ]
    assert refused
    assert not any(refused)
    assert sim.request_log.reads() == 20  # 10 arrivals per direction, one GetItem each


def test_probes_leave_nothing_behind(sim):
    """Every probe item is deleted at the end (two items a direction: four probes, two
    puts and their two deletions); the deletes replicate, so no region keeps one."""
    summaries = run_probes(sim, probes=4)
    assert all(summary.deleted == 2 for summary in summaries.values())
    sim.advance(2.0)
    assert probe_items(sim) == {US: [], EU: []}


def test_probes_are_deleted_even_when_measuring_fails(sim, monkeypatch):
    """An error mid-run (here, the stream cannot be read any more) still deletes what
    was written."""
    from gtcheck import streamwatch

    def broken(self):
        raise EnvironmentProblem("stream gone")

    monkeypatch.setattr(streamwatch.RegionWatch, "poll", broken)
    with pytest.raises(EnvironmentProblem, match="stream gone"):
        run_probes(sim, probes=3)
    sim.advance(2.0)
    assert probe_items(sim) == {US: [], EU: []}


def test_probe_items_carry_marker_and_ttl(sim, monkeypatch):
    """While in flight, a probe item has the prefix, this run's marker and a TTL an hour
    ahead of the (injected) wall clock."""
    seen: list[dict] = []
    original = Clients.dynamodb

    def spying(self, region):
        client = original(self, region)
        if not getattr(client, "_spied", False):
            put = client.put_item

            def recording(**kwargs):
                seen.append(kwargs["Item"])
                return put(**kwargs)

            client.put_item = recording
            client._spied = True
        return client

    monkeypatch.setattr(Clients, "dynamodb", spying)
    run_probes(sim, probes=2, now=lambda: 1_790_000_000.0)
    assert len(seen) == 2  # one put a direction; the other probe is its deletion
    for item in seen:
        assert marks.is_probe(item)
        assert item[marks.PROBE_MARKER] == {"S": "testrun"}
        assert item["ttl"] == {"N": "1790003600"}


def test_a_stream_that_cannot_be_read_is_an_environment_problem(sim, monkeypatch):
    """The probes need the receiving region's stream (open_watch gives None when there is
    none, or it cannot be read); without it they do not fall back to spending read
    capacity, and nothing is written."""
    from gtcheck import probe

    monkeypatch.setattr(probe, "open_watch", lambda *args: None)
    sim.request_log.clear()
    with pytest.raises(EnvironmentProblem, match="stream in us-east-1"):
        run_probes(sim, probes=1)
    assert sim.request_log.writes() == 0


def test_latency_is_the_midpoint_of_the_last_miss_and_the_first_sight():
    """Pure arithmetic: missed at 10.70, seen at 10.95, sent at 9.99 and answered at
    10.00 -> 830 ms, known to 260 ms; a probe never seen counts as not arrived."""
    key = marks.probe_key("r", US, EU, 0)
    arrived = ProbeTimeline(US, EU, key, 10.0, started=9.99, written=10.0, missed=10.7, seen=10.95)
    arrived.confirmed = True
    lost = ProbeTimeline(US, EU, marks.probe_key("r", US, EU, 1), 10.0, started=10.0, written=10.0)
    summary = summarise(FORWARD, [arrived, lost], deleted=2)
    assert (summary.samples, summary.not_arrived, summary.sent) == (1, 1, 2)
    assert summary.p50 == pytest.approx(830.0)
    assert summary.resolution_ms == pytest.approx(260.0)


def test_percentiles_interpolate_between_ranks():
    assert percentile([], 50) is None
    assert percentile([5.0], 95) == 5.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile(list(map(float, range(1, 21))), 95) == pytest.approx(19.05)
