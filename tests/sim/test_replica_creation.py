"""A replica added with UpdateTable is CREATING for a while, then ACTIVE, on the sim's clock."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from gtcheck.sim import ManualClock, SimConfig, Simulator
from tests.sim.test_replication import clients, get, key, scan

TABLE = "demo-ecommerce-freetier"
US, EU, AP = "us-east-1", "eu-west-1", "ap-southeast-1"


@pytest.fixture
def slow_sim() -> Simulator:
    """Two regions, 1 s lag, and replicas that take 60 s to create."""
    config = SimConfig(lag=1.0, jitter=0.0, replica_create_seconds=60.0)
    return Simulator(config, clock=ManualClock())


def statuses(client: Any) -> dict[str, str]:
    """{region: ReplicaStatus} of the replicas one region's DescribeTable lists."""
    table = client.describe_table(TableName=TABLE)["Table"]
    return {r["RegionName"]: r["ReplicaStatus"] for r in table["Replicas"]}


def add_ap(client: Any) -> dict[str, Any]:
    return client.update_table(TableName=TABLE, ReplicaUpdates=[{"Create": {"RegionName": AP}}])


def test_a_new_replica_is_creating_everywhere_until_its_time_has_passed(slow_sim):
    """Every region lists ap-southeast-1 as CREATING, and its own table says CREATING."""
    us, eu, ap = clients(slow_sim, US, EU, AP)
    created = add_ap(us)["TableDescription"]
    assert {r["RegionName"]: r["ReplicaStatus"] for r in created["Replicas"]} == {
        EU: "ACTIVE",
        AP: "CREATING",
    }
    slow_sim.advance(59.9)
    assert statuses(us) == {EU: "ACTIVE", AP: "CREATING"}
    assert statuses(eu) == {US: "ACTIVE", AP: "CREATING"}
    assert statuses(ap) == {US: "ACTIVE", EU: "ACTIVE"}
    assert ap.describe_table(TableName=TABLE)["Table"]["TableStatus"] == "CREATING"
    assert us.describe_table(TableName=TABLE)["Table"]["TableStatus"] == "ACTIVE"
    assert slow_sim.state()["replica_status"] == {
        TABLE: {US: "ACTIVE", EU: "ACTIVE", AP: "CREATING"}
    }


def test_the_replica_turns_active_once_the_creation_time_has_passed(slow_sim):
    """After replica_create_seconds every region lists it ACTIVE, its table ACTIVE too."""
    us, eu, ap = clients(slow_sim, US, EU, AP)
    add_ap(us)
    slow_sim.advance(60.0)
    assert statuses(us) == {EU: "ACTIVE", AP: "ACTIVE"}
    assert statuses(eu) == {US: "ACTIVE", AP: "ACTIVE"}
    assert ap.describe_table(TableName=TABLE)["Table"]["TableStatus"] == "ACTIVE"
    assert slow_sim.state()["replica_status"][TABLE][AP] == "ACTIVE"


def test_items_and_writes_made_during_creation_are_all_there_when_active(slow_sim):
    """The source's items are backfilled, and writes made while CREATING replicate to it."""
    us, eu, ap = clients(slow_sim, US, EU, AP)
    us.put_item(TableName=TABLE, Item={**key("USER#before"), "n": {"N": "1"}})
    slow_sim.advance(1.0)
    add_ap(us)
    us.put_item(TableName=TABLE, Item=key("USER#during-us"))
    eu.put_item(TableName=TABLE, Item=key("USER#during-eu"))
    slow_sim.advance(30.0)
    assert statuses(us)[AP] == "CREATING"
    slow_sim.advance(30.0)
    assert statuses(us)[AP] == "ACTIVE"
    assert scan(ap) == scan(us) == scan(eu)
    assert len(scan(ap)) == 3
    assert get(ap, "USER#before") == {**key("USER#before"), "n": {"N": "1"}}


def test_zero_creation_time_keeps_a_new_replica_active_at_once(sim):
    """The default (0 s): a replica is ACTIVE in the UpdateTable answer itself."""
    (us,) = clients(sim, US)
    created = add_ap(us)["TableDescription"]
    assert {r["ReplicaStatus"] for r in created["Replicas"]} == {"ACTIVE"}


@pytest.mark.server
def test_creating_then_active_over_http():
    """The HTTP door shows the same phases to a boto3 client, on the simulator's clock."""
    clock = ManualClock()
    simulator = Simulator(SimConfig(lag=1.0, jitter=0.0, replica_create_seconds=5.0), clock=clock)
    server = simulator.serve("127.0.0.1", 0)
    try:
        session = boto3.Session(
            aws_access_key_id="test", aws_secret_access_key="test", region_name=US
        )
        us = session.client("dynamodb", endpoint_url=server.endpoint)
        ap = session.client("dynamodb", endpoint_url=server.endpoint, region_name=AP)
        add_ap(us)
        assert statuses(us)[AP] == "CREATING"
        assert ap.describe_table(TableName=TABLE)["Table"]["TableStatus"] == "CREATING"
        simulator.advance(5.0)
        assert statuses(us)[AP] == "ACTIVE"
        assert ap.describe_table(TableName=TABLE)["Table"]["TableStatus"] == "ACTIVE"
    finally:
        server.stop()
