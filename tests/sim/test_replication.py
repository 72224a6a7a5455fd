"""Replication between the simulator's regions: every write kind, every direction, replicas."""

from __future__ import annotations

import json
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError

from gtcheck.sim import ManualClock, SimConfig, Simulator, TableSetup, wsgi
from gtcheck.sim.inprocess import IN_PROCESS_ENDPOINT
from gtcheck.sim.workshop_table import create_table_request

TABLE = "demo-ecommerce-freetier"
US, EU, AP = "us-east-1", "eu-west-1", "ap-southeast-1"
DIRECTIONS = [pytest.param(US, EU, id="us-to-eu"), pytest.param(EU, US, id="eu-to-us")]


def key(pk: str, sk: str = "PROFILE") -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def get(client: Any, pk: str, sk: str = "PROFILE", table: str = TABLE) -> dict[str, Any] | None:
    return client.get_item(TableName=table, Key=key(pk, sk), ConsistentRead=True).get("Item")


def scan(client: Any, table: str = TABLE) -> list[dict[str, Any]]:
    """Every item of the table, sorted by primary key, so two regions compare equal."""
    items: list[dict[str, Any]] = []
    for page in client.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        items.extend(page["Items"])
    return sorted(items, key=lambda item: json.dumps([item["PK"], item.get("SK")], default=str))


def stream_images(client: Any, streams: Any, table: str = TABLE) -> list[tuple[str, Any]]:
    """The region's stream as (event name, new image or keys) in record order."""
    arn = client.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    records: list[tuple[str, Any]] = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            for record in page["Records"]:
                data = record["dynamodb"]
                records.append((record["eventName"], data.get("NewImage", data["Keys"])))
            if not page["Records"]:
                break
            iterator = page.get("NextShardIterator")
    return records


def clients(sim: Simulator, *regions: str, service: str = "dynamodb") -> list[Any]:
    """In-process clients, one per region, from one session (the service model loads once)."""
    session = sim.session()
    return [
        session.client(service, region_name=region, endpoint_url=IN_PROCESS_ENDPOINT)
        for region in regions
    ]


def error_code(info: pytest.ExceptionInfo[ClientError]) -> str:
    return info.value.response["Error"]["Code"]


def raw(sim: Simulator, region: str, operation: str, request: dict[str, Any]) -> dict[str, Any]:
    """Call the gateway directly and return the JSON body, before botocore drops any key."""
    response = wsgi.call(
        sim.app,
        "POST",
        "http://localhost/",
        wsgi.internal_headers(region, operation),
        json.dumps(request).encode(),
    )
    assert response.status == 200, response.body
    return response.json()


ALL_TYPES_ITEM = {
    "PK": {"S": "USER#types"},
    "SK": {"S": "PROFILE"},
    "name": {"S": "Ana"},
    "age": {"N": "42"},
    "balance": {"N": "-12.5"},
    "active": {"BOOL": True},
    "archived": {"BOOL": False},
    "address": {"M": {"city": {"S": "Lisbon"}, "zip": {"N": "1000"}, "tags": {"L": []}}},
    "history": {"L": [{"S": "a"}, {"N": "1"}, {"M": {"x": {"NULL": True}}}, {"BOOL": True}]},
    "roles": {"SS": ["admin", "buyer"]},
    "scores": {"NS": ["1", "2.5"]},
    "avatar": {"B": b"\x00\x01\xfe\xff"},
    "blobs": {"BS": [b"\x01", b"\x02\x03"]},
    "nothing": {"NULL": True},
}


def normalized(item: dict[str, Any] | None) -> dict[str, Any] | None:
    """Sets compare as sets (DynamoDB keeps no order for them)."""
    if item is None:
        return None
    out: dict[str, Any] = {}
    for name, value in item.items():
        ((kind, inner),) = value.items()
        out[name] = {kind: sorted(inner)} if kind in ("SS", "NS", "BS") else value
    return out


# ----- puts, lag and attribute types ----------------------------------------------------------
def test_put_arrives_only_after_the_lag_with_every_attribute_type(sim):
    """A put in us-east-1 is absent from eu-west-1 before the lag and identical after it."""
    us, eu = clients(sim, US, EU)
    us.put_item(TableName=TABLE, Item=ALL_TYPES_ITEM)
    assert get(eu, "USER#types") is None
    sim.advance(0.99)
    assert get(eu, "USER#types") is None
    sim.advance(0.02)
    replicated = get(eu, "USER#types")
    assert normalized(replicated) == normalized(ALL_TYPES_ITEM)
    assert replicated == get(us, "USER#types")


@pytest.mark.parametrize(("source", "target"), DIRECTIONS)
def test_put_replicates_both_ways(sim, source, target):
    """A put reaches the other region exactly at the lag, in either direction."""
    src, dst = clients(sim, source, target)
    item = {**key("USER#ana"), "from": {"S": source}}
    src.put_item(TableName=TABLE, Item=item)
    sim.advance(0.5)
    assert get(dst, "USER#ana") is None
    sim.advance(0.5)
    assert get(dst, "USER#ana") == item


def _seed(sim: Simulator, client: Any, *pks: str) -> None:
    """Put one item per pk and let it replicate everywhere."""
    for pk in pks:
        client.put_item(
            TableName=TABLE,
            Item={**key(pk), "count": {"N": "1"}, "tags": {"SS": ["a"]}, "old": {"S": "x"}},
        )
    sim.advance(5)


@pytest.mark.parametrize(("source", "target"), DIRECTIONS)
def test_update_item_replicates(sim, source, target):
    """UpdateItem's whole new image (SET, ADD, REMOVE) reaches the other region after the lag."""
    src, dst = clients(sim, source, target)
    _seed(sim, dst, "USER#ana")
    src.update_item(
        TableName=TABLE,
        Key=key("USER#ana"),
        UpdateExpression="SET #n = :n ADD #c :one, tags :t REMOVE #o",
        ExpressionAttributeNames={"#n": "name", "#c": "count", "#o": "old"},
        ExpressionAttributeValues={":n": {"S": "Ana"}, ":one": {"N": "1"}, ":t": {"SS": ["b"]}},
    )
    sim.advance(0.99)
    assert get(dst, "USER#ana")["count"] == {"N": "1"}
    sim.advance(0.01)
    updated = get(dst, "USER#ana")
    assert updated["name"] == {"S": "Ana"}
    assert updated["count"] == {"N": "2"}
    assert sorted(updated["tags"]["SS"]) == ["a", "b"]
    assert "old" not in updated
    assert updated == get(src, "USER#ana")


@pytest.mark.parametrize(("source", "target"), DIRECTIONS)
def test_update_item_creating_an_item_replicates(sim, source, target):
    """An UpdateItem on a missing key creates the item, and the creation replicates."""
    src, dst = clients(sim, source, target)
    src.update_item(
        TableName=TABLE,
        Key=key("USER#new"),
        UpdateExpression="SET visits = :v",
        ExpressionAttributeValues={":v": {"N": "3"}},
    )
    sim.advance(1.0)
    assert get(dst, "USER#new") == {**key("USER#new"), "visits": {"N": "3"}}
    assert sim.state()["delivered"] == 1


def test_update_creating_an_item_never_shows_a_keys_only_item():
    """An update creating an item (alone or in a transaction) replicates as one whole change."""
    sim = Simulator(SimConfig(lag=1.0, jitter=0.5, seed=1), clock=ManualClock())
    us, eu = clients(sim, US, EU)
    us.update_item(
        TableName=TABLE,
        Key=key("USER#new"),
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"N": "1"}},
    )
    us.transact_write_items(
        TransactItems=[
            {
                "Update": {
                    "TableName": TABLE,
                    "Key": key("USER#tx"),
                    "UpdateExpression": "SET v = :v",
                    "ExpressionAttributeValues": {":v": {"N": "2"}},
                }
            }
        ]
    )
    assert sim.state()["pending"] == {f"{US}>{EU}": 2}
    for _ in range(20):
        sim.advance(0.1)
        for pk in ("USER#new", "USER#tx"):
            item = get(eu, pk)
            assert item is None or "v" in item, item
    assert get(eu, "USER#new")["v"] == {"N": "1"}
    assert get(eu, "USER#tx")["v"] == {"N": "2"}
    assert sim.state()["delivered"] == 2


@pytest.mark.parametrize(("source", "target"), DIRECTIONS)
def test_delete_item_replicates(sim, source, target):
    """A delete removes the item in the other region after the lag, not before."""
    src, dst = clients(sim, source, target)
    _seed(sim, src, "USER#ana")
    assert get(dst, "USER#ana") is not None
    src.delete_item(TableName=TABLE, Key=key("USER#ana"))
    sim.advance(0.99)
    assert get(dst, "USER#ana") is not None
    sim.advance(0.01)
    assert get(dst, "USER#ana") is None


@pytest.mark.parametrize(("source", "target"), DIRECTIONS)
def test_batch_write_item_puts_and_deletes_replicate(sim, source, target):
    """BatchWriteItem's puts and deletes each replicate."""
    src, dst = clients(sim, source, target)
    _seed(sim, src, "USER#gone-1", "USER#gone-2", "USER#kept")
    src.batch_write_item(
        RequestItems={
            TABLE: [
                {"PutRequest": {"Item": {**key("USER#b1"), "n": {"N": "1"}}}},
                {"PutRequest": {"Item": {**key("USER#b2"), "n": {"N": "2"}}}},
                {"PutRequest": {"Item": {**key("USER#kept"), "n": {"N": "3"}}}},
                {"DeleteRequest": {"Key": key("USER#gone-1")}},
                {"DeleteRequest": {"Key": key("USER#gone-2")}},
            ]
        }
    )
    sim.advance(0.99)
    assert get(dst, "USER#b1") is None
    assert get(dst, "USER#gone-1") is not None
    sim.advance(0.01)
    assert get(dst, "USER#b1")["n"] == {"N": "1"}
    assert get(dst, "USER#b2")["n"] == {"N": "2"}
    assert get(dst, "USER#kept") == {**key("USER#kept"), "n": {"N": "3"}}
    assert get(dst, "USER#gone-1") is None
    assert get(dst, "USER#gone-2") is None
    assert scan(dst) == scan(src)


@pytest.mark.parametrize(("source", "target"), DIRECTIONS)
def test_transact_write_items_replicate(sim, source, target):
    """A transaction's Put, Update and Delete all replicate; its ConditionCheck writes nothing."""
    src, dst = clients(sim, source, target)
    _seed(sim, src, "USER#upd", "USER#del", "USER#check")
    delivered = sim.state()["delivered"]
    src.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": TABLE, "Item": {**key("USER#tx"), "n": {"N": "9"}}}},
            {
                "Update": {
                    "TableName": TABLE,
                    "Key": key("USER#upd"),
                    "UpdateExpression": "SET #c = :c",
                    "ExpressionAttributeNames": {"#c": "count"},
                    "ExpressionAttributeValues": {":c": {"N": "7"}},
                }
            },
            {"Delete": {"TableName": TABLE, "Key": key("USER#del")}},
            {
                "ConditionCheck": {
                    "TableName": TABLE,
                    "Key": key("USER#check"),
                    "ConditionExpression": "attribute_exists(PK)",
                }
            },
        ]
    )
    sim.advance(0.99)
    assert get(dst, "USER#tx") is None
    sim.advance(0.01)
    assert get(dst, "USER#tx") == {**key("USER#tx"), "n": {"N": "9"}}
    assert get(dst, "USER#upd")["count"] == {"N": "7"}
    assert get(dst, "USER#del") is None
    assert scan(dst) == scan(src)
    assert sim.state()["delivered"] - delivered == 3


# ----- indexes ------------------------------------------------------------------------------
def test_gsi_queries_in_the_receiving_region_see_replicated_items(sim):
    """GSI1 and GSI2 in eu-west-1 answer for items written in us-east-1, keys only."""
    us, eu = clients(sim, US, EU)
    for n in range(3):
        us.put_item(
            TableName=TABLE,
            Item={
                **key(f"ORDER#{n}", "DETAILS"),
                "GSI1PK": {"S": "USER#ana"},
                "GSI1SK": {"S": f"ORDER#{n}"},
                "GSI2PK": {"S": "STATUS#SHIPPED"},
                "GSI2SK": {"S": f"2024-01-0{n + 1}"},
                "total": {"N": str(10 * n)},
            },
        )

    def query(index: str, pk_value: str) -> list[dict[str, Any]]:
        return eu.query(
            TableName=TABLE,
            IndexName=index,
            KeyConditionExpression="#pk = :v",
            ExpressionAttributeNames={"#pk": f"{index}PK"},
            ExpressionAttributeValues={":v": {"S": pk_value}},
        )["Items"]

    assert query("GSI1", "USER#ana") == []
    sim.advance(1.0)
    by_user = query("GSI1", "USER#ana")
    assert [item["GSI1SK"]["S"] for item in by_user] == ["ORDER#0", "ORDER#1", "ORDER#2"]
    assert all(set(item) == {"PK", "SK", "GSI1PK", "GSI1SK"} for item in by_user)
    by_status = query("GSI2", "STATUS#SHIPPED")
    assert [item["GSI2SK"]["S"] for item in by_status] == ["2024-01-01", "2024-01-02", "2024-01-03"]
    assert all(set(item) == {"PK", "SK", "GSI2PK", "GSI2SK"} for item in by_status)
    indexes = eu.describe_table(TableName=TABLE)["Table"]["GlobalSecondaryIndexes"]
    assert {i["IndexName"]: i["Projection"]["ProjectionType"] for i in indexes} == {
        "GSI1": "KEYS_ONLY",
        "GSI2": "KEYS_ONLY",
    }


# ----- no echo ------------------------------------------------------------------------------
def test_replicated_writes_are_not_echoed_back(sim):
    """One delivery per write per other region, and each stream has one record per write."""
    us, eu = clients(sim, US, EU)
    for n in range(4):
        us.put_item(TableName=TABLE, Item={**key(f"USER#us{n}"), "n": {"N": str(n)}})
    us.update_item(
        TableName=TABLE,
        Key=key("USER#us0"),
        UpdateExpression="SET n = :n",
        ExpressionAttributeValues={":n": {"N": "100"}},
    )
    us.delete_item(TableName=TABLE, Key=key("USER#us1"))
    for n in range(3):
        eu.put_item(TableName=TABLE, Item={**key(f"USER#eu{n}")})
    for _ in range(10):
        sim.advance(30)
    state = sim.state()
    assert state["delivered"] == 6 + 3
    assert state["pending"] == {}

    us_stream = stream_images(us, clients(sim, US, service="dynamodbstreams")[0])
    eu_stream = stream_images(eu, clients(sim, EU, service="dynamodbstreams")[0])
    assert len(us_stream) == 9
    assert len(eu_stream) == 9
    assert [event for event, _ in us_stream[:6]] == ["INSERT"] * 4 + ["MODIFY", "REMOVE"]
    assert sorted(map(str, us_stream)) == sorted(map(str, eu_stream))
    assert scan(us) == scan(eu)

    sim.advance(600)
    assert sim.state()["delivered"] == 9
    assert len(stream_images(us, clients(sim, US, service="dynamodbstreams")[0])) == 9


def test_source_stream_has_one_record_per_client_write(sim):
    """Writes made only in us-east-1: its stream holds exactly those, however long time runs."""
    us, eu = clients(sim, US, EU)
    for n in range(5):
        us.put_item(TableName=TABLE, Item={**key("USER#ana"), "v": {"N": str(n)}})
    for _ in range(5):
        sim.advance(100)
    streams = clients(sim, US, service="dynamodbstreams")[0]
    assert [image["v"]["N"] for _, image in stream_images(us, streams)] == list("01234")
    assert sim.state()["delivered"] == 5
    assert get(eu, "USER#ana")["v"] == {"N": "4"}


# ----- per-item order with jitter ---------------------------------------------------------------
def test_per_item_order_is_kept_with_jitter():
    """Rapid writes to one key with jitter near the lag arrive in write order, the last wins."""
    sim = Simulator(SimConfig(lag=1.0, jitter=0.95, seed=11), clock=ManualClock())
    us, eu = clients(sim, US, EU)
    writes = 60
    seen: list[int] = []
    for n in range(writes):
        us.put_item(TableName=TABLE, Item={**key("USER#hot"), "v": {"N": str(n)}})
        sim.advance(0.013)
        item = get(eu, "USER#hot")
        if item is not None:
            seen.append(int(item["v"]["N"]))
    assert seen == sorted(seen)
    sim.advance(5)
    assert get(us, "USER#hot")["v"] == {"N": str(writes - 1)}
    assert get(eu, "USER#hot")["v"] == {"N": str(writes - 1)}
    # Every delivery was applied, in order: none arrived after a later one and was refused.
    eu_stream = stream_images(eu, clients(sim, EU, service="dynamodbstreams")[0])
    assert [int(image["v"]["N"]) for _, image in eu_stream] == list(range(writes))
    assert sim.state()["delivered"] == writes


def test_jitter_reorders_different_items_but_not_one_item():
    """With jitter, writes to different keys may overtake each other; one key's may not."""
    sim = Simulator(SimConfig(lag=1.0, jitter=0.9, seed=4), clock=ManualClock())
    us, eu = clients(sim, US, EU)
    for n in range(40):
        us.put_item(TableName=TABLE, Item={**key(f"USER#{n % 4}"), "v": {"N": str(n)}})
        sim.advance(0.01)
    sim.advance(5)
    order = [
        int(image["v"]["N"])
        for _, image in stream_images(eu, clients(sim, EU, service="dynamodbstreams")[0])
    ]
    assert sorted(order) == list(range(40))
    assert order != list(range(40))  # different items did overtake each other
    for k in range(4):
        per_key = [v for v in order if v % 4 == k]
        assert per_key == sorted(per_key)


# ----- three regions ----------------------------------------------------------------------------
def test_three_regions_converge():
    """Writes in each of three regions, some to the same keys, end identical everywhere."""
    sim = Simulator(
        SimConfig(regions=(US, EU, AP), lag=1.0, jitter=0.5, seed=2), clock=ManualClock()
    )
    by_region = dict(zip((US, EU, AP), clients(sim, US, EU, AP), strict=True))
    for round_ in range(5):
        for region, client in by_region.items():
            client.put_item(
                TableName=TABLE, Item={**key(f"USER#{region}"), "round": {"N": str(round_)}}
            )
            client.put_item(
                TableName=TABLE,
                Item={**key("USER#shared"), "writer": {"S": region}, "round": {"N": str(round_)}},
            )
            sim.advance(0.1)
    by_region[EU].delete_item(TableName=TABLE, Key=key(f"USER#{US}"))
    sim.advance(10)
    scans = {region: scan(client) for region, client in by_region.items()}
    assert scans[US] == scans[EU] == scans[AP]
    assert len(scans[US]) == 3
    assert get(by_region[AP], f"USER#{US}") is None
    assert get(by_region[US], "USER#shared")["writer"] == {"S": AP}  # the last writer
    assert sim.state()["delivered"] == (5 * 3 * 2 + 1) * 2
    for region, client in by_region.items():
        replicas = client.describe_table(TableName=TABLE)["Table"]["Replicas"]
        assert sorted(r["RegionName"] for r in replicas) == sorted({US, EU, AP} - {region})


# ----- adding and removing replicas ---------------------------------------------------------------
def test_create_replica_copies_items_and_schema_then_replicates_both_ways(sim):
    """UpdateTable Create adds a third region with the items, schema and in-flight changes."""
    us, eu, ap = clients(sim, US, EU, AP)
    us.put_item(TableName=TABLE, Item={**key("USER#old"), "n": {"N": "1"}})
    sim.advance(1.0)
    eu.put_item(TableName=TABLE, Item={**key("USER#flying")})  # still on its way to us
    sim.advance(0.5)

    response = us.update_table(TableName=TABLE, ReplicaUpdates=[{"Create": {"RegionName": AP}}])
    assert sorted(r["RegionName"] for r in response["TableDescription"]["Replicas"]) == [AP, EU]
    assert get(ap, "USER#old") == {**key("USER#old"), "n": {"N": "1"}}
    assert get(ap, "USER#flying") is None

    source, copy = (c.describe_table(TableName=TABLE)["Table"] for c in (us, ap))
    for field in ("KeySchema", "AttributeDefinitions", "StreamSpecification"):
        assert copy[field] == source[field], field
    assert copy["ProvisionedThroughput"]["ReadCapacityUnits"] == 5
    assert {
        i["IndexName"]: (i["KeySchema"], i["Projection"]) for i in copy["GlobalSecondaryIndexes"]
    } == {
        i["IndexName"]: (i["KeySchema"], i["Projection"]) for i in source["GlobalSecondaryIndexes"]
    }
    assert ap.describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "ttl",
    }
    assert sorted(r["RegionName"] for r in copy["Replicas"]) == [EU, US]
    assert copy["GlobalTableVersion"] == "2019.11.21"
    assert sorted(
        r["RegionName"] for r in eu.describe_table(TableName=TABLE)["Table"]["Replicas"]
    ) == [AP, US]

    sim.advance(0.5)
    assert get(ap, "USER#flying") == key("USER#flying")
    ap.put_item(TableName=TABLE, Item={**key("USER#from-ap")})
    us.put_item(TableName=TABLE, Item={**key("USER#from-us")})
    sim.advance(1.0)
    assert scan(us) == scan(eu) == scan(ap)
    assert len(scan(ap)) == 4
    assert sim.replicas(TABLE) == [US, EU, AP]


def test_delete_replica_removes_it_and_it_receives_nothing_more():
    """UpdateTable Delete drops the replica: its table goes, and no change reaches it after."""
    sim = Simulator(SimConfig(regions=(US, EU, AP), lag=1.0, jitter=0.0), clock=ManualClock())
    us, eu, ap = clients(sim, US, EU, AP)
    us.put_item(TableName=TABLE, Item=key("USER#before"))
    sim.advance(1.0)
    assert get(ap, "USER#before") is not None
    us.put_item(TableName=TABLE, Item=key("USER#in-flight"))
    ap.put_item(TableName=TABLE, Item=key("USER#from-ap"))  # sent before the delete: still lands

    us.update_table(TableName=TABLE, ReplicaUpdates=[{"Delete": {"RegionName": AP}}])
    with pytest.raises(ClientError) as missing:
        ap.describe_table(TableName=TABLE)
    assert error_code(missing) == "ResourceNotFoundException"
    assert sim.replicas(TABLE) == [US, EU]
    assert [r["RegionName"] for r in us.describe_table(TableName=TABLE)["Table"]["Replicas"]] == [
        EU
    ]
    assert not any(direction.endswith(f">{AP}") for direction in sim.state()["pending"])

    # A plain table of the same name in ap-southeast-1 is not a replica: nothing arrives.
    ap.create_table(**create_table_request(TABLE))
    us.put_item(TableName=TABLE, Item=key("USER#after"))
    eu.put_item(TableName=TABLE, Item=key("USER#after-eu"))
    sim.advance(10)
    assert scan(ap) == []
    assert get(eu, "USER#in-flight") is not None
    assert get(us, "USER#from-ap") is not None
    assert get(eu, "USER#from-ap") is not None
    assert "Replicas" not in ap.describe_table(TableName=TABLE)["Table"]


def test_replica_update_errors_are_validation_exceptions(sim):
    """Adding a replica that exists, or deleting one that does not, is a ValidationException."""
    (us,) = clients(sim, US)
    with pytest.raises(ClientError) as exists:
        us.update_table(TableName=TABLE, ReplicaUpdates=[{"Create": {"RegionName": EU}}])
    assert error_code(exists) == "ValidationException"
    with pytest.raises(ClientError) as absent:
        us.update_table(TableName=TABLE, ReplicaUpdates=[{"Delete": {"RegionName": AP}}])
    assert error_code(absent) == "ValidationException"
    assert sim.replicas(TABLE) == [US, EU]


# ----- table setups ------------------------------------------------------------------------------
def test_setup_primary_creates_only_the_first_region_and_no_replicas():
    """TableSetup.PRIMARY: only us-east-1 has the table, without Replicas; adding one works."""
    sim = Simulator(SimConfig(setup=TableSetup.PRIMARY, jitter=0.0), clock=ManualClock())
    us, eu = clients(sim, US, EU)
    assert us.list_tables()["TableNames"] == [TABLE]
    assert eu.list_tables()["TableNames"] == []
    description = us.describe_table(TableName=TABLE)["Table"]
    assert "Replicas" not in description
    assert "GlobalTableVersion" not in description
    assert description["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"

    us.put_item(TableName=TABLE, Item=key("USER#ana"))
    sim.advance(10)
    assert sim.state()["delivered"] == 0

    us.update_table(TableName=TABLE, ReplicaUpdates=[{"Create": {"RegionName": EU}}])
    assert get(eu, "USER#ana") == key("USER#ana")
    eu.put_item(TableName=TABLE, Item=key("USER#from-eu"))
    us.put_item(TableName=TABLE, Item=key("USER#from-us"))
    sim.advance(1.0)
    assert scan(us) == scan(eu)
    assert len(scan(us)) == 3


def test_setup_none_creates_nothing():
    """TableSetup.NONE: no table in any region."""
    sim = Simulator(SimConfig(setup=TableSetup.NONE), clock=ManualClock())
    for client in clients(sim, US, EU):
        assert client.list_tables()["TableNames"] == []
    assert sim.state()["replicas"] == {}


def test_user_created_table_is_not_global_until_a_replica_is_added():
    """A table created through the API stays local; a replica makes it global, both ways."""
    sim = Simulator(SimConfig(setup=TableSetup.NONE, jitter=0.0), clock=ManualClock())
    us, eu = clients(sim, US, EU)
    us.create_table(
        TableName="orders",
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    assert "Replicas" not in us.describe_table(TableName="orders")["Table"]
    us.put_item(TableName="orders", Item={"PK": {"S": "o1"}, "total": {"N": "5"}})
    sim.advance(10)
    assert sim.replicas("orders") == []
    assert sim.state()["delivered"] == 0
    assert eu.list_tables()["TableNames"] == []

    us.update_table(TableName="orders", ReplicaUpdates=[{"Create": {"RegionName": EU}}])
    assert sim.replicas("orders") == [US, EU]
    described = eu.describe_table(TableName="orders")["Table"]
    assert [r["RegionName"] for r in described["Replicas"]] == [US]
    assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert scan(eu, "orders") == [{"PK": {"S": "o1"}, "total": {"N": "5"}}]

    eu.put_item(TableName="orders", Item={"PK": {"S": "o2"}})
    us.delete_item(TableName="orders", Key={"PK": {"S": "o1"}})
    sim.advance(1.0)
    assert scan(us, "orders") == scan(eu, "orders") == [{"PK": {"S": "o2"}}]


def test_replica_needs_a_new_and_old_images_stream():
    """A table without a NEW_AND_OLD_IMAGES stream cannot get a replica."""
    sim = Simulator(SimConfig(setup=TableSetup.NONE), clock=ManualClock())
    (us,) = clients(sim, US)
    us.create_table(
        TableName="plain",
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    with pytest.raises(ClientError) as refused:
        us.update_table(TableName="plain", ReplicaUpdates=[{"Create": {"RegionName": EU}}])
    assert error_code(refused) == "ValidationException"
    assert sim.replicas("plain") == []


# ----- shapes ------------------------------------------------------------------------------------
def _assert_members(payload: dict[str, Any], shape: Any, where: str) -> None:
    """Every key is a member of the botocore shape, recursively through structures and lists."""
    unknown = set(payload) - set(shape.members)
    assert not unknown, f"{where}: {sorted(unknown)} not in {shape.name}"
    for name, value in payload.items():
        member = shape.members[name]
        if member.type_name == "structure":
            _assert_members(value, member, f"{where}.{name}")
        elif member.type_name == "list" and member.member.type_name == "structure":
            for n, entry in enumerate(value):
                _assert_members(entry, member.member, f"{where}.{name}[{n}]")
        elif member.type_name == "string" and member.enum:
            assert value in member.enum, f"{where}.{name}={value!r}"


def test_global_table_description_matches_the_service_model(sim):
    """Replicas and GlobalTableVersion use only members of botocore's shapes, valid enums."""
    model = botocore.session.get_session().get_service_model("dynamodb")
    table_description = model.shape_for("TableDescription")
    replica_description = model.shape_for("ReplicaDescription")
    assert {"Replicas", "GlobalTableVersion"} <= set(table_description.members)
    assert table_description.members["Replicas"].member.name == replica_description.name

    described = raw(sim, EU, "DescribeTable", {"TableName": TABLE})["Table"]
    assert described["GlobalTableVersion"] == "2019.11.21"
    assert described["Replicas"] == [
        {
            "RegionName": US,
            "ReplicaStatus": "ACTIVE",
            "ReplicaTableClassSummary": {"TableClass": "STANDARD"},
        }
    ]
    _assert_members(described, table_description, "DescribeTable.Table")

    updated = raw(
        sim,
        US,
        "UpdateTable",
        {"TableName": TABLE, "ReplicaUpdates": [{"Create": {"RegionName": AP}}]},
    )["TableDescription"]
    assert sorted(r["RegionName"] for r in updated["Replicas"]) == [AP, EU]
    _assert_members(updated, table_description, "UpdateTable.TableDescription")


def test_cancelled_transaction_replicates_nothing_and_the_stream_goes_on(sim):
    """A TransactWriteItems whose condition fails writes nothing anywhere; later writes
    still replicate and still reach the source region's stream."""
    us, eu = clients(sim, "us-east-1", "eu-west-1")
    (us_streams,) = clients(sim, "us-east-1", service="dynamodbstreams")
    us.put_item(TableName=TABLE, Item=key("before"))
    with pytest.raises(ClientError) as info:
        us.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": TABLE, "Item": key("cancelled")}},
                {
                    "ConditionCheck": {
                        "TableName": TABLE,
                        "Key": key("absent"),
                        "ConditionExpression": "attribute_exists(PK)",
                    }
                },
            ]
        )
    assert error_code(info) == "TransactionCanceledException"
    us.put_item(TableName=TABLE, Item=key("after"))
    sim.advance(2)
    assert sorted(i["PK"]["S"] for i in scan(eu)) == ["after", "before"]
    assert get(us, "cancelled") is None
    written = [image["PK"]["S"] for _, image in stream_images(us, us_streams)]
    assert written == ["before", "after"]


def test_state_tells_when_each_region_last_applied_a_write(sim, clock):
    """`last_applied`: the latest write applied per region, a replicated one included."""
    us, _eu = clients(sim, US, EU)
    assert sim.state()["last_applied"] == {}
    written = clock.now()
    us.put_item(TableName=TABLE, Item={**key("USER#a"), "v": {"N": "1"}})
    assert sim.state()["last_applied"] == {US: written}
    sim.advance(1.5)
    assert sim.state()["last_applied"] == {US: written, EU: written + 1.0}
