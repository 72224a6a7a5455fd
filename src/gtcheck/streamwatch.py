"""Watching each region's DynamoDB stream while something is pending there.

GetRecords costs no table read capacity, so a step that waits learns from the stream the
moment a pending item is written in a region, and re-reads just that item then, instead
of polling every key against the read budget. DynamoDB Streams allows 5 GetRecords
calls per second per shard; each shard is read at most every `SHARD_INTERVAL` seconds,
close to that limit (an arrival is seen sooner) with a margin for calls that reach the
service unevenly spaced. Another reader of the same shard may then be refused now and
then; a refused look is only skipped and made again one interval later.

Iterators are opened (LATEST) before the run's first read of items, so nothing written
between that read and the first look at the stream goes unseen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from gtcheck import aws
from gtcheck.errors import EnvironmentProblem
from gtcheck.items import Key, key_of

CALLS_PER_SECOND = 5  # DynamoDB Streams' GetRecords limit per shard
LIMIT_MARGIN_S = 0.1  # slack over every 5 intervals: 6 calls never land within one second
SHARD_INTERVAL = (1.0 + LIMIT_MARGIN_S) / CALLS_PER_SECOND  # 0.22 s between calls on a shard
RECORDS_PER_CALL = 1000
MAX_SHARD_PAGES = 20
LOST_POSITION = frozenset({"ExpiredIteratorException", "TrimmedDataAccessException"})


@dataclass
class ShardPacer:
    """When each shard may next be read: shared by everything that calls GetRecords."""

    monotonic: Callable[[], float]
    interval: float = SHARD_INTERVAL
    _last: dict[str, float] = field(default_factory=dict)

    def wait_for(self, shard: str) -> float:
        """Seconds until `shard` may be read again (0 when it may be read now)."""
        last = self._last.get(shard)
        return 0.0 if last is None else max(0.0, last + self.interval - self.monotonic())

    def mark(self, shard: str) -> None:
        self._last[shard] = self.monotonic()


@dataclass
class _Shard:
    shard_id: str
    iterator: str | None


class RegionWatch:
    """One region's stream, read from the moment the watch was opened."""

    def __init__(
        self, client: Any, stream_arn: str, pacer: ShardPacer, counter: Callable[[str], None]
    ) -> None:
        self._client = client
        self._arn = stream_arn
        self._pacer = pacer
        self._count = counter
        self._shards: dict[str, _Shard] = {}
        self.described: list[dict[str, Any]] = []  # every shard, as the watch opened
        self.calls = 0
        self.skipped = 0  # shards the last poll did not read (paced, throttled): not a full look
        self.removed: set[Key] = set()  # keys the last poll showed deleted (REMOVE records)

    def open(self) -> None:
        """Open a LATEST iterator on every open shard."""
        self.described = self._describe_shards()
        for shard in self.described:
            if "EndingSequenceNumber" in shard.get("SequenceNumberRange", {}):
                continue  # closed: holds nothing newer than now
            self._open(shard["ShardId"], "LATEST")

    def ready_in(self) -> float:
        """Seconds until every shard of this region may be read again."""
        return max((self._pacer.wait_for(self._key(s)) for s in self._shards), default=0.0)

    def poll(self) -> set[Key] | None:
        """Keys written in this region since the last poll; None when the stream's position
        was lost (expired or trimmed), so anything may have been written."""
        seen: set[Key] = set()
        lost = False
        self.skipped = 0
        self.removed = set()
        for shard in list(self._shards.values()):
            if self._pacer.wait_for(self._key(shard.shard_id)) > 0 or shard.iterator is None:
                self.skipped += 1
                continue
            self._pacer.mark(self._key(shard.shard_id))
            self.calls += 1
            self._count("get_records")
            try:
                response = aws.call(
                    self._client.get_records, ShardIterator=shard.iterator, Limit=RECORDS_PER_CALL
                )
            except aws.Transient:
                self.skipped += 1
                continue  # over the shard's limit or a passing fault: look again next time
            except ClientError as problem:
                if problem.response.get("Error", {}).get("Code") not in LOST_POSITION:
                    raise
                self._open(shard.shard_id, "LATEST")
                lost = True
                continue
            for record in response.get("Records", []):
                key = key_of(record.get("dynamodb", {}).get("Keys", {}))
                if key is not None:
                    seen.add(key)
                    if record.get("eventName") == "REMOVE":
                        self.removed.add(key)
            shard.iterator = response.get("NextShardIterator")
            if shard.iterator is None:  # the shard closed: its children carry on
                del self._shards[shard.shard_id]
                self._open_children(shard.shard_id)
        return None if lost else seen

    def _key(self, shard_id: str) -> str:
        return f"{self._arn}/{shard_id}"

    def _open(self, shard_id: str, kind: str) -> None:
        self._count("get_shard_iterator")
        response = aws.call(
            self._client.get_shard_iterator,
            StreamArn=self._arn,
            ShardId=shard_id,
            ShardIteratorType=kind,
        )
        self._shards[shard_id] = _Shard(shard_id, response.get("ShardIterator"))

    def _open_children(self, parent: str) -> None:
        for shard in self._describe_shards():
            if shard.get("ParentShardId") == parent and shard["ShardId"] not in self._shards:
                self._open(shard["ShardId"], "TRIM_HORIZON")

    def _describe_shards(self) -> list[dict[str, Any]]:
        def call(operation: Callable[..., Any], /, **request: Any) -> Any:
            self._count("describe_stream")
            return aws.call(operation, **request)

        return describe_shards(call, self._client, self._arn)


def open_watch(
    client: Any, stream_arn: str | None, pacer: ShardPacer, counter: Callable[[str], None]
) -> RegionWatch | None:
    """A watch on a region's stream, or None when it has none or it cannot be read."""
    if not stream_arn:
        return None
    watch = RegionWatch(client, stream_arn, pacer, counter)
    try:
        watch.open()
    except (aws.Transient, EnvironmentProblem, ClientError):
        return None  # waiting falls back to reading items
    return watch


def describe_shards(
    call: Callable[..., Any], client: Any, stream_arn: str, pages: int = MAX_SHARD_PAGES
) -> list[dict[str, Any]]:
    """Every shard of a stream, page by page (DescribeStream pages by shard)."""
    shards: list[dict[str, Any]] = []
    start: str | None = None
    for _page in range(pages):
        request: dict[str, Any] = {"StreamArn": stream_arn}
        if start:
            request["ExclusiveStartShardId"] = start
        description = call(client.describe_stream, **request)["StreamDescription"]
        shards.extend(description.get("Shards", []))
        start = description.get("LastEvaluatedShardId")
        if not start:
            break
    return shards
