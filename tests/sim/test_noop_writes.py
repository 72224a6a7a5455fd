"""A write that changes nothing makes no stream record and replicates nothing, as on DynamoDB."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.sim.test_replication import clients, get, key, stream_images

TABLE = "demo-ecommerce-freetier"
US, EU = "us-east-1", "eu-west-1"
ITEM = {**key("USER#ana"), "v": {"N": "1"}, "name": {"S": "Ana"}}


def put(client: Any) -> None:
    client.put_item(TableName=TABLE, Item=ITEM)


def update(client: Any) -> None:
    client.update_item(
        TableName=TABLE,
        Key=key("USER#ana"),
        UpdateExpression="SET v = :v, #n = :n",
        ExpressionAttributeNames={"#n": "name"},
        ExpressionAttributeValues={":v": {"N": "1"}, ":n": {"S": "Ana"}},
    )


def batch_put(client: Any) -> None:
    client.batch_write_item(RequestItems={TABLE: [{"PutRequest": {"Item": ITEM}}]})


def transact_put(client: Any) -> None:
    client.transact_write_items(TransactItems=[{"Put": {"TableName": TABLE, "Item": ITEM}}])


SAME_WRITES = [
    pytest.param(put, id="put-item"),
    pytest.param(update, id="update-item"),
    pytest.param(batch_put, id="batch-write-item"),
    pytest.param(transact_put, id="transact-write-items"),
]


@pytest.mark.parametrize("rewrite", SAME_WRITES)
def test_rewriting_the_same_item_adds_no_stream_record(sim, rewrite: Callable[[Any], None]):
    """The region's stream holds the first write only; the rewrite is not in it."""
    us, streams = clients(sim, US)[0], clients(sim, US, service="dynamodbstreams")[0]
    put(us)
    rewrite(us)
    assert stream_images(us, streams) == [("INSERT", ITEM)]


@pytest.mark.parametrize("rewrite", SAME_WRITES)
def test_rewriting_the_same_item_replicates_nothing(sim, rewrite: Callable[[Any], None]):
    """Nothing is sent: the delivered count stays, and a newer copy elsewhere survives."""
    us, eu = clients(sim, US, EU)
    put(us)
    sim.advance(2)
    assert sim.state()["delivered"] == 1
    sim.pause(EU, US)  # eu-west-1's newer write stays there
    eu.put_item(TableName=TABLE, Item={**ITEM, "v": {"N": "2"}})
    rewrite(us)
    sim.advance(10)
    assert sim.state()["delivered"] == 1
    assert sim.state()["pending"] == {f"{EU}>{US}": 1}
    assert get(eu, "USER#ana")["v"] == {"N": "2"}


def test_a_write_that_changes_something_still_replicates(sim):
    """Only identical images are dropped: a changed value is streamed and replicated."""
    us, eu = clients(sim, US, EU)
    streams = clients(sim, US, service="dynamodbstreams")[0]
    put(us)
    us.put_item(TableName=TABLE, Item={**ITEM, "v": {"N": "3"}})
    sim.advance(2)
    assert [event for event, _ in stream_images(us, streams)] == ["INSERT", "MODIFY"]
    assert sim.state()["delivered"] == 2
    assert get(eu, "USER#ana")["v"] == {"N": "3"}
