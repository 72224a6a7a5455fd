"""Reading a region's DynamoDB stream: which region saw a write first.

Stream reads cost no table read capacity. DynamoDB stamps each record with the time it was
written, rounded down to the second, in the region whose stream holds it; the region
whose stream shows an item first is where it was written, when the seconds differ.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gtcheck.items import Key, key_of

MAX_CALLS = 200
MAX_RECORDS = 50_000


@dataclass(frozen=True)
class StreamRecord:
    key: Key
    event: str
    written_at: float  # seconds since the epoch, as the stream says (whole seconds on AWS)


def read_all(call: Callable[..., Any], client: Any, stream_arn: str) -> list[StreamRecord]:
    """Every record still in the stream, oldest first per shard, within fixed bounds."""
    records: list[StreamRecord] = []
    calls = 0
    shards: list[dict[str, Any]] = []
    start: str | None = None
    while calls < MAX_CALLS:
        request: dict[str, Any] = {"StreamArn": stream_arn}
        if start:
            request["ExclusiveStartShardId"] = start
        description = call(client.describe_stream, **request)["StreamDescription"]
        calls += 1
        shards.extend(description.get("Shards", []))
        start = description.get("LastEvaluatedShardId")
        if not start:
            break
    for shard in shards:
        iterator = call(
            client.get_shard_iterator,
            StreamArn=stream_arn,
            ShardId=shard["ShardId"],
            ShardIteratorType="TRIM_HORIZON",
        ).get("ShardIterator")
        calls += 1
        while iterator and calls < MAX_CALLS and len(records) < MAX_RECORDS:
            response = call(client.get_records, ShardIterator=iterator, Limit=1000)
            calls += 1
            batch = response.get("Records", [])
            records.extend(_parse(record) for record in batch if _parse(record) is not None)
            iterator = response.get("NextShardIterator")
            if not batch:
                break
    return records


def _parse(record: dict[str, Any]) -> StreamRecord | None:
    dynamodb = record.get("dynamodb", {})
    key = key_of(dynamodb.get("Keys", {}))
    stamp = dynamodb.get("ApproximateCreationDateTime")
    if key is None or stamp is None:
        return None
    written_at = stamp.timestamp() if hasattr(stamp, "timestamp") else float(stamp)
    return StreamRecord(key, str(record.get("eventName", "")), written_at)


def first_writer(records: dict[str, list[StreamRecord]], key: Key) -> str | None:
    """The region whose stream shows `key` strictly first; None when unknown or tied."""
    firsts = {
        region: min((r.written_at for r in found if r.key == key), default=None)
        for region, found in records.items()
    }
    seen = sorted((moment, region) for region, moment in firsts.items() if moment is not None)
    if not seen or (len(seen) > 1 and seen[0][0] == seen[1][0]):
        return None
    return seen[0][1]
