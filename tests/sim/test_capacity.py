"""Provisioned capacity: units as DynamoDB bills them, per-second buckets with burst,
throttling past them, ConsumedCapacity, and what each table and index consumed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from gtcheck.sim import ManualClock, SimConfig, Simulator
from gtcheck.sim.capacity import TokenBucket, item_size, read_units, write_units
from gtcheck.sim.inprocess import IN_PROCESS_ENDPOINT
from tests.sim.test_faults import control

TABLE = "demo-ecommerce-freetier"
GSI1 = f"{TABLE}/index/GSI1"
US, EU = "us-east-1", "eu-west-1"
THROTTLED = (
    "The level of configured provisioned throughput for the table was exceeded. "
    "Consider increasing your provisioning level with the UpdateTable API."
)
NO_RETRIES = Config(retries={"total_max_attempts": 1})


def make_sim(**settings: Any) -> Simulator:
    return Simulator(SimConfig(lag=1.0, jitter=0.0, **settings), clock=ManualClock())


def client(sim: Simulator, region: str = US) -> Any:
    return sim.session().client(
        "dynamodb", region_name=region, endpoint_url=IN_PROCESS_ENDPOINT, config=NO_RETRIES
    )


def key(pk: str, sk: str = "PROFILE") -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def strong_read(db: Any, pk: str = "USER#ana") -> dict[str, Any]:
    return db.get_item(TableName=TABLE, Key=key(pk), ConsistentRead=True)


def reads_until_refused(db: Any, limit: int = 2000) -> int:
    """How many 1-RCU reads pass before the first refusal."""
    passed = 0
    while passed < limit:
        try:
            strong_read(db)
        except ClientError as error:
            code = error.response["Error"]["Code"]
            break
        passed += 1
    else:
        raise AssertionError(f"no refusal within {limit} reads")
    assert code == "ProvisionedThroughputExceededException"
    return passed


def usage(sim: Simulator, resource: str = TABLE, region: str = US) -> dict[str, float]:
    return sim.state()["capacity"]["usage"][region][resource]


# ----- units -----------------------------------------------------------------------------------
def test_units_round_up_per_started_block():
    """Reads per started 4 KB (half when eventually consistent), writes per started 1 KB."""
    assert read_units(0, consistent=False) == 0.5
    assert read_units(4096, consistent=True) == 1.0
    assert read_units(4097, consistent=False) == 1.0
    assert read_units(4097, consistent=True, transactional=True) == 4.0
    assert write_units(1) == 1.0
    assert write_units(1025) == 2.0
    assert write_units(1024, transactional=True) == 2.0


def test_item_size_counts_names_and_values_as_dynamodb_does():
    """Names and strings in UTF-8 bytes, numbers by significant digits, containers' overhead."""
    assert item_size({"PK": {"S": "ab"}}) == 4
    assert item_size({"n": {"N": "12345"}}) == 1 + 4
    assert item_size({"é": {"BOOL": True}}) == 2 + 1
    assert item_size({"m": {"M": {"a": {"NULL": True}}}}) == 1 + 3 + 1 + 1 + 1
    assert item_size({"b": {"B": "AAEC"}}) == 1 + 3  # base64 of three bytes


def test_bucket_keeps_unused_capacity_up_to_the_burst():
    """Unused capacity accumulates at the rate, capped at burst_seconds of it."""
    bucket = TokenBucket(rate=5, burst_seconds=10, now=0.0)
    bucket.spend(50, rate=5, now=0.0)
    assert bucket.refill(5, now=4.0) == pytest.approx(20)
    assert bucket.refill(5, now=1000.0) == pytest.approx(50)
    strict = TokenBucket(rate=5, burst_seconds=0, now=0.0)
    assert strict.refill(5, now=100.0) == pytest.approx(5)


# ----- enforcement -----------------------------------------------------------------------------
def test_strict_table_refuses_the_sixth_read_in_a_second():
    """burst_seconds=0: five 1-RCU reads pass, the sixth gets the throttling error."""
    sim = make_sim(burst_seconds=0)
    db = client(sim)
    for _ in range(5):
        strong_read(db)
    with pytest.raises(ClientError) as info:
        strong_read(db)
    assert info.value.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
    assert info.value.response["Error"]["Message"] == THROTTLED
    sim.advance(0.2)  # one unit back
    strong_read(db)
    assert usage(sim)["refused_reads"] == 1
    assert usage(sim)["read_units"] == 6.0


def test_unused_capacity_accumulates_up_to_burst_seconds():
    """With a 10 s burst: 50 reads in hand, 4 idle seconds give 20, a long idle only 50."""
    sim = make_sim(burst_seconds=10)
    db = client(sim)
    assert reads_until_refused(db) == 50
    sim.advance(4.0)
    assert reads_until_refused(db) == 20
    sim.advance(1000.0)
    assert reads_until_refused(db) == 50
    assert usage(sim)["refused_reads"] == 3


def test_eventually_consistent_reads_cost_half():
    """Ten 0.5-RCU reads fit in a strict second where five strong reads do."""
    sim = make_sim(burst_seconds=0)
    db = client(sim)
    for _ in range(10):
        db.get_item(TableName=TABLE, Key=key("USER#ana"))
    with pytest.raises(ClientError):
        db.get_item(TableName=TABLE, Key=key("USER#ana"))


def test_a_full_gsi_refuses_writes_that_touch_it_only():
    """Writes with GSI1 keys use GSI1's 5 WCU too; once spent they are refused, others pass."""
    sim = make_sim(burst_seconds=0)
    db = client(sim)
    db.update_table(
        TableName=TABLE, ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 100}
    )
    indexed = {"GSI1PK": {"S": "CATEGORY#x"}, "GSI1SK": {"S": "P"}}
    for n in range(5):
        db.put_item(TableName=TABLE, Item={**key(f"PRODUCT#{n}"), **indexed})
    with pytest.raises(ClientError) as info:
        db.put_item(TableName=TABLE, Item={**key("PRODUCT#6"), **indexed})
    assert info.value.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
    db.put_item(TableName=TABLE, Item=key("USER#plain"))
    assert usage(sim, GSI1)["refused_writes"] == 1
    assert usage(sim, GSI1)["write_units"] == 5.0
    assert db.get_item(TableName=TABLE, Key=key("PRODUCT#6")).get("Item") is None


def test_replicated_writes_use_the_receiving_capacity_but_are_never_refused():
    """Twenty writes arrive at once in a strict 5 WCU table: all applied, none refused, and
    the table's own writers wait until the refill has paid for them."""
    sim = make_sim(burst_seconds=0)
    us, eu = client(sim, US), client(sim, EU)
    us.update_table(
        TableName=TABLE, ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 100}
    )
    for n in range(20):
        us.put_item(TableName=TABLE, Item=key(f"USER#{n}"))
    sim.advance(1.0)
    assert sim.state()["delivered"] == 20
    assert usage(sim, TABLE, EU) == {
        "read_units": 0.0,
        "write_units": 20.0,
        "refused_reads": 0,
        "refused_writes": 0,
    }
    sim.advance(2.9)  # 15 units of debt take 3 seconds to pay back
    with pytest.raises(ClientError):
        eu.put_item(TableName=TABLE, Item=key("USER#local"))
    sim.advance(0.2)
    eu.put_item(TableName=TABLE, Item=key("USER#local"))
    assert usage(sim, TABLE, EU)["refused_writes"] == 1


def test_no_capacity_enforces_nothing():
    """capacity=False: a strict table takes any number of requests; nothing is metered."""
    sim = make_sim(burst_seconds=0, capacity=False)
    db = client(sim)
    for _ in range(30):
        strong_read(db)
    assert sim.state()["capacity"] == {"enforced": False, "burst_seconds": 0, "usage": {}}


def test_state_and_control_endpoint_report_usage_per_resource():
    """GET /_gtcheck/state shows units consumed and refusals per region, table and index."""
    sim = make_sim(burst_seconds=0)
    db = client(sim)
    db.put_item(
        TableName=TABLE, Item={**key("USER#ana"), "GSI1PK": {"S": "A"}, "GSI1SK": {"S": "B"}}
    )
    for _ in range(5):
        strong_read(db)
    with pytest.raises(ClientError):
        strong_read(db)
    state = json.loads(control(sim, "GET", "/_gtcheck/state").body)["capacity"]
    assert state["enforced"] is True
    assert state["usage"] == {
        US: {
            TABLE: {"read_units": 5.0, "write_units": 1.0, "refused_reads": 1, "refused_writes": 0},
            GSI1: {"read_units": 0.0, "write_units": 1.0, "refused_reads": 0, "refused_writes": 0},
        }
    }


# ----- ConsumedCapacity ------------------------------------------------------------------------
def test_get_item_of_a_small_item_consumes_half_a_unit(sim):
    """TOTAL: 0.5 eventually consistent, 1 strongly; INDEXES adds the table's part."""
    db = client(sim)
    db.put_item(TableName=TABLE, Item={**key("USER#ana"), "name": {"S": "Ana"}})
    eventual = db.get_item(TableName=TABLE, Key=key("USER#ana"), ReturnConsumedCapacity="TOTAL")
    assert eventual["ConsumedCapacity"] == {
        "TableName": TABLE,
        "CapacityUnits": 0.5,
        "ReadCapacityUnits": 0.5,
    }
    strong = db.get_item(
        TableName=TABLE, Key=key("USER#ana"), ConsistentRead=True, ReturnConsumedCapacity="INDEXES"
    )
    assert strong["ConsumedCapacity"] == {
        "TableName": TABLE,
        "CapacityUnits": 1.0,
        "ReadCapacityUnits": 1.0,
        "Table": {"CapacityUnits": 1.0, "ReadCapacityUnits": 1.0},
    }
    assert "ConsumedCapacity" not in db.get_item(TableName=TABLE, Key=key("USER#ana"))


def test_query_consumes_the_pages_total_size_before_filters(sim):
    """Three 2 KB items are one 6 KB page: 2 blocks, 1.0 RCU eventually consistent, even
    when a filter returns none of them; a GSI query is billed to the index."""
    db = client(sim)
    for n in range(3):
        item = {
            **key("USER#ana", f"ORDER#{n}"),
            "filler": {"S": "x" * 2000},
            "GSI1PK": {"S": "ORDERS"},
            "GSI1SK": {"S": str(n)},
        }
        db.put_item(TableName=TABLE, Item=item)
    query = {
        "TableName": TABLE,
        "KeyConditionExpression": "PK = :pk",
        "ExpressionAttributeValues": {":pk": {"S": "USER#ana"}},
    }
    whole = db.query(**query, ReturnConsumedCapacity="TOTAL")
    assert whole["ConsumedCapacity"]["CapacityUnits"] == 1.0
    strong = db.query(**query, ConsistentRead=True, ReturnConsumedCapacity="TOTAL")
    assert strong["ConsumedCapacity"]["CapacityUnits"] == 2.0
    filtered = db.query(
        **{**query, "ExpressionAttributeValues": {":pk": {"S": "USER#ana"}, ":no": {"S": "no"}}},
        FilterExpression="filler = :no",
        ProjectionExpression="PK",
        ReturnConsumedCapacity="TOTAL",
    )
    assert filtered["Items"] == []
    assert filtered["ConsumedCapacity"]["CapacityUnits"] == 1.0

    by_index = db.query(
        TableName=TABLE,
        IndexName="GSI1",
        KeyConditionExpression="GSI1PK = :g",
        ExpressionAttributeValues={":g": {"S": "ORDERS"}},
        ReturnConsumedCapacity="INDEXES",
    )
    assert by_index["ConsumedCapacity"] == {
        "TableName": TABLE,
        "CapacityUnits": 0.5,
        "ReadCapacityUnits": 0.5,
        "Table": {"CapacityUnits": 0.0, "ReadCapacityUnits": 0.0},
        "GlobalSecondaryIndexes": {"GSI1": {"CapacityUnits": 0.5, "ReadCapacityUnits": 0.5}},
    }
    assert usage(sim, GSI1)["read_units"] == 0.5


def test_put_item_with_gsi_keys_consumes_on_the_table_and_each_index(sim):
    """A new item in both GSIs: 1 WCU each on the table, GSI1 and GSI2; an update of a
    non-key attribute leaves the KEYS_ONLY indexes alone; a changed GSI key costs two."""
    db = client(sim)
    item = {
        **key("USER#ana", "ORDER#1"),
        "GSI1PK": {"S": "ORDER#1"},
        "GSI1SK": {"S": "DETAILS"},
        "GSI2PK": {"S": "STATUS#pending"},
        "GSI2SK": {"S": "ORDER#1"},
    }
    put = db.put_item(TableName=TABLE, Item=item, ReturnConsumedCapacity="INDEXES")
    assert put["ConsumedCapacity"] == {
        "TableName": TABLE,
        "CapacityUnits": 3.0,
        "WriteCapacityUnits": 3.0,
        "Table": {"CapacityUnits": 1.0, "WriteCapacityUnits": 1.0},
        "GlobalSecondaryIndexes": {
            "GSI1": {"CapacityUnits": 1.0, "WriteCapacityUnits": 1.0},
            "GSI2": {"CapacityUnits": 1.0, "WriteCapacityUnits": 1.0},
        },
    }
    total = db.put_item(TableName=TABLE, Item=item, ReturnConsumedCapacity="TOTAL")
    assert total["ConsumedCapacity"] == {
        "TableName": TABLE,
        "CapacityUnits": 1.0,  # the same item again: nothing to change in the indexes
        "WriteCapacityUnits": 1.0,
    }
    plain = db.update_item(
        TableName=TABLE,
        Key=key("USER#ana", "ORDER#1"),
        UpdateExpression="SET total_amount = :t",
        ExpressionAttributeValues={":t": {"N": "150"}},
        ReturnConsumedCapacity="INDEXES",
    )
    assert "GlobalSecondaryIndexes" not in plain["ConsumedCapacity"]
    assert plain["ConsumedCapacity"]["CapacityUnits"] == 1.0
    moved = db.update_item(
        TableName=TABLE,
        Key=key("USER#ana", "ORDER#1"),
        UpdateExpression="SET GSI2PK = :s",
        ExpressionAttributeValues={":s": {"S": "STATUS#shipped"}},
        ReturnConsumedCapacity="INDEXES",
    )
    assert moved["ConsumedCapacity"]["GlobalSecondaryIndexes"] == {
        "GSI2": {"CapacityUnits": 2.0, "WriteCapacityUnits": 2.0}
    }
    assert moved["ConsumedCapacity"]["CapacityUnits"] == 3.0


def test_batch_and_transaction_consumption(sim):
    """BatchGetItem rounds each item on its own; a transaction's writes cost double."""
    db = client(sim)
    written = db.transact_write_items(
        TransactItems=[{"Put": {"TableName": TABLE, "Item": key(f"USER#{n}")}} for n in range(3)],
        ReturnConsumedCapacity="TOTAL",
    )
    assert written["ConsumedCapacity"] == [
        {"TableName": TABLE, "CapacityUnits": 6.0, "WriteCapacityUnits": 6.0}
    ]
    read = db.batch_get_item(
        RequestItems={TABLE: {"Keys": [key(f"USER#{n}") for n in range(4)]}},
        ReturnConsumedCapacity="TOTAL",
    )
    assert read["ConsumedCapacity"] == [
        {"TableName": TABLE, "CapacityUnits": 2.0, "ReadCapacityUnits": 2.0}
    ]
