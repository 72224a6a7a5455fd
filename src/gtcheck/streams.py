"""Reading a region's DynamoDB stream history, which costs no table read capacity.

It tells which region saw a write first (DynamoDB stamps each record with the time it was
written in the region whose stream holds it, rounded down to the second), and which keys
were written in the last 24 hours.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gtcheck.items import Attributes, Key, key_of
from gtcheck.streamwatch import ShardPacer, describe_shards

MAX_CALLS = 200
MAX_RECORDS = 50_000
PAGE = 1000


@dataclass(frozen=True)
class StreamRecord:
    key: Key
    event: str
    written_at: float  # seconds since the epoch, as the stream says (whole seconds on AWS)
    image: Attributes | None  # the item after the write; None once removed


class RegionStream:
    """One region's stream of the table, read at the pace DynamoDB Streams allows."""

    def __init__(
        self,
        call: Callable[..., Any],
        client: Any,
        stream_arn: str,
        pacer: ShardPacer,
        sleep: Callable[[float], None],
        shards: list[dict[str, Any]] | None = None,
        opened: dict[str, str] | None = None,
    ) -> None:
        self._call = call
        self._client = client
        self._arn = stream_arn
        self._pacer = pacer
        self._sleep = sleep
        self._described = shards  # the shards, when a watch has just described them
        self._opened = opened or {}  # TRIM_HORIZON iterators by shard, asked for earlier

    def open(self) -> dict[str, str]:
        """A TRIM_HORIZON iterator for every shard, to read later: such an iterator still
        reads up to the moment it is used, so it may be asked for while something else is
        read, and the history then costs one round trip less."""
        return {shard["ShardId"]: self._iterator(shard["ShardId"]) for shard in self._shards()}

    def history(self) -> list[StreamRecord]:
        """Every record still in the stream, oldest first per shard, within fixed bounds."""
        records: list[StreamRecord] = []
        calls = 0
        for shard in self._shards():
            iterator = self._opened.get(shard["ShardId"]) or self._iterator(shard["ShardId"])
            shard_key = f"{self._arn}/{shard['ShardId']}"
            while iterator and calls < MAX_CALLS and len(records) < MAX_RECORDS:
                if (delay := self._pacer.wait_for(shard_key)) > 0:
                    self._sleep(delay)
                self._pacer.mark(shard_key)
                response = self._call(self._client.get_records, ShardIterator=iterator, Limit=PAGE)
                calls += 1
                batch = _parse_all(response.get("Records", []))
                records.extend(batch)
                if len(response.get("Records", [])) < PAGE:
                    break  # caught up (a short page): no second call, which would wait
                iterator = response.get("NextShardIterator")
        return records

    def _iterator(self, shard_id: str) -> str | None:
        return self._call(
            self._client.get_shard_iterator,
            StreamArn=self._arn,
            ShardId=shard_id,
            ShardIteratorType="TRIM_HORIZON",
        ).get("ShardIterator")

    def _shards(self) -> list[dict[str, Any]]:
        if self._described:
            return self._described
        return describe_shards(self._call, self._client, self._arn, MAX_CALLS)


def _parse_all(raw: list[dict[str, Any]]) -> list[StreamRecord]:
    parsed = (_parse(record) for record in raw)
    return [record for record in parsed if record is not None]


def _parse(record: dict[str, Any]) -> StreamRecord | None:
    dynamodb = record.get("dynamodb", {})
    key = key_of(dynamodb.get("Keys", {}))
    stamp = dynamodb.get("ApproximateCreationDateTime")
    if key is None or stamp is None:
        return None
    written_at = stamp.timestamp() if hasattr(stamp, "timestamp") else float(stamp)
    event = str(record.get("eventName", ""))
    image = None if event == "REMOVE" else dynamodb.get("NewImage")
    return StreamRecord(key, event, written_at, image)


def first_sightings(history: dict[str, list[StreamRecord]]) -> dict[Key, dict[str, float]]:
    """When each region's stream first shows each key: built once, asked for many keys."""
    firsts: dict[Key, dict[str, float]] = {}
    for region, records in history.items():
        for record in records:
            seen = firsts.setdefault(record.key, {})
            seen[region] = min(seen.get(region, record.written_at), record.written_at)
    return firsts


def first_writer(sightings: dict[Key, dict[str, float]], key: Key) -> str | None:
    """The region whose stream shows `key` strictly first; None when unknown or tied."""
    seen = sorted((moment, region) for region, moment in sightings.get(key, {}).items())
    if not seen or (len(seen) > 1 and seen[0][0] == seen[1][0]):
        return None
    return seen[0][1]
