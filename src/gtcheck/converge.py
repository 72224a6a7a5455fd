"""The polling engine: read the world once, then re-read only what is still pending.

Every step of a run waits through one `World`, which shares one deadline, so a run is
bounded by one replication timeout plus overhead, never one timeout per step.

Reads, cheapest first: a small workshop table is read whole with one Scan per region
(every item a step may need, the participant's near misses included); a larger one by
BatchGetItem of the keys the steps name. While a step waits, each region's stream is
watched (no read capacity): a pending item is re-read the moment its region's stream shows
it, and otherwise only by a slow fallback read. Regions without a readable stream re-read
their pending keys in one BatchGetItem every `poll_seconds`; an index is queried only
where its item has arrived. Every read is charged to the read budget as DynamoDB bills it.
A region where the table is missing is not read at all: only steps that need it fail.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    retry_if_result,
    stop_after_attempt,
    wait_exponential,
)

from gtcheck import aws, streams
from gtcheck.budget import EVENTUAL_READ_RCU, ReadBudget
from gtcheck.deadline import stop_at_deadline
from gtcheck.diagnose import missing_table_hint
from gtcheck.errors import EnvironmentProblem, ResourceMissing, TableMissing
from gtcheck.i18n import _
from gtcheck.items import AttributeDiff, Attributes, Key, diff, identical, key_attributes, key_of
from gtcheck.streamwatch import RegionWatch, ShardPacer, open_watch

BATCH_GET_LIMIT = 100
DEFAULT_POLL_SECONDS = 0.5
# A wait that starts re-reads what is pending unless it was read this recently: an item may
# have arrived while earlier steps ran, and the step should not sleep a poll to see it.
FIRST_LOOK_AGE = 0.05
SCAN_PAGE = 200
SCAN_LIMIT = 2000
SCAN_FIRST_BYTES = 256 * 1024  # a table this small is cheaper to scan than to look up
READ_UNIT_BYTES = 4096
RETRY_ATTEMPTS = 8
# Retries of a throttled read may run this long past the deadline, no longer, so that a run
# where everything fails still ends a few seconds after its timeout.
RETRY_GRACE_SECONDS = 2.0
# While a region's stream is watched, a pending item is re-read when the stream shows it,
# and otherwise this often, in case the stream lags.
FALLBACK_SECONDS = 5.0


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
    """What this run has read of the workshop table, region by region."""

    def __init__(
        self,
        clients: aws.Clients,
        *,
        timeout: float,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        budget_fraction: float = 0.5,
        poll_seconds: float = DEFAULT_POLL_SECONDS,
    ) -> None:
        self.clients = clients
        self.target = clients.target
        self.regions = clients.target.regions
        self.table = clients.target.table
        self._monotonic = monotonic
        self._sleep = sleep
        self.started = monotonic()
        self.deadline = self.started + timeout
        self.budget = ReadBudget(monotonic, budget_fraction)
        self.poll_seconds = poll_seconds
        self.requests: Counter[str] = Counter()
        self._descriptions: dict[str, dict[str, Any] | EnvironmentProblem] = {}
        self._items: dict[tuple[str, Key], Attributes | None] = {}
        self._read_keys: set[Key] = set()
        self._watched: list[Key] = []
        self._alone_at_first: dict[Key, str] = {}
        self._matched_at: dict[tuple[str, Key], float] = {}
        self._read_at: dict[tuple[str, Key], float] = {}
        self._index: dict[tuple[str, str, str], set[Key]] = {}
        self._index_watches: set[tuple[str, str, Key]] = set()
        self._scans: dict[str, list[Attributes]] = {}
        self._history: dict[str, list[streams.StreamRecord]] | None = None
        self.pacer = ShardPacer(monotonic)
        self._watches: dict[str, RegionWatch | None] | None = None
        self._stream_seen: dict[tuple[str, Key], float] = {}
        self._index_read_at: dict[tuple[str, str, str], float] = {}
        self._fresh_enough = FIRST_LOOK_AGE
        # Told what is pending and for how long while waiting; ("", -1) when a wait ends.
        self.on_wait: Callable[[str, float], None] | None = None

    # ----- time ------------------------------------------------------------------------
    def elapsed(self) -> float:
        return self._monotonic() - self.started

    def remaining(self) -> float:
        return max(0.0, self.deadline - self._monotonic())

    # ----- tables ----------------------------------------------------------------------
    def describe(self, region: str) -> dict[str, Any]:
        """DescribeTable, once per region; an environment problem is remembered too."""
        if region not in self._descriptions:
            try:
                response = self._call(
                    self.clients.dynamodb(region).describe_table, TableName=self.table
                )
                description = response["Table"]
                self._provision(region, description)
                self._descriptions[region] = description
            except ResourceMissing:
                self._descriptions[region] = TableMissing(
                    missing_table_hint(self.table, region, self.regions[0]), region=region
                )
            except EnvironmentProblem as problem:
                self._descriptions[region] = problem
        found = self._descriptions[region]
        if isinstance(found, EnvironmentProblem):
            raise found
        return found

    def _provision(self, region: str, description: dict[str, Any]) -> None:
        def rcu(throughput: dict[str, Any] | None) -> float | None:
            return (throughput or {}).get("ReadCapacityUnits") or None

        self.budget.provision(region, self.table, rcu(description.get("ProvisionedThroughput")))
        for index in description.get("GlobalSecondaryIndexes", []):
            self.budget.provision(
                region, index["IndexName"], rcu(index.get("ProvisionedThroughput"))
            )

    def present(self, region: str) -> bool:
        """Does the table exist in `region`? Other environment problems are raised."""
        try:
            self.describe(region)
        except TableMissing:
            return False
        return True

    def present_regions(self) -> list[str]:
        return [region for region in self.regions if self.present(region)]

    def require(self, *regions: str) -> None:
        """Raise the replica hint for the first of `regions` where the table is missing."""
        for region in regions or self.regions:
            self.describe(region)

    def small(self, region: str) -> bool:
        """Is the table in `region` small enough that one Scan beats looking keys up?"""
        table = self.describe(region)
        return (table.get("TableSizeBytes") or 0) <= SCAN_FIRST_BYTES and (
            table.get("ItemCount") or 0
        ) <= SCAN_LIMIT

    # ----- items -----------------------------------------------------------------------
    def watch(self, *keys: Key) -> None:
        """Keys to read in every region with the next read, and to keep fresh while pending."""
        for key in keys:
            if key not in self._watched:
                self._watched.append(key)

    def item(self, region: str, key: Key) -> Attributes | None:
        return self.copies(key)[region]

    def copies(self, key: Key) -> dict[str, Attributes | None]:
        """The copy each region holds, read together with every other unread key."""
        self.watch(key)
        unread = [k for k in self._watched if k not in self._read_keys]
        if unread:
            self.open_watches()
            for region in self.regions:
                if region in self._scans or not self.present(region):
                    continue  # a whole-table read answered already, or there is no table
                if self.small(region):
                    self.scan(region)
                else:
                    self._batch_get(region, unread, wait_for_budget=True)
            for fresh in unread:
                holders = [r for r in self.regions if self._items.get((r, fresh)) is not None]
                if len(holders) == 1:
                    self._alone_at_first[fresh] = holders[0]
            self._read_keys.update(unread)
        return {region: self._items.get((region, key)) for region in self.regions}

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
                moment = self._matched_at.get((region, key), self.started)
                result.matched_at_s[region] = round(moment - self.started, 3)
            else:
                result.pending.append(region)
                if copy is not None and reference is not None:
                    result.differences[region] = diff(reference, copy)
        return result

    def _pending_keys(self) -> dict[str, list[Key]]:
        """Per region, the keys to re-read there: where a copy is missing while the others
        agree, only the regions missing it; where copies differ, every region."""
        pending: dict[str, list[Key]] = {}
        readable = self.present_regions()
        for key in self._watched:
            if key not in self._read_keys:
                continue
            copies = {region: self._items.get((region, key)) for region in readable}
            if _agree(copies.values()):
                continue
            present = [copy for copy in copies.values() if copy is not None]
            behind = [r for r, c in copies.items() if c is None] if _agree(present) else []
            for region in behind or self.regions:
                pending.setdefault(region, []).append(key)
        return pending

    def _copies_cached(self, key: Key) -> list[Attributes | None]:
        return [self._items.get((region, key)) for region in self.regions]

    def _batch_get(self, region: str, keys: list[Key], *, wait_for_budget: bool) -> bool:
        """Read `keys` in `region` with BatchGetItem; False if the budget says not now."""
        for start in range(0, len(keys), BATCH_GET_LIMIT):
            chunk = keys[start : start + BATCH_GET_LIMIT]
            if not self._afford(
                region, self.table, EVENTUAL_READ_RCU * len(chunk), wait=wait_for_budget
            ):
                return False
            request = {self.table: {"Keys": [key_attributes(k) for k in chunk]}}
            found: dict[Key, Attributes] = {}
            for _attempt in range(RETRY_ATTEMPTS):
                response = self._call(
                    self.clients.dynamodb(region).batch_get_item, RequestItems=request
                )
                for item in response.get("Responses", {}).get(self.table, []):
                    item_key = key_of(item)
                    if item_key is not None:
                        found[item_key] = item
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
                self._sleep(0.2)
            else:
                raise EnvironmentProblem(f"BatchGetItem in {region}: keys left unprocessed")
            units = sum(item_units(item) for item in found.values())
            self.budget.charge(
                region, self.table, units + EVENTUAL_READ_RCU * (len(chunk) - len(found))
            )
            now = self._monotonic()
            for key in chunk:
                self._remember(region, key, found.get(key), now)
        return True

    def _remember(self, region: str, key: Key, item: Attributes | None, now: float) -> None:
        self._items[(region, key)] = item
        self._read_at[(region, key)] = now
        copies = self._copies_cached(key)
        if item is not None and all(identical(copy, item) for copy in copies):
            for other in self.regions:
                self._matched_at.setdefault((other, key), now)

    # ----- indexes ---------------------------------------------------------------------
    def index_keys(self, region: str, index: str, partition: str) -> set[Key]:
        """The table keys a KEYS_ONLY index returns for one partition value, read once."""
        self.require(region)
        if (region, index, partition) not in self._index:
            self._query_index(region, index, partition, wait_for_budget=True)
        return self._index[(region, index, partition)]

    def await_in_index(self, index: str, partition: str, key: Key) -> IndexWait:
        """Wait until `key` is under `partition` in `index` in every region."""
        started = self._monotonic()
        self._index_watches.add((index, partition, key))

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

    def _query_index(
        self, region: str, index: str, partition: str, *, wait_for_budget: bool
    ) -> bool:
        keys: set[Key] = set()
        start_key: dict[str, Any] | None = None
        for _page in range(50):  # pages: a workshop index partition is small
            if not self._afford(region, index, EVENTUAL_READ_RCU, wait=wait_for_budget):
                return False
            request: dict[str, Any] = {
                "TableName": self.table,
                "IndexName": index,
                "KeyConditionExpression": "#pk = :pk",
                "ExpressionAttributeNames": {"#pk": f"{index}PK"},
                "ExpressionAttributeValues": {":pk": {"S": partition}},
            }
            if start_key:
                request["ExclusiveStartKey"] = start_key
            response = self._call(self.clients.dynamodb(region).query, **request)
            items = response.get("Items", [])
            self.budget.charge(region, index, page_units(items))
            keys.update(k for k in map(key_of, items) if k is not None)
            start_key = response.get("LastEvaluatedKey")
            if not start_key:
                break
        self._index[(region, index, partition)] = keys
        self._index_read_at[(region, index, partition)] = self._monotonic()
        return True

    def _pending_index(self) -> list[tuple[str, str, str]]:
        """Index partitions to query again: the item is there, the index entry is not."""
        pending = set()
        for index, partition, key in self._index_watches:
            for region in self.present_regions():
                cached = self._index.get((region, index, partition))
                item = self._items.get((region, key))
                listed = item is not None and item.get(f"{index}PK") == {"S": partition}
                if cached is not None and key not in cached and listed:
                    pending.add((region, index, partition))
        return sorted(pending)

    # ----- scans -----------------------------------------------------------------------
    def scan(self, region: str) -> list[Attributes]:
        """Every item of the table in `region`, read once, bounded, inside the budget;
        it also answers for every watched key there."""
        if region not in self._scans:
            items: list[Attributes] = []
            start_key: dict[str, Any] | None = None
            while len(items) < SCAN_LIMIT:
                self._afford(region, self.table, EVENTUAL_READ_RCU * 4, wait=True)
                request: dict[str, Any] = {"TableName": self.table, "Limit": SCAN_PAGE}
                if start_key:
                    request["ExclusiveStartKey"] = start_key
                response = self._call(self.clients.dynamodb(region).scan, **request)
                page = response.get("Items", [])
                self.budget.charge(region, self.table, page_units(page))
                items.extend(page)
                start_key = response.get("LastEvaluatedKey")
                if not start_key:
                    break
            self._scans[region] = items[:SCAN_LIMIT]
            if not start_key:  # the whole table was read: absent means absent
                now = self._monotonic()
                found = {key_of(item): item for item in self._scans[region]}
                for key in self._watched:
                    if (region, key) not in self._items:
                        self._remember(region, key, found.get(key), now)
                for key, item in found.items():
                    if key is not None and (region, key) not in self._items:
                        self._remember(region, key, item, now)
        return self._scans[region]

    def scan_all(self) -> dict[str, list[Attributes]]:
        """Every region's scan, where the table exists."""
        return {region: self.scan(region) for region in self.present_regions()}

    def scanned_everywhere(self) -> bool:
        return all(region in self._scans for region in self.present_regions())

    # ----- streams and metrics ----------------------------------------------------------
    def first_writer(self, key: Key) -> str | None:
        """The region where `key` was first written; None if it cannot be told.

        An item that only one region held at the first read was written there. Otherwise
        the streams tell: the region whose stream shows the item first.
        """
        self.copies(key)
        if key in self._alone_at_first:
            return self._alone_at_first[key]
        history = self._read_histories()
        return None if history is None else streams.first_writer(history, key)

    def stream_keys(self) -> set[Key] | None:
        """Every key written in the streams' history (24 h on AWS); None without streams."""
        history = self._read_histories()
        if history is None:
            return None
        return {record.key for records in history.values() for record in records}

    def _read_histories(self) -> dict[str, list[streams.StreamRecord]] | None:
        """Each region's stream history, read once; None if any region's is unreadable."""
        if self._history is None:
            history: dict[str, list[streams.StreamRecord]] = {}
            for region in self.regions:
                try:
                    arn = self.describe(region).get("LatestStreamArn")
                    if not arn:
                        break
                    reader = streams.RegionStream(
                        self._call, self.clients.streams(region), arn, self.pacer, self._sleep
                    )
                    history[region] = reader.history()
                except (EnvironmentProblem, ClientError):
                    break  # no stream here: what needs the streams stays unknown
            self._history = history
        return self._history if len(self._history) == len(self.regions) else None

    def metric_statistics(self, region: str, **request: Any) -> dict[str, Any]:
        """CloudWatch GetMetricStatistics with the run's retries (no table capacity used)."""
        return self._call(self.clients.cloudwatch(region).get_metric_statistics, **request)

    # ----- waiting ---------------------------------------------------------------------
    def open_watches(self) -> None:
        """Open every region's stream where it is (before the first read of items), so
        that a later wait learns of new writes without spending read capacity."""
        if self._watches is not None:
            return
        self._watches = {}
        for region in self.present_regions():
            arn = self.describe(region).get("LatestStreamArn")
            self._watches[region] = open_watch(
                self.clients.streams(region), arn, self.pacer, self._count
            )

    def _count(self, operation: str) -> None:
        self.requests[operation] += 1

    def _wait(self, done: Callable[[], bool]) -> None:
        """Look again, with tenacity, until `done` or the run's deadline."""
        started = self._monotonic()
        self._fresh_enough = FIRST_LOOK_AGE  # a step's first look re-reads all but the newest

        def look() -> bool:
            if done():
                return True
            self._refresh()
            self._fresh_enough = self.poll_seconds * 0.9
            return done()

        def show(state: RetryCallState) -> None:
            if self.on_wait is not None:
                self.on_wait(self.pending_summary(), self._monotonic() - started)

        retrying = Retrying(
            stop=stop_at_deadline(self.deadline, self._monotonic),
            wait=lambda state: self._next_look_delay(),
            retry=retry_if_result(lambda converged: not converged),
            sleep=self._sleep,
            before_sleep=show,
            retry_error_callback=lambda state: False,
        )
        try:
            if self._monotonic() < self.deadline:
                retrying(look)
        finally:
            if self.on_wait is not None:
                self.on_wait("", -1.0)

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

    def _poll_region(self, region: str, keys: list[Key]) -> None:
        """Re-read a region's pending keys, or, when the budget cannot pay for them all,
        just the one read longest ago: writes made together arrive together, so when it
        changes, the rest are read at once."""
        if self.budget.affordable(region, self.table, EVENTUAL_READ_RCU * len(keys)):
            self._batch_get(region, keys, wait_for_budget=False)
            return
        sentinel = min(keys, key=lambda k: self._read_at.get((region, k), -math.inf))
        rest = [k for k in keys if k != sentinel]
        before = self._items.get((region, sentinel))
        if (
            self._batch_get(region, [sentinel], wait_for_budget=False)
            and rest
            and not (identical(self._items.get((region, sentinel)), before))
        ):
            self._batch_get(region, rest, wait_for_budget=False)

    def _next_look_delay(self) -> float:
        """Until the next read worth making: a watched stream's next allowed GetRecords,
        an unwatched region's next poll (or later, when the budget cannot pay for it yet),
        a pending index partition's next query; never past the deadline."""
        now = self._monotonic()
        delays = []
        for region, keys in self._pending_keys().items():
            watch = self._watch(region)
            if watch is not None:
                delays.append(watch.ready_in())
                continue
            last = max(self._read_at.get((region, k), -math.inf) for k in keys)
            budget = self.budget.seconds_until(region, self.table, EVENTUAL_READ_RCU)
            delays.append(max(self.poll_seconds - (now - last), budget))
        for pending in self._pending_index():
            last = self._index_read_at.get(pending, -math.inf)
            delays.append(self.poll_seconds - (now - last))
        delay = min(delays, default=self.poll_seconds)
        return min(max(delay, 0.01), self.remaining())

    def _watch(self, region: str) -> RegionWatch | None:
        return (self._watches or {}).get(region)

    def _refresh(self) -> None:
        """Re-read what is pending and due. In a watched region a key is due when the
        stream showed a write to it after it was read, or when it was read longer ago than
        the fallback; elsewhere when it was read longer ago than `_fresh_enough`. An
        index partition is queried again once its item has arrived, each poll interval."""
        for region, keys in self._pending_keys().items():
            watch = self._watch(region)
            if watch is None:
                now = self._monotonic()
                stale = [k for k in keys if now - self._read_at.get((region, k), -math.inf)
                         >= self._fresh_enough]  # fmt: skip
                if stale:
                    self._poll_region(region, stale)
                continue
            self._look_at_stream(region, watch, keys)
            now = self._monotonic()
            shown = [k for k in keys if self._shown_since_read(region, k)]
            overdue = [
                k
                for k in keys
                if k not in shown
                and now - self._read_at.get((region, k), -math.inf) >= FALLBACK_SECONDS
            ]
            if shown:
                self._batch_get(region, shown, wait_for_budget=True)
            if overdue:
                self._poll_region(region, overdue)
        now = self._monotonic()
        for pending in self._pending_index():
            if now - self._index_read_at.get(pending, -math.inf) >= self._fresh_enough:
                self._query_index(*pending, wait_for_budget=False)

    def _look_at_stream(self, region: str, watch: RegionWatch, pending: list[Key]) -> None:
        """Note which keys the region's stream shows written since the last look."""
        if watch.ready_in() > 0:
            return
        seen = watch.poll()
        now = self._monotonic()
        for key in pending if seen is None else seen:
            self._stream_seen[(region, key)] = now

    def _shown_since_read(self, region: str, key: Key) -> bool:
        seen = self._stream_seen.get((region, key))
        return seen is not None and seen >= self._read_at.get((region, key), -math.inf)

    def _afford(self, region: str, resource: str, units: float, *, wait: bool) -> bool:
        while not self.budget.affordable(region, resource, units):
            if not wait:
                return False
            delay = self.budget.seconds_until(region, resource, units)
            self._sleep(max(delay, 0.01))
        return True

    def _call(self, operation: Callable[..., Any], /, **kwargs: Any) -> Any:
        """One AWS read with retries on throttling; exhausted retries are the environment's."""
        self.requests[operation.__name__] += 1
        retrying = Retrying(
            retry=retry_if_exception_type(aws.Transient),
            stop=stop_after_attempt(RETRY_ATTEMPTS)
            | stop_at_deadline(self.deadline, self._monotonic, grace=RETRY_GRACE_SECONDS),
            wait=wait_exponential(multiplier=0.1, max=2.0),
            sleep=self._sleep,
            reraise=True,
        )
        attempts = 0
        try:
            for attempt in retrying:
                with attempt:
                    attempts = attempt.retry_state.attempt_number
                    if attempts > 1:
                        self.requests[operation.__name__] += 1
                    return aws.call(operation, **kwargs)
        except aws.Transient as problem:
            raise EnvironmentProblem(
                _("throttled or failing after {attempts} attempts: {error}").format(
                    attempts=attempts, error=problem
                )
            ) from None
        raise AssertionError("unreachable")  # pragma: no cover


def item_units(item: Attributes) -> float:
    """Read units of one eventually consistent read: 0.5 per started 4 KB."""
    return EVENTUAL_READ_RCU * max(1, math.ceil(item_size(item) / READ_UNIT_BYTES))


def page_units(items: list[Attributes]) -> float:
    """Read units of a Query or Scan page: its items' total size, 0.5 per started 4 KB."""
    total = sum(item_size(item) for item in items)
    return EVENTUAL_READ_RCU * max(1, math.ceil(total / READ_UNIT_BYTES))


def item_size(item: Attributes) -> int:
    """An item's size as DynamoDB counts it, closely enough: names plus values in UTF-8."""
    return len(json.dumps(item, separators=(",", ":"), ensure_ascii=False).encode())


def _agree(copies: Iterable[Attributes | None]) -> bool:
    """Regions agree when every copy is identical (all absent counts as agreeing)."""
    copies = list(copies)
    return all(identical(copy, copies[0]) for copy in copies)


def _by_key(pending: dict[str, list[Key]]) -> dict[Key, list[str]]:
    regions: dict[Key, list[str]] = {}
    for region, keys in pending.items():
        for key in keys:
            regions.setdefault(key, []).append(region)
    return regions
