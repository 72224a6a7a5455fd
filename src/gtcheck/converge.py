"""The world a run's steps see: read once, then re-read only what is still pending.

`World` wires three parts: the `Reader` (AWS calls, retries, the read budget, streams),
the `Snapshot` (what was read where and when, plain data) and the `Poller` (tenacity,
until converged or the run's one deadline). Every step of a run, and every participant
sharing a table, waits through one world, so a run is bounded by one replication timeout
plus overhead, never one timeout per step.

Reads, cheapest first: a small workshop table is read whole with one Scan per region
(every item a step may need, the participant's near misses included); a larger one by
BatchGetItem of the keys the steps name. While a step waits, each region's stream is
watched (no read capacity): a pending item is re-read the moment its region's stream shows
it, and otherwise only by a slow fallback read. Regions without a readable stream re-read
their pending keys in one BatchGetItem every `poll_seconds`; an index is queried only
where its item has arrived. A region where the table is missing is not read at all: only
steps that need it fail.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from gtcheck import aws, streams, workshop
from gtcheck.budget import EVENTUAL_READ_RCU, ReadBudget
from gtcheck.errors import GtcheckError
from gtcheck.i18n import _
from gtcheck.items import AttributeDiff, Attributes, Key, diff, identical, key_of
from gtcheck.lanes import lanes
from gtcheck.poller import Poller
from gtcheck.reader import Reader
from gtcheck.snapshot import IndexPartition, Snapshot

DEFAULT_POLL_SECONDS = 0.5
# A wait that starts re-reads what is pending unless it was read this recently: an item may
# have arrived while earlier steps ran, and the step should not sleep a poll to see it.
FIRST_LOOK_AGE = 0.05
# While a region's stream is watched, a pending item is re-read when the stream shows it,
# and otherwise this often, in case the stream lags.
FALLBACK_SECONDS = 5.0
LATENCY_WINDOW = timedelta(hours=3)  # CloudWatch's ReplicationLatency the report shows
LATENCY_SLACK = timedelta(minutes=5)  # clocks differ a little; a future EndTime is harmless


@dataclass
class Convergence:
    """How a wait ended: per region, the copy seen and when it first matched."""

    converged: bool
    waited_s: float
    copies: dict[str, Attributes | None]
    matched_at_s: dict[str, float] = field(default_factory=dict)
    pending: list[str] = field(default_factory=list)
    differences: dict[str, list[AttributeDiff]] = field(default_factory=dict)


@dataclass
class IndexWait:
    """How a wait for a key to appear in an index ended, per region."""

    converged: bool
    waited_s: float
    found_in: list[str]
    missing_in: list[str]


class World:
    """What this run has read of the workshop table, region by region, and its waits."""

    def __init__(
        self,
        clients: aws.Clients,
        *,
        timeout: float,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        budget_fraction: float = 0.5,
        budget: ReadBudget | None = None,
        poll_seconds: float = DEFAULT_POLL_SECONDS,
        side_by_side: bool = True,
    ) -> None:
        self.clients = clients
        self.side_by_side = side_by_side  # may the first look read on threads (gtcheck.lanes)
        self.target = clients.target
        self.regions = clients.target.regions
        self.table = clients.target.table
        self._monotonic = monotonic
        self.started = monotonic()
        self.deadline = self.started + timeout
        self.poll_seconds = poll_seconds
        self.reader = Reader(
            clients,
            deadline=self.deadline,
            monotonic=monotonic,
            sleep=sleep,
            budget_fraction=budget_fraction,
            budget=budget,
        )
        self.snapshot = Snapshot(self.regions, started=self.started)
        self.poller = Poller(self.deadline, monotonic, sleep)
        self._fresh_enough = FIRST_LOOK_AGE
        self._sightings: dict[Key, dict[str, float]] | None = None
        self._latency: dict[str, tuple[list[dict[str, Any]], bool]] = {}  # points, read ahead
        self._prepared = False
        self._profiles: set[Key] | None = None
        self._timing: set[Key] | None = None
        self._caught_up: set[str] = set()  # regions whose history was held against their scan
        # Told what is pending and for how long while waiting; ("", -1) when a wait ends.
        self.on_wait: Callable[[str, float], None] | None = None

    # ----- what the reader knows -----------------------------------------------------------
    @property
    def budget(self) -> ReadBudget:
        return self.reader.budget

    @property
    def requests(self) -> Counter[str]:
        return self.reader.requests

    def elapsed(self) -> float:
        return self._monotonic() - self.started

    def remaining(self) -> float:
        return self.poller.remaining()

    def describe(self, region: str) -> dict[str, Any]:
        """DescribeTable, once per region; a missing table raises the replica hint."""
        return self.reader.describe(region)

    def present(self, region: str) -> bool:
        return self.reader.present(region)

    def present_regions(self) -> list[str]:
        return self.reader.present_regions()

    def require(self, *regions: str) -> None:
        """Raise the replica hint for the first of `regions` where the table is missing."""
        for region in regions or self.regions:
            self.describe(region)

    def small(self, region: str) -> bool:
        return self.reader.small(region)

    def replication_latency(self, receiving: str, *, ahead: bool = False) -> list[dict[str, Any]]:
        """CloudWatch's ReplicationLatency datapoints into `receiving` over the last three
        hours (published by a source region, or by some accounts the receiving one), read
        once per table: every participant of a table shares them. Read `ahead` (the first
        look, beside the other tables'), an empty answer is asked again when a step wants
        it: the run's own waits may have seen the table's first replication."""
        known = self._latency.get(receiving)
        if known is not None and (known[0] or ahead or not known[1]):
            return known[0]
        end = datetime.now(UTC)
        points: list[dict[str, Any]] = []
        for source in [r for r in self.regions if r != receiving] + [receiving]:
            response = self.reader.metric_statistics(
                source,
                Namespace="AWS/DynamoDB",
                MetricName="ReplicationLatency",
                Dimensions=[
                    {"Name": "TableName", "Value": self.table},
                    {"Name": "ReceivingRegion", "Value": receiving},
                ],
                StartTime=end - LATENCY_WINDOW,
                EndTime=end + LATENCY_SLACK,
                Period=int((LATENCY_WINDOW + LATENCY_SLACK).total_seconds()),
                Statistics=["Average", "Maximum", "SampleCount"],
            )
            points = list(response.get("Datapoints") or [])
            if points:
                break
        self._latency[receiving] = (points, ahead)
        return points

    def connect(self) -> None:
        """Make every region's DynamoDB, Streams and CloudWatch clients now, on this
        thread: a boto3 session is not safe to share while it makes them."""
        for region in self.regions:
            self.clients.dynamodb(region)
            self.clients.streams(region)
            self.clients.cloudwatch(region)

    def prepare(self, indexes: tuple[tuple[str, str], ...] = ()) -> None:
        """The first look every run makes, whatever its steps: each region described and
        its stream opened, a small table scanned, the index partitions `indexes` (index,
        partition value) queried, the streams' history read, and CloudWatch's replication
        latency into each region read ahead (a table's very first replication may not be
        in it yet: the step that needs it asks again when it was empty). Independent reads
        go at once, on threads (their round trips overlap); what was read is kept here,
        region by region, in order. A problem is left for the steps that meet it, which
        report it as theirs. Made once: a second call (the head start made it) is free."""
        if self._prepared:
            return
        self._prepared = True
        self.connect()
        with lanes(2 * len(self.regions), self.side_by_side) as pool:
            ahead = [pool.submit(self._latency_ahead, region) for region in self.regions]
            looks = list(pool.map(lambda region: self._first_look(region, indexes), self.regions))
            for read in ahead:
                read.result()
        for region, (scanned, listed) in zip(self.regions, looks, strict=True):
            if scanned is not None and region not in self.snapshot.scans:
                items, whole, at = scanned
                self._remember_scan(region, items, whole, at)
            for (index, partition), keys in listed.items():
                if (region, index, partition) not in self.snapshot.index:
                    now = self._monotonic()
                    self.snapshot.remember_index((region, index, partition), keys, now)
        self.histories()

    def _first_look(
        self, region: str, indexes: tuple[tuple[str, str], ...]
    ) -> tuple[tuple[list[Attributes], bool, float] | None, dict[tuple[str, str], set[Key]]]:
        """One region's part of `prepare`, read and returned, not kept: its stream opened
        before any read; then, side by side, a small table's Scan followed by the stream's
        history (its iterators asked for beside the Scan), and the index partitions."""
        try:
            if not self.present(region):
                return None, {}
            self.reader.open_watch(region)
        except GtcheckError:
            return None, {}
        scanned = None
        with lanes(2, self.side_by_side) as lane:
            listed = lane.submit(self._read_indexes, region, indexes)
            opened = lane.submit(self.reader.open_history, region)  # beside the Scan
            try:
                if self.small(region):
                    scanned = (*self.reader.scan(region), self._monotonic())
                opened.result()
                self.reader.history(region)  # after the Scan: what it missed, it shows
            except GtcheckError:
                pass
            return scanned, listed.result()

    def _latency_ahead(self, receiving: str) -> None:
        with suppress(GtcheckError):
            self.replication_latency(receiving, ahead=True)

    def _read_indexes(
        self, region: str, indexes: tuple[tuple[str, str], ...]
    ) -> dict[tuple[str, str], set[Key]]:
        listed: dict[tuple[str, str], set[Key]] = {}
        try:
            for index, partition in indexes:
                keys = self.reader.query_index(region, index, partition, wait_for_budget=True)
                if keys is not None:
                    listed[(index, partition)] = keys
        except GtcheckError:
            pass
        return listed

    # ----- items -----------------------------------------------------------------------
    def watch(self, *keys: Key) -> None:
        """Keys to read in every region with the next read, and to keep fresh while pending."""
        self.snapshot.watch(*keys)

    def item(self, region: str, key: Key) -> Attributes | None:
        return self.copies(key)[region]

    def copies(self, key: Key) -> dict[str, Attributes | None]:
        """The copy each region holds, read together with every other unread key."""
        self.watch(key)
        unread = self.snapshot.unread()
        if unread:
            self.reader.open_watches()
            for region in self.regions:
                if region in self.snapshot.scans or not self.present(region):
                    continue  # a whole-table read answered already, or there is no table
                if self.small(region):
                    self.scan(region)
                else:
                    self._read_keys(region, unread, wait_for_budget=True)
            self.snapshot.first_read_done(unread)
        return self.snapshot.copies(key)

    def await_identical(self, key: Key, source: str) -> Convergence:
        """Wait until every region holds a copy identical to `source`'s (fail fast if none)."""
        started = self._monotonic()
        self.require()

        def converged() -> bool:
            copies = self.copies(key)
            return copies[source] is not None and all(
                identical(copy, copies[source]) for copy in copies.values()
            )

        if self.copies(key)[source] is not None:
            self._wait(converged)
        copies = self.copies(key)
        reference = copies[source]
        result = Convergence(
            converged=reference is not None and converged(),
            waited_s=round(self._monotonic() - started, 3),
            copies=copies,
        )
        for region, copy in copies.items():
            if reference is not None and identical(copy, reference):
                result.matched_at_s[region] = self.snapshot.matched_at_s(region, key)
            else:
                result.pending.append(region)
                if copy is not None and reference is not None:
                    result.differences[region] = diff(reference, copy)
        return result

    def _read_keys(self, region: str, keys: list[Key], *, wait_for_budget: bool) -> bool:
        """Read `keys` in `region` into the snapshot; False if the budget says not now."""
        found = self.reader.batch_get(region, keys, wait_for_budget=wait_for_budget)
        if found is None:
            return False
        now = self._monotonic()
        for key, item in found.items():
            self.snapshot.remember(region, key, item, now)
        return True

    # ----- indexes ---------------------------------------------------------------------
    def index_keys(self, region: str, index: str, partition: str) -> set[Key]:
        """The table keys a KEYS_ONLY index returns for one partition value, read once."""
        self.require(region)
        if (region, index, partition) not in self.snapshot.index:
            self.reader.open_watches()  # before any read: nothing written meanwhile is missed
            self._query_index((region, index, partition), wait_for_budget=True)
        return self.snapshot.index[(region, index, partition)]

    def expect_in_index(self, index: str, partition: str, key: Key) -> None:
        """A later step will wait for `key` under `partition` in `index`: while any step
        waits, the partition is queried again in a region as soon as the item arrives
        there, not only once that step begins."""
        self.snapshot.index_watches.add((index, partition, key))

    def await_in_index(self, index: str, partition: str, key: Key) -> IndexWait:
        """Wait until `key` is under `partition` in `index` in every region."""
        started = self._monotonic()
        self.expect_in_index(index, partition, key)

        def missing() -> list[str]:
            return [r for r in self.regions if key not in self.index_keys(r, index, partition)]

        self._wait(lambda: not missing())
        absent = missing()
        return IndexWait(
            converged=not absent,
            waited_s=round(self._monotonic() - started, 3),
            found_in=[r for r in self.regions if r not in absent],
            missing_in=absent,
        )

    def _query_index(self, partition: IndexPartition, *, wait_for_budget: bool) -> None:
        keys = self.reader.query_index(*partition, wait_for_budget=wait_for_budget)
        if keys is not None:
            self.snapshot.remember_index(partition, keys, self._monotonic())

    # ----- scans -----------------------------------------------------------------------
    def scan(self, region: str) -> list[Attributes]:
        """Every item of the table in `region`, read once, bounded, inside the budget;
        when it is the whole table it also answers for every watched key there."""
        if region not in self.snapshot.scans:
            self.reader.open_watches()  # before any read: nothing written meanwhile is missed
            self._remember_scan(region, *self.reader.scan(region))
        return self.snapshot.scans[region]

    def _remember_scan(
        self, region: str, items: list[Attributes], whole: bool, at: float | None = None
    ) -> None:
        """Keep a region's scan, read at `at` (now when not given)."""
        if whole:
            keyed = {key: item for item in items if (key := key_of(item)) is not None}
            self.snapshot.remember_scan(
                region, items, keyed, self._monotonic() if at is None else at
            )
        else:
            self.snapshot.scans[region] = items

    def scan_all(self) -> dict[str, list[Attributes]]:
        """Every region's scan, where the table exists."""
        return {region: self.scan(region) for region in self.present_regions()}

    def profile_keys(self) -> set[Key]:
        """Every participant profile in the table's scans, worked out once."""
        if self._profiles is None:
            self._profiles = workshop.profile_keys(self.scan_all())
        return self._profiles

    def timing_keys(self) -> set[Key]:
        """Every exercise 5 timing item in the table's scans, worked out once."""
        if self._timing is None:
            self._timing = workshop.timing_keys_in(self.scan_all())
        return self._timing

    def scanned_everywhere(self) -> bool:
        return all(region in self.snapshot.scans for region in self.present_regions())

    # ----- streams ---------------------------------------------------------------------
    def histories(self) -> dict[str, list[streams.StreamRecord]] | None:
        """Each region's stream history (read once; None if any is unreadable). A region
        read whole before its history was read may have missed what the history shows:
        those keys count as shown by the stream, so the next wait re-reads them at once
        instead of after the stream's next look."""
        history = self.reader.histories()
        for region in self.regions:
            scanned = self.snapshot.scanned_at.get(region)
            if scanned is not None and region not in self._caught_up:
                records = self.reader.history(region)
                read = self.reader.history_read_at.get(region, -math.inf)
                if records is not None and read >= scanned:
                    self._caught_up.add(region)
                    self._catch_up(region, records)
        return history

    def _catch_up(self, region: str, records: list[streams.StreamRecord]) -> None:
        latest = {record.key: record.image for record in records}  # a key keeps its shard
        missed = [
            key
            for key, image in latest.items()
            if not identical(image, self.snapshot.items.get((region, key)))
        ]
        if missed:
            self.snapshot.stream_showed(region, missed, self._monotonic())

    def first_writer(self, key: Key) -> str | None:
        """The region where `key` was first written; None if it cannot be told.

        An item that only one region held at the first read was written there. Otherwise
        the streams tell: the region whose stream shows the item first.
        """
        self.copies(key)
        if key in self.snapshot.alone_at_first:
            return self.snapshot.alone_at_first[key]
        if self._sightings is None:
            history = self.reader.histories()
            self._sightings = {} if history is None else streams.first_sightings(history)
        return streams.first_writer(self._sightings, key)

    def stream_keys(self) -> set[Key] | None:
        """Every key written in the streams' history (24 h on AWS); None without streams."""
        history = self.reader.histories()
        if history is None:
            return None
        return {record.key for records in history.values() for record in records}

    # ----- waiting ---------------------------------------------------------------------
    def _wait(self, done: Callable[[], bool]) -> None:
        """Look again, with the poller, until `done` or the run's deadline."""
        started = self._monotonic()
        self._fresh_enough = FIRST_LOOK_AGE  # a step's first look re-reads all but the newest

        def look() -> bool:
            if done():
                return True
            self._refresh()
            self._fresh_enough = self.poll_seconds * 0.9
            return done()

        def show() -> None:
            if self.on_wait is not None:
                self.on_wait(self.pending_summary(), self._monotonic() - started)

        try:
            self.poller.wait(look, self._next_look_delay, show)
        finally:
            if self.on_wait is not None:
                self.on_wait("", -1.0)

    def _pending_keys(self) -> dict[str, list[Key]]:
        return self.snapshot.pending_keys(self.present_regions())

    def _pending_index(self) -> list[IndexPartition]:
        return self.snapshot.pending_index(self.present_regions())

    def pending_summary(self) -> str:
        """What is still pending, in a few words: `PK / SK in region, ...`."""
        parts = [
            _("{pk} / {sk} in {regions}").format(pk=key[0], sk=key[1], regions=", ".join(regions))
            for key, regions in _by_key(self._pending_keys()).items()
        ]
        parts += [
            _("{index} {partition} in {region}").format(
                index=index, partition=partition, region=region
            )
            for region, index, partition in self._pending_index()
        ]
        return "; ".join(parts)

    def _next_look_delay(self) -> float:
        """Until the next read worth making: a watched stream's next allowed GetRecords,
        an unwatched region's next poll (or later, when the budget cannot pay for it yet),
        a pending index partition's next query."""
        now = self._monotonic()
        delays = []
        for region, keys in self._pending_keys().items():
            watch = self.reader.watch(region)
            if watch is not None:
                delays.append(watch.ready_in())
                continue
            last = max(self.snapshot.last_read(region, k) for k in keys)
            budget = self.budget.seconds_until(region, self.table, EVENTUAL_READ_RCU)
            delays.append(max(self.poll_seconds - (now - last), budget))
        for pending in self._pending_index():
            last = self.snapshot.index_read_at.get(pending, -math.inf)
            delays.append(self.poll_seconds - (now - last))
        return min(delays, default=self.poll_seconds)

    def _refresh(self) -> None:
        """Re-read what is pending and due. In a watched region a key is due when the
        stream showed a write to it after it was read, or when it was read longer ago than
        the fallback; elsewhere when it was read longer ago than `_fresh_enough`. An
        index partition is queried again once its item has arrived, each poll interval."""
        for region, keys in self._pending_keys().items():
            watch = self.reader.watch(region)
            if watch is None:
                now = self._monotonic()
                age = self._fresh_enough
                stale = [k for k in keys if now - self.snapshot.last_read(region, k) >= age]
                if stale:
                    self._poll_region(region, stale)
                continue
            if watch.ready_in() <= 0:
                seen = watch.poll()  # None: the stream lost its place, anything may be new
                shown_keys = keys if seen is None else seen
                self.snapshot.stream_showed(region, shown_keys, self._monotonic())
            now = self._monotonic()
            shown = [k for k in keys if self.snapshot.shown_since_read(region, k)]
            overdue = [
                k
                for k in keys
                if k not in shown and now - self.snapshot.last_read(region, k) >= FALLBACK_SECONDS
            ]
            if shown:
                self._read_keys(region, shown, wait_for_budget=True)
            if overdue:
                self._poll_region(region, overdue)
        now = self._monotonic()
        for pending in self._pending_index():
            if now - self.snapshot.index_read_at.get(pending, -math.inf) >= self._fresh_enough:
                self._query_index(pending, wait_for_budget=False)

    def _poll_region(self, region: str, keys: list[Key]) -> None:
        """Re-read a region's pending keys, or, when the budget cannot pay for them all,
        just the one read longest ago: writes made together arrive together, so when it
        changes, the rest are read at once."""
        if self.budget.affordable(region, self.table, EVENTUAL_READ_RCU * len(keys)):
            self._read_keys(region, keys, wait_for_budget=False)
            return
        sentinel = min(keys, key=lambda k: self.snapshot.last_read(region, k))
        rest = [k for k in keys if k != sentinel]
        before = self.snapshot.items.get((region, sentinel))
        if (
            self._read_keys(region, [sentinel], wait_for_budget=False)
            and rest
            and not identical(self.snapshot.items.get((region, sentinel)), before)
        ):
            self._read_keys(region, rest, wait_for_budget=False)


def _by_key(pending: dict[str, list[Key]]) -> dict[Key, list[str]]:
    regions: dict[Key, list[str]] = {}
    for region, keys in pending.items():
        for key in keys:
            regions.setdefault(key, []).append(region)
    return regions
