"""Reading the workshop table: AWS calls, retries under the run's deadline, the read budget.

The reader knows nothing of steps or participants. It answers "read these keys", "query
this index partition", "scan this region", "what did this region's stream show", each as
DynamoDB bills it, inside the budget, and classifies failures: the environment's are
`EnvironmentProblem`, so a step is `error`, never `failed`. One reader serves a whole run,
whatever number of participants share its table. A run's first look may read several
regions at once, one thread each: what it keeps is per region, and its counts are locked.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError
from tenacity import (
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
from gtcheck.items import Attributes, Key, key_attributes, key_of
from gtcheck.streamwatch import RegionWatch, ShardPacer, open_watch

BATCH_GET_LIMIT = 100
SCAN_PAGE = 200
QUERY_PAGE = 1000  # an index partition of a whole class, KEYS_ONLY: small items
SCAN_LIMIT = 2000
SCAN_FIRST_BYTES = 256 * 1024  # a table this small is cheaper to scan than to look up
READ_UNIT_BYTES = 4096
RETRY_ATTEMPTS = 8
# Retries of a throttled read may run this long past the deadline, no longer, so that a run
# where everything fails still ends a few seconds after its timeout.
RETRY_GRACE_SECONDS = 2.0


class Reader:
    """One table's reads, in every region, for one run."""

    def __init__(
        self,
        clients: aws.Clients,
        *,
        deadline: float,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        budget_fraction: float = 0.5,
        budget: ReadBudget | None = None,
    ) -> None:
        self.clients = clients
        self.table = clients.target.table
        self.regions = clients.target.regions
        self.deadline = deadline
        self.monotonic = monotonic
        self.sleep = sleep
        self.budget = budget or ReadBudget(monotonic, budget_fraction)
        self.pacer = ShardPacer(monotonic)
        self.requests: Counter[str] = Counter()
        self._counting = threading.Lock()
        self._descriptions: dict[str, dict[str, Any] | EnvironmentProblem] = {}
        self._watches: dict[str, RegionWatch | None] = {}
        self._history: dict[str, list[streams.StreamRecord] | None] = {}
        self._history_opened: dict[str, dict[str, str]] = {}  # region: shard: iterator
        self.history_read_at: dict[str, float] = {}  # when each region's history was read
        self._sizers: dict[tuple[str, str], PageSizer] = {}

    # ----- tables ----------------------------------------------------------------------
    def describe(self, region: str) -> dict[str, Any]:
        """DescribeTable, once per region; an environment problem is remembered too."""
        if region not in self._descriptions:
            try:
                response = self.call(
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
            # Raised again by every step of every participant: without its old traceback,
            # which would otherwise grow with each raise (a class of 500, minutes of it).
            raise found.with_traceback(None)
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

    def small(self, region: str) -> bool:
        """Is the table in `region` small enough that one Scan beats looking keys up?"""
        table = self.describe(region)
        return (table.get("TableSizeBytes") or 0) <= SCAN_FIRST_BYTES and (
            table.get("ItemCount") or 0
        ) <= SCAN_LIMIT

    # ----- items -----------------------------------------------------------------------
    def batch_get(
        self, region: str, keys: list[Key], *, wait_for_budget: bool
    ) -> dict[Key, Attributes | None] | None:
        """Every key's copy in `region` (None where absent), 100 keys a request; None if
        the budget says not now. Unprocessed keys are asked again, with backoff."""
        copies: dict[Key, Attributes | None] = {}
        per_request = self._keys_per_request(region)
        for start in range(0, len(keys), per_request):
            chunk = keys[start : start + per_request]
            if not self.afford(
                region, self.table, EVENTUAL_READ_RCU * len(chunk), wait=wait_for_budget
            ):
                return None
            found = self._batch_get_chunk(region, chunk)
            units = sum(item_units(item) for item in found.values())
            self.budget.charge(
                region, self.table, units + EVENTUAL_READ_RCU * (len(chunk) - len(found))
            )
            copies.update({key: found.get(key) for key in chunk})
        return copies

    def _sizer(self, region: str, resource: str, most: int) -> PageSizer:
        if (region, resource) not in self._sizers:
            self._sizers[(region, resource)] = PageSizer(
                lambda: self.budget.depth(region, resource), most
            )
        return self._sizers[(region, resource)]

    def _keys_per_request(self, region: str) -> int:
        """Keys a BatchGetItem may name so that it costs no more than the budget's depth."""
        depth = self.budget.depth(region, self.table)
        return max(1, min(BATCH_GET_LIMIT, int(depth / EVENTUAL_READ_RCU)))

    def _batch_get_chunk(self, region: str, chunk: list[Key]) -> dict[Key, Attributes]:
        found: dict[Key, Attributes] = {}
        pending: dict[str, Any] = {self.table: {"Keys": [key_attributes(k) for k in chunk]}}

        def ask() -> dict[str, Any]:
            nonlocal pending
            response = self.call(self.clients.dynamodb(region).batch_get_item, RequestItems=pending)
            for item in response.get("Responses", {}).get(self.table, []):
                item_key = key_of(item)
                if item_key is not None:
                    found[item_key] = item
            pending = response.get("UnprocessedKeys") or {}
            return pending

        retrying = Retrying(
            retry=retry_if_result(bool),
            stop=stop_after_attempt(RETRY_ATTEMPTS)
            | stop_at_deadline(self.deadline, self.monotonic, grace=RETRY_GRACE_SECONDS),
            wait=wait_exponential(multiplier=0.1, max=2.0),
            sleep=self.sleep,
            retry_error_callback=lambda state: state.outcome.result() if state.outcome else {},
        )
        if retrying(ask):
            raise EnvironmentProblem(
                _("BatchGetItem in {region}: keys left unprocessed").format(region=region)
            )
        return found

    # ----- indexes and scans -----------------------------------------------------------
    def query_index(
        self, region: str, index: str, partition: str, *, wait_for_budget: bool
    ) -> set[Key] | None:
        """The table keys a KEYS_ONLY index lists under one partition value; None if the
        budget says not now."""
        keys: set[Key] = set()
        start_key: dict[str, Any] | None = None
        sizes = self._sizer(region, index, QUERY_PAGE)
        for _page in range(50):  # pages: a workshop index partition is small
            if not self.afford(region, index, sizes.units(), wait=wait_for_budget):
                return None
            request: dict[str, Any] = {
                "TableName": self.table,
                "IndexName": index,
                "KeyConditionExpression": "#pk = :pk",
                "ExpressionAttributeNames": {"#pk": f"{index}PK"},
                "ExpressionAttributeValues": {":pk": {"S": partition}},
                "Limit": sizes.limit(),
            }
            if start_key:
                request["ExclusiveStartKey"] = start_key
            response = self.call(self.clients.dynamodb(region).query, **request)
            items = response.get("Items", [])
            self.budget.charge(region, index, page_units(items))
            sizes.saw(items)
            keys.update(k for k in map(key_of, items) if k is not None)
            start_key = response.get("LastEvaluatedKey")
            if not start_key:
                break
        return keys

    def scan(self, region: str) -> tuple[list[Attributes], bool]:
        """The table's items in `region`, bounded, inside the budget; and whether that was
        the whole table (then an absent key is absent)."""
        items: list[Attributes] = []
        start_key: dict[str, Any] | None = None
        sizes = self._sizer(region, self.table, SCAN_PAGE)
        sizes.described(average_item_bytes(self.describe(region)))
        while len(items) < SCAN_LIMIT:
            self.afford(region, self.table, sizes.units(), wait=True)
            request: dict[str, Any] = {"TableName": self.table, "Limit": sizes.limit()}
            if start_key:
                request["ExclusiveStartKey"] = start_key
            response = self.call(self.clients.dynamodb(region).scan, **request)
            page = response.get("Items", [])
            self.budget.charge(region, self.table, page_units(page))
            sizes.saw(page)
            items.extend(page)
            start_key = response.get("LastEvaluatedKey")
            if not start_key:
                break
        return items[:SCAN_LIMIT], not start_key

    # ----- streams and metrics ----------------------------------------------------------
    def open_watches(self) -> None:
        """Open every region's stream (before the first read of items), so that a later
        wait learns of new writes without spending read capacity."""
        for region in self.present_regions():
            self.open_watch(region)

    def open_watch(self, region: str) -> None:
        """Open `region`'s stream, once (the table must exist there)."""
        if region not in self._watches:
            arn = self.describe(region).get("LatestStreamArn")
            self._watches[region] = open_watch(
                self.clients.streams(region), arn, self.pacer, self._count
            )

    def watch(self, region: str) -> RegionWatch | None:
        """The region's open stream watch, or None (no stream: waiting reads items)."""
        return self._watches.get(region)

    def histories(self) -> dict[str, list[streams.StreamRecord]] | None:
        """Each region's stream history, read once; None if any region's is unreadable."""
        found: dict[str, list[streams.StreamRecord]] = {}
        for region in self.regions:
            records = self.history(region)
            if records is None:
                return None  # what needs the streams stays unknown
            found[region] = records
        return found

    def open_history(self, region: str) -> None:
        """Ask now for the iterators `history` will read `region`'s stream from (beside a
        Scan, say); a problem is left for `history` to meet again."""
        if region in self._history or region in self._history_opened:
            return
        try:
            stream = self._region_stream(region)
            if stream is not None:
                self._history_opened[region] = stream.open()
        except (EnvironmentProblem, ClientError):
            pass

    def history(self, region: str) -> list[streams.StreamRecord] | None:
        """`region`'s stream history, read once; None when it has no readable stream."""
        if region not in self._history:
            records = None
            try:
                stream = self._region_stream(region, self._history_opened.pop(region, None))
                if stream is not None:
                    records = stream.history()
                    self.history_read_at[region] = self.monotonic()
            except (EnvironmentProblem, ClientError):
                pass  # no stream here
            self._history[region] = records
        return self._history[region]

    def _region_stream(
        self, region: str, opened: dict[str, str] | None = None
    ) -> streams.RegionStream | None:
        arn = self.describe(region).get("LatestStreamArn")
        if not arn:
            return None
        watch = self.watch(region)
        return streams.RegionStream(
            self.call,
            self.clients.streams(region),
            arn,
            self.pacer,
            self.sleep,
            watch.described if watch is not None else None,  # described already: not again
            opened,
        )

    def metric_statistics(self, region: str, **request: Any) -> dict[str, Any]:
        """CloudWatch GetMetricStatistics with the run's retries (no table capacity used)."""
        return self.call(self.clients.cloudwatch(region).get_metric_statistics, **request)

    # ----- budget and calls --------------------------------------------------------------
    def afford(self, region: str, resource: str, units: float, *, wait: bool) -> bool:
        """Can `units` be spent on `resource` now? With `wait`, sleep until they can."""
        while not self.budget.affordable(region, resource, units):
            if not wait:
                return False
            delay = self.budget.seconds_until(region, resource, units)
            self.sleep(max(delay, 0.01))
        return True

    def _count(self, operation: str) -> None:
        with self._counting:
            self.requests[operation] += 1

    def call(self, operation: Callable[..., Any], /, **kwargs: Any) -> Any:
        """One AWS read with retries on throttling, under the run's deadline; exhausted
        retries are the environment's."""
        self._count(operation.__name__)
        retrying = Retrying(
            retry=retry_if_exception_type(aws.Transient),
            stop=stop_after_attempt(RETRY_ATTEMPTS)
            | stop_at_deadline(self.deadline, self.monotonic, grace=RETRY_GRACE_SECONDS),
            wait=wait_exponential(multiplier=0.1, max=2.0),
            sleep=self.sleep,
            reraise=True,
        )
        attempts = 0
        try:
            for attempt in retrying:
                with attempt:
                    attempts = attempt.retry_state.attempt_number
                    if attempts > 1:
                        self._count(operation.__name__)
                    return aws.call(operation, **kwargs)
        except aws.Transient as problem:
            raise EnvironmentProblem(
                _("throttled or failing after {attempts} attempts: {error}").format(
                    attempts=attempts, error=problem
                )
            ) from None
        raise AssertionError("unreachable")  # pragma: no cover


def average_item_bytes(description: dict[str, Any]) -> float | None:
    """The table's average item size as DescribeTable reports it (refreshed every few hours
    on AWS), or None when it reports nothing yet."""
    size, count = description.get("TableSizeBytes") or 0, description.get("ItemCount") or 0
    return size / count if size > 0 and count > 0 else None


class PageSizer:
    """How many items a Scan or Query page of one resource may ask for, so that one page
    costs no more than the budget's depth: from the items' average size, as the table
    describes it, then as read."""

    ASSUMED_ITEM_BYTES = 1024.0  # before anything is known: larger than any workshop item

    def __init__(self, depth: Callable[[], float], most: int) -> None:
        self.depth = depth
        self.most = most
        self.average = self.ASSUMED_ITEM_BYTES
        self._seen_bytes = 0
        self._seen_items = 0

    def described(self, average_bytes: float | None) -> None:
        if average_bytes and not self._seen_items:
            self.average = average_bytes

    def limit(self) -> int:
        per_item = max(self.average, 1.0)
        fitting = int(self.depth() / EVENTUAL_READ_RCU * READ_UNIT_BYTES / per_item)
        return max(1, min(self.most, fitting))

    def units(self) -> float:
        """What the next page is expected to cost, at most the depth."""
        expected = EVENTUAL_READ_RCU * math.ceil(self.limit() * self.average / READ_UNIT_BYTES)
        return min(self.depth(), max(EVENTUAL_READ_RCU, expected))

    def saw(self, items: list[Attributes]) -> None:
        if items:
            self._seen_bytes += sum(item_size(item) for item in items)
            self._seen_items += len(items)
            self.average = self._seen_bytes / self._seen_items


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
