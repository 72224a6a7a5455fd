"""Last writer wins: conflicting writes in different regions settle on one item everywhere."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gtcheck.sim import ManualClock, SimConfig, Simulator, TableSetup
from gtcheck.sim.inprocess import IN_PROCESS_ENDPOINT, session

TABLE = "demo-ecommerce-freetier"
US, EU, AP = "us-east-1", "eu-west-1", "ap-southeast-1"


def key(pk: str) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": "PROFILE"}}


def clients(sim: Simulator, *regions: str) -> list[Any]:
    """In-process DynamoDB clients, one per region, from one session."""
    boto_session = sim.session()
    return [
        boto_session.client("dynamodb", region_name=region, endpoint_url=IN_PROCESS_ENDPOINT)
        for region in regions
    ]


def get(client: Any, pk: str) -> dict[str, Any] | None:
    return client.get_item(TableName=TABLE, Key=key(pk), ConsistentRead=True).get("Item")


def scan(client: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in client.get_paginator("scan").paginate(TableName=TABLE, ConsistentRead=True):
        items.extend(page["Items"])
    return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))


def profile(pk: str, writer: str, stamp: str) -> dict[str, Any]:
    return {**key(pk), "writer": {"S": writer}, "update_timestamp": {"S": stamp}}


# ----- two writes inside the lag window -------------------------------------------------------
@pytest.mark.parametrize(("first", "second"), [(US, EU), (EU, US)])
def test_later_apply_time_wins_whatever_update_timestamp_says(sim, first, second):
    """The write applied later wins in every region, though its update_timestamp is older."""
    by_region = dict(zip((US, EU), clients(sim, US, EU), strict=True))
    early, late = by_region[first], by_region[second]
    early.put_item(TableName=TABLE, Item=profile("USER#ana", first, "2099-12-31T23:59:59Z"))
    sim.advance(0.4)
    late.put_item(TableName=TABLE, Item=profile("USER#ana", second, "2000-01-01T00:00:00Z"))
    sim.advance(0.3)
    assert get(early, "USER#ana")["writer"] == {"S": first}  # nothing has crossed yet
    assert get(late, "USER#ana")["writer"] == {"S": second}
    sim.advance(0.4)  # the early write reached the late region, and lost there
    assert get(late, "USER#ana")["writer"] == {"S": second}
    sim.advance(5)
    for client in by_region.values():
        assert get(client, "USER#ana") == profile("USER#ana", second, "2000-01-01T00:00:00Z")
    assert sim.state()["delivered"] == 2


def test_later_update_wins_over_earlier_put(sim):
    """An UpdateItem applied later wins over a racing PutItem, as a whole item."""
    us, eu = clients(sim, US, EU)
    us.put_item(TableName=TABLE, Item={**key("USER#ana"), "a": {"S": "us"}, "b": {"S": "us"}})
    sim.advance(5)
    eu.put_item(TableName=TABLE, Item={**key("USER#ana"), "c": {"S": "eu"}})
    sim.advance(0.2)
    us.update_item(
        TableName=TABLE,
        Key=key("USER#ana"),
        UpdateExpression="SET a = :a",
        ExpressionAttributeValues={":a": {"S": "us-update"}},
    )
    sim.advance(5)
    expected = {**key("USER#ana"), "a": {"S": "us-update"}, "b": {"S": "us"}}
    assert get(us, "USER#ana") == get(eu, "USER#ana") == expected


# ----- equal apply times --------------------------------------------------------------------
@pytest.mark.parametrize("order", [(US, EU), (EU, US)], ids=["us-first", "eu-first"])
def test_equal_apply_times_resolve_the_same_way_everywhere(sim, order):
    """With the clock frozen, the larger region name wins, whichever region wrote first."""
    by_region = dict(zip((US, EU), clients(sim, US, EU), strict=True))
    for region in order:
        by_region[region].put_item(TableName=TABLE, Item=profile("USER#tie", region, "same"))
    sim.advance(5)
    for client in by_region.values():
        assert get(client, "USER#tie")["writer"] == {"S": US}


def test_equal_apply_times_in_three_regions():
    """Three writes at one instant: us-east-1 > eu-west-1 > ap-southeast-1 by name, everywhere."""
    sim = Simulator(SimConfig(regions=(AP, EU, US), lag=1.0, jitter=0.0), clock=ManualClock())
    all_clients = clients(sim, AP, EU, US)
    for region, client in zip((AP, EU, US), all_clients, strict=True):
        client.put_item(TableName=TABLE, Item=profile("USER#tie", region, "same"))
        client.put_item(TableName=TABLE, Item=profile(f"USER#{region}", region, "same"))
    all_clients[0].put_item(TableName=TABLE, Item=profile("USER#no-us", AP, "same"))
    all_clients[1].put_item(TableName=TABLE, Item=profile("USER#no-us", EU, "same"))
    sim.advance(5)
    scans = [scan(client) for client in all_clients]
    assert scans[0] == scans[1] == scans[2]
    for client in all_clients:
        assert get(client, "USER#tie")["writer"] == {"S": US}
        assert get(client, "USER#no-us")["writer"] == {"S": EU}


def test_frozen_clock_local_writes_still_supersede_each_other(sim):
    """Repeated writes in one region at one instant: the last one is kept and replicated."""
    us, eu = clients(sim, US, EU)
    for n in range(5):
        us.put_item(TableName=TABLE, Item={**key("USER#ana"), "n": {"N": str(n)}})
    eu.put_item(TableName=TABLE, Item={**key("USER#ana"), "n": {"N": "100"}})
    sim.advance(5)
    assert get(us, "USER#ana")["n"] == get(eu, "USER#ana")["n"] == {"N": "4"}


# ----- delete racing a put --------------------------------------------------------------------
def _seed(sim: Simulator, client: Any) -> None:
    client.put_item(TableName=TABLE, Item=profile("USER#ana", "seed", "0"))
    sim.advance(5)


def test_put_after_a_racing_delete_wins(sim):
    """A delete in us-east-1 then a put in eu-west-1 inside the lag: the item survives."""
    us, eu = clients(sim, US, EU)
    _seed(sim, us)
    us.delete_item(TableName=TABLE, Key=key("USER#ana"))
    sim.advance(0.3)
    eu.put_item(TableName=TABLE, Item=profile("USER#ana", EU, "1"))
    sim.advance(0.8)  # the delete reached eu-west-1, older than its put: refused
    assert get(eu, "USER#ana") == profile("USER#ana", EU, "1")
    assert get(us, "USER#ana") is None
    sim.advance(5)
    assert get(us, "USER#ana") == get(eu, "USER#ana") == profile("USER#ana", EU, "1")


def test_delete_after_a_racing_put_wins(sim):
    """A put in eu-west-1 then a delete in us-east-1 inside the lag: the item is gone."""
    us, eu = clients(sim, US, EU)
    _seed(sim, us)
    eu.put_item(TableName=TABLE, Item=profile("USER#ana", EU, "1"))
    sim.advance(0.3)
    us.delete_item(TableName=TABLE, Key=key("USER#ana"))
    sim.advance(0.8)  # the put reached us-east-1, older than its delete: refused
    assert get(us, "USER#ana") is None
    assert get(eu, "USER#ana") == profile("USER#ana", EU, "1")
    sim.advance(5)
    assert get(us, "USER#ana") is None
    assert get(eu, "USER#ana") is None


def test_delete_and_put_at_the_same_instant(sim):
    """A delete in us-east-1 and a put in eu-west-1 at one instant: us-east-1's delete wins."""
    us, eu = clients(sim, US, EU)
    _seed(sim, us)
    eu.put_item(TableName=TABLE, Item=profile("USER#ana", EU, "1"))
    us.delete_item(TableName=TABLE, Key=key("USER#ana"))
    sim.advance(5)
    assert get(us, "USER#ana") is None
    assert get(eu, "USER#ana") is None


# ----- property: random interleavings converge to the last write ----------------------------------
class _Router:
    """A WSGI app forwarding to the current example's simulator, so clients are built once."""

    def __init__(self) -> None:
        self.sim: Simulator | None = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        assert self.sim is not None
        return self.sim.app(environ, start_response)


_ROUTER = _Router()
_PROPERTY_CLIENTS: dict[str, Any] = {}


def _property_clients() -> dict[str, Any]:
    if not _PROPERTY_CLIENTS:
        boto_session = session(_ROUTER, US)
        for region in (US, EU):
            _PROPERTY_CLIENTS[region] = boto_session.client(
                "dynamodb", region_name=region, endpoint_url=IN_PROCESS_ENDPOINT
            )
    return _PROPERTY_CLIENTS


def _make_light_global_table(client: Any) -> None:
    """The workshop table's keys and stream, without the indexes and encryption that make
    the full setup slow to create; global across both regions through ReplicaUpdates."""
    client.create_table(
        TableName=TABLE,
        AttributeDefinitions=[
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    client.update_table(TableName=TABLE, ReplicaUpdates=[{"Create": {"RegionName": EU}}])


KEYS = ("USER#k0", "USER#k1", "USER#k2")
OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(("put", "update", "delete")),
        st.sampled_from((US, EU)),
        st.sampled_from(KEYS),
        st.one_of(
            st.just(0.0),
            st.sampled_from((0.001, 0.1, 0.5, 1.0)),
            st.floats(min_value=0.0, max_value=3.0),
        ),
    ),
    min_size=1,
    max_size=30,
)


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    operations=OPERATIONS,
    lag=st.floats(min_value=0.05, max_value=3.0),
    jitter_share=st.floats(min_value=0.0, max_value=0.9),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
)
def test_random_interleavings_converge_to_the_last_write(operations, lag, jitter_share, seed):
    """Any mix of puts, updates and deletes in both regions ends identical everywhere, each
    key holding the write with the largest (apply time, region) version, or absent if that
    write was a delete.

    The model mirrors lww.py: a write is stamped with the clock in microseconds, bumped past
    the region's own previous version of the key when the clock has not moved. Replicated
    versions never force a bump here because every delay is at least a tenth of the lag.
    A delete that found nothing to delete writes nothing (no stream record), so the model
    counts it only when DeleteItem returned the old item.
    """
    sim = Simulator(
        SimConfig(lag=lag, jitter=lag * jitter_share, seed=seed, setup=TableSetup.NONE),
        clock=ManualClock(),
    )
    _ROUTER.sim = sim
    regions = _property_clients()
    _make_light_global_table(regions[US])
    last_local: dict[tuple[str, str], int] = {}
    winner: dict[str, tuple[tuple[int, str], dict[str, Any] | None]] = {}
    for number, (operation, region, pk, step) in enumerate(operations):
        client = regions[region]
        image = {**key(pk), "w": {"N": str(number)}, "src": {"S": region}}
        if operation == "put":
            client.put_item(TableName=TABLE, Item=image)
        elif operation == "update":
            client.update_item(
                TableName=TABLE,
                Key=key(pk),
                UpdateExpression="SET w = :w, src = :r",
                ExpressionAttributeValues={":w": image["w"], ":r": image["src"]},
            )
        else:
            old = client.delete_item(TableName=TABLE, Key=key(pk), ReturnValues="ALL_OLD")
            image = None
            if "Attributes" not in old:
                sim.advance(step)
                continue  # nothing was there to delete: no write, nothing replicates
        now_us = int(sim.clock.now() * 1_000_000)
        previous = last_local.get((region, pk))
        applied = now_us if previous is None or now_us > previous else previous + 1
        last_local[(region, pk)] = applied
        version = (applied, region)
        if pk not in winner or version > winner[pk][0]:
            winner[pk] = (version, image)
        sim.advance(step)

    sim.advance(lag * 2 + 100)
    assert sim.state()["pending"] == {}
    us_items, eu_items = scan(regions[US]), scan(regions[EU])
    assert us_items == eu_items
    expected = sorted(
        (image for _, image in winner.values() if image is not None),
        key=lambda item: json.dumps(item, sort_keys=True),
    )
    assert us_items == expected
