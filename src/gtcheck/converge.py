"""The polling engine: read the world once, then re-read only what is still pending.

Every step of a run waits through one `World`, which shares one deadline, so a run is
bounded by one replication timeout plus overhead, never one timeout per step. While any
step waits, every key and index entry still pending is refreshed in batches (one
BatchGetItem per region, one Query per pending index partition), inside the read budget.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from gtcheck import aws, streams
from gtcheck.budget import EVENTUAL_READ_RCU, ReadBudget
from gtcheck.errors import EnvironmentProblem
from gtcheck.items import AttributeDiff, Attributes, Key, diff, identical, key_attributes, key_of

BATCH_GET_LIMIT = 100
DEFAULT_POLL_SECONDS = 0.25
SCAN_PAGE = 200
SCAN_LIMIT = 2000
RETRY_ATTEMPTS = 8
SAFETY_REREAD_SECONDS = 5.0


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
        self._matched_at: dict[tuple[str, Key], float] = {}
        self._index: dict[tuple[str, str, str], set[Key]] = {}
        self._index_watches: set[tuple[str, str, Key]] = set()
        self._scans: dict[str, list[Attributes]] = {}
        self._streams: dict[str, streams.RegionStream | None] | None = None
        self._history: dict[str, list[streams.StreamRecord]] = {}
        self._table_reads_due = False
        self._last_table_read = self.started
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

    # ----- items -----------------------------------------------------------------------
    def watch(self, *keys: Key) -> None:
        """Keys to read in every region with the next batch, and to keep fresh while pending."""
        for key in keys:
            if key not in self._watched:
                self._watched.append(key)

    def item(self, region: str, key: Key) -> Attributes | None:
        return self.copies(key)[region]

    def copies(self, key: Key) -> dict[str, Attributes | None]:
        """The copy each region holds, read in one batch with every other unread key."""
        self.watch(key)
        unread = [k for k in self._watched if k not in self._read_keys]
        if unread:
            for region in self.regions:
                self._batch_get(region, unread, wait_for_budget=True)
            self._read_keys.update(unread)
        return {region: self._items.get((region, key)) for region in self.regions}

    def await_identical(self, key: Key, source: str) -> Convergence:
        """Wait until every region holds a copy identical to `source`'s (fail fast if none)."""
        started = self._monotonic()

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
        """Keys whose regions disagree (and exist somewhere): re-read them everywhere."""
        pending = [
            key
            for key in self._watched
            if key in self._read_keys and not _agree(self._copies_cached(key))
        ]
        return {region: list(pending) for region in self.regions} if pending else {}

    def _copies_cached(self, key: Key) -> list[Attributes | None]:
        return [self._items.get((region, key)) for region in self.regions]

    def _batch_get(self, region: str, keys: list[Key], *, wait_for_budget: bool) -> bool:
        """Read `keys` in `region` with BatchGetItem; False if the budget says not now."""
        for start in range(0, len(keys), BATCH_GET_LIMIT):
            chunk = keys[start : start + BATCH_GET_LIMIT]
            cost = EVENTUAL_READ_RCU * len(chunk)
            if not self._afford(region, self.table, cost, wait=wait_for_budget):
                return False
            request = {self.table: {"Keys": [key_attributes(k) for k in chunk]}}
            found: dict[Key, Attributes] = {}
            consumed = 0.0
            for _ in range(RETRY_ATTEMPTS):
                response = self._call(
                    self.clients.dynamodb(region).batch_get_item,
                    RequestItems=request,
                    ReturnConsumedCapacity="TOTAL",
                )
                for item in response.get("Responses", {}).get(self.table, []):
                    item_key = key_of(item)
                    if item_key is not None:
                        found[item_key] = item
                consumed += _consumed(response, cost)
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
                self._sleep(0.2)
            else:
                raise EnvironmentProblem(f"BatchGetItem in {region}: keys left unprocessed")
            self.budget.charge(region, self.table, consumed)
            now = self._monotonic()
            for key in chunk:
                self._remember(region, key, found.get(key), now)
        return True

    def _remember(self, region: str, key: Key, item: Attributes | None, now: float) -> None:
        self._items[(region, key)] = item
        copies = self._copies_cached(key)
        if item is not None and all(identical(copy, item) for copy in copies):
            for other in self.regions:
                self._matched_at.setdefault((other, key), now)

    # ----- indexes ---------------------------------------------------------------------
    def index_keys(self, region: str, index: str, partition: str) -> set[Key]:
        """The table keys a KEYS_ONLY index returns for one partition value, read once."""
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
        pk_name = f"{index}PK"
        keys: set[Key] = set()
        start_key: dict[str, Any] | None = None
        for _ in range(50):  # pages: a workshop index partition is small
            if not self._afford(region, index, EVENTUAL_READ_RCU, wait=wait_for_budget):
                return False
            request: dict[str, Any] = {
                "TableName": self.table,
                "IndexName": index,
                "KeyConditionExpression": "#pk = :pk",
                "ExpressionAttributeNames": {"#pk": pk_name},
                "ExpressionAttributeValues": {":pk": {"S": partition}},
                "ReturnConsumedCapacity": "INDEXES",
            }
            if start_key:
                request["ExclusiveStartKey"] = start_key
            response = self._call(self.clients.dynamodb(region).query, **request)
            self.budget.charge(region, index, _consumed(response, EVENTUAL_READ_RCU))
            for item in response.get("Items", []):
                item_key = key_of(item)
                if item_key is not None:
                    keys.add(item_key)
            start_key = response.get("LastEvaluatedKey")
            if not start_key:
                break
        self._index[(region, index, partition)] = keys
        return True

    def _pending_index(self) -> list[tuple[str, str, str]]:
        pending = []
        for index, partition, key in self._index_watches:
            for region in self.regions:
                cached = self._index.get((region, index, partition))
                if cached is not None and key not in cached:
                    pending.append((region, index, partition))
        return sorted(set(pending))

    # ----- scans -----------------------------------------------------------------------
    def scan(self, region: str) -> list[Attributes]:
        """Every item of the table in `region`, read once, bounded, inside the budget."""
        if region not in self._scans:
            items: list[Attributes] = []
            start_key: dict[str, Any] | None = None
            while len(items) < SCAN_LIMIT:
                self._afford(region, self.table, EVENTUAL_READ_RCU * 4, wait=True)
                request: dict[str, Any] = {
                    "TableName": self.table,
                    "Limit": SCAN_PAGE,
                    "ReturnConsumedCapacity": "TOTAL",
                }
                if start_key:
                    request["ExclusiveStartKey"] = start_key
                response = self._call(self.clients.dynamodb(region).scan, **request)
                self.budget.charge(region, self.table, _consumed(response, EVENTUAL_READ_RCU))
                items.extend(response.get("Items", []))
                start_key = response.get("LastEvaluatedKey")
                if not start_key:
                    break
            self._scans[region] = items[:SCAN_LIMIT]
        return self._scans[region]

    def scan_all(self) -> dict[str, list[Attributes]]:
        return {region: self.scan(region) for region in self.regions}

    # ----- streams and metrics ----------------------------------------------------------
    def first_writer(self, key: Key) -> str | None:
        """The region where `key` was first written, by the streams; None if unknown."""
        self._open_streams()
        if len(self._history) < len(self.regions):
            return None
        return streams.first_writer(self._history, key)

    def stream_keys(self) -> set[Key] | None:
        """Every key written in the streams' history (24 h on AWS); None without streams."""
        self._open_streams()
        if len(self._history) < len(self.regions):
            return None
        return {record.key for records in self._history.values() for record in records}

    def replication_samples(self) -> dict[str, list[float]]:
        """Milliseconds each write took to reach each other region, from the streams.

        A write is the same new image showing in several regions' streams; its source is
        the region that shows it first. AWS stamps records to the second, so these are
        coarse, but they cost no read capacity and cover every write in the history.
        """
        first_seen: dict[tuple[Key, str], dict[str, float]] = {}
        for region, records in self._history.items():
            for record in records:
                if record.image is None:
                    continue
                write = (record.key, json.dumps(record.image, sort_keys=True))
                seen = first_seen.setdefault(write, {})
                seen[region] = min(seen.get(region, record.written_at), record.written_at)
        samples: dict[str, list[float]] = {}
        for seen in first_seen.values():
            if len(seen) < 2:
                continue
            source = min(seen, key=lambda region: (seen[region], region))
            for region, moment in seen.items():
                if region != source:
                    samples.setdefault(f"{source}->{region}", []).append(
                        round((moment - seen[source]) * 1000, 3)
                    )
        return samples

    def _open_streams(self) -> None:
        """Read each region's stream history once and keep its tail for arrivals."""
        if self._streams is not None:
            return
        self._streams = {}
        for region in self.regions:
            self._streams[region] = None
            try:
                arn = self.describe(region).get("LatestStreamArn")
                if not arn:
                    continue
                stream = streams.RegionStream(self._call, self.clients.streams(region), arn)
                self._history[region] = stream.history()
                self._streams[region] = stream
            except (EnvironmentProblem, ClientError):
                continue  # no stream here: this region is polled by table reads
        # Writes landed between the first table read and the tail's start: read once more.
        self._table_reads_due = True

    def _tail_streams(self) -> set[str]:
        """Apply what each stream saw since the last look; the regions that are tailed."""
        tailed: set[str] = set()
        now = self._monotonic()
        for region, stream in (self._streams or {}).items():
            if stream is None:
                continue
            try:
                records = stream.poll()
            except (EnvironmentProblem, ClientError):
                records = None
            if records is None:
                self._streams[region] = None  # type: ignore[index]
                continue
            tailed.add(region)
            for record in records:
                if record.key in self._read_keys:
                    self._remember(region, record.key, record.image, now)
        return tailed

    def metric_statistics(self, region: str, **request: Any) -> dict[str, Any]:
        """CloudWatch GetMetricStatistics with the run's retries (no table capacity used)."""
        return self._call(self.clients.cloudwatch(region).get_metric_statistics, **request)

    # ----- waiting ---------------------------------------------------------------------
    def _wait(self, done: Callable[[], bool]) -> None:
        started = self._monotonic()
        try:
            while not done():
                if self._monotonic() >= self.deadline:
                    return
                self._refresh()
                if done():
                    return
                if self.on_wait is not None:
                    self.on_wait(self.pending_summary(), self._monotonic() - started)
                self._sleep(min(self.poll_seconds, self.remaining()) or self.poll_seconds)
        finally:
            if self.on_wait is not None:
                self.on_wait("", -1.0)

    def pending_summary(self) -> str:
        """What is still pending, in a few words: `PK / SK in region, ...`."""
        parts = []
        for key in self._watched:
            copies = dict(zip(self.regions, self._copies_cached(key), strict=True))
            if key in self._read_keys and not _agree(copies.values()):
                behind = [r for r, c in copies.items() if c is None] or list(copies)
                parts.append(f"{key[0]} / {key[1]} in {', '.join(behind)}")
        for region, index, partition in self._pending_index():
            parts.append(f"{index} {partition} in {region}")
        return "; ".join(parts)

    def _refresh(self) -> None:
        """Bring everything still pending up to date, as the budget allows right now.

        Streams tell arrivals without spending read capacity; a region without a stream
        tail is re-read in one batch, and every region is re-read now and then anyway.
        """
        pending = self._pending_keys()
        if pending or self._pending_index():
            self._open_streams()
        tailed = self._tail_streams()
        now = self._monotonic()
        safety = now - self._last_table_read >= SAFETY_REREAD_SECONDS
        reread_all = self._table_reads_due or safety
        done = True
        for region, keys in self._pending_keys().items():
            if region not in tailed or reread_all:
                done = self._batch_get(region, keys, wait_for_budget=False) and done
        if reread_all and done:
            self._table_reads_due = False
            self._last_table_read = now
        for region, index, partition in self._pending_index():
            if region in tailed and not self._base_listed(region, index, partition):
                continue  # the item has not arrived there: the index cannot list it yet
            self._query_index(region, index, partition, wait_for_budget=False)

    def _base_listed(self, region: str, index: str, partition: str) -> bool:
        """Does a watched item in `region` carry `partition` as its index key?"""
        for watch_index, watch_partition, key in self._index_watches:
            if (watch_index, watch_partition) != (index, partition):
                continue
            item = self._items.get((region, key))
            if item is not None and item.get(f"{index}PK") == {"S": partition}:
                return True
        return False

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
            stop=stop_after_attempt(RETRY_ATTEMPTS),
            wait=wait_exponential(multiplier=0.1, max=2.0),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    if attempt.retry_state.attempt_number > 1:
                        self.requests[operation.__name__] += 1
                    return aws.call(operation, **kwargs)
        except aws.Transient as problem:
            raise EnvironmentProblem(
                f"throttled or failing after {RETRY_ATTEMPTS} attempts: {problem}"
            ) from None
        raise AssertionError("unreachable")  # pragma: no cover


def _agree(copies: Iterable[Attributes | None]) -> bool:
    """Regions agree when every copy is identical (all absent counts as agreeing)."""
    copies = list(copies)
    return all(identical(copy, copies[0]) for copy in copies)


def _consumed(response: dict[str, Any], estimate: float) -> float:
    consumed = response.get("ConsumedCapacity")
    if isinstance(consumed, dict):
        consumed = [consumed]
    if not consumed:
        return estimate
    total = sum(float(entry.get("CapacityUnits", 0)) for entry in consumed)
    return total or estimate
