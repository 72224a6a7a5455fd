"""The item-heavy responses the simulator writes straight to JSON parse to exactly what
moto's shape-walking serializer gives, for every kind of attribute value."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto.core import responses

from gtcheck.sim import ManualClock, SimConfig, Simulator, fastjson  # Simulator installs it

TABLE = "demo-ecommerce-freetier"
US, EU = "us-east-1", "eu-west-1"

names = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x2FF), min_size=1, max_size=8)
numbers = st.integers(-(10**12), 10**12).map(str) | st.sampled_from(["0.5", "-1.25", "1E+3"])
scalars = st.one_of(
    st.text(max_size=20).map(lambda s: {"S": s}),
    numbers.map(lambda n: {"N": n}),
    st.binary(min_size=1, max_size=16).map(lambda b: {"B": b}),
    st.booleans().map(lambda b: {"BOOL": b}),
    st.just({"NULL": True}),
    st.sets(st.text(min_size=1, max_size=6), min_size=1, max_size=3).map(
        lambda s: {"SS": sorted(s)}
    ),
    st.sets(st.integers(0, 999).map(str), min_size=1, max_size=3).map(lambda s: {"NS": sorted(s)}),
    st.sets(st.binary(min_size=1, max_size=4), min_size=1, max_size=3).map(
        lambda s: {"BS": sorted(s)}
    ),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3).map(lambda v: {"L": v})
    | st.dictionaries(names, inner, max_size=3).map(lambda v: {"M": v}),
    max_leaves=6,
)
attributes = st.dictionaries(
    names.filter(lambda n: n not in ("PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK")),
    values,
    max_size=5,
)


@pytest.fixture(scope="module")
def sim() -> Simulator:
    return Simulator(SimConfig(lag=1.0, jitter=0.0, capacity=False), clock=ManualClock())


@pytest.fixture(scope="module")
def compared(sim: Simulator) -> Iterator[list[tuple[str, Any, Any]]]:
    """Every fast response, beside moto's own serialization of the same result."""
    patched = responses.ActionResult.execute_result
    seen: list[tuple[str, Any, Any]] = []

    def both(self: responses.ActionResult, context: Any) -> Any:
        answer = patched(self, context)
        if fastjson.fast(context, self.result):
            seen.append((context.operation_model.name, answer, patched.moto(self, context)))
        return answer

    responses.ActionResult.execute_result = both  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        responses.ActionResult.execute_result = patched  # type: ignore[method-assign]


def assert_same(compared: list[tuple[str, Any, Any]]) -> set[str]:
    for operation, (status, headers, body), (status_, headers_, body_) in compared:
        assert status == status_, operation
        assert headers["Content-Type"] == headers_["Content-Type"], operation
        assert json.loads(body) == json.loads(body_), operation
    operations = {operation for operation, _, _ in compared}
    compared.clear()
    return operations


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(extra=attributes, number=st.integers(0, 10**6))
def test_every_item_read_parses_as_moto_writes_it(
    sim: Simulator, compared: list[Any], extra: dict[str, Any], number: int
) -> None:
    db = sim.client("dynamodb", US)
    key = {"PK": {"S": f"ITEM#{number}"}, "SK": {"S": "X"}}
    item = {**key, "GSI1PK": {"S": "P"}, "GSI1SK": {"S": f"S{number}"}, **extra}
    db.put_item(TableName=TABLE, Item=item)
    db.get_item(TableName=TABLE, Key=key)
    db.get_item(TableName=TABLE, Key={"PK": {"S": "absent"}, "SK": {"S": "X"}})
    db.batch_get_item(RequestItems={TABLE: {"Keys": [key]}}, ReturnConsumedCapacity="TOTAL")
    db.query(
        TableName=TABLE, IndexName="GSI1", KeyConditionExpression="GSI1PK = :p",
        ExpressionAttributeValues={":p": {"S": "P"}}, ReturnConsumedCapacity="INDEXES",
    )  # fmt: skip
    db.scan(TableName=TABLE, Limit=3)
    assert assert_same(compared) == {"GetItem", "BatchGetItem", "Query", "Scan"}


def test_stream_records_parse_as_moto_writes_them(sim: Simulator, compared: list[Any]) -> None:
    db = sim.client("dynamodb", US)
    db.put_item(TableName=TABLE, Item={"PK": {"S": "S#1"}, "SK": {"S": "X"}, "b": {"B": b"\x00"}})
    db.delete_item(TableName=TABLE, Key={"PK": {"S": "S#1"}, "SK": {"S": "X"}})
    sim.advance(2)
    streams = sim.client("dynamodbstreams", EU)
    arn = sim.client("dynamodb", EU).describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator)["Records"]
    assert {record["eventName"] for record in records} >= {"INSERT", "REMOVE"}
    assert assert_same(compared) == {"GetRecords"}


def test_errors_are_still_moto_s(sim: Simulator, compared: list[Any]) -> None:
    db = sim.client("dynamodb", US)
    with pytest.raises(db.exceptions.ResourceNotFoundException):
        db.scan(TableName="no-such-table")
    assert compared == []
