"""ReplicationLatency in CloudWatch, as DynamoDB publishes it for a global table."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from gtcheck.sim import ManualClock, SimConfig, Simulator
from gtcheck.sim.inprocess import IN_PROCESS_ENDPOINT

TABLE = "demo-ecommerce-freetier"
US, EU = "us-east-1", "eu-west-1"


def key(pk: str) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": "PROFILE"}}


def clients(sim: Simulator, service: str, *regions: str) -> list[Any]:
    session = sim.session()
    return [
        session.client(service, region_name=region, endpoint_url=IN_PROCESS_ENDPOINT)
        for region in regions
    ]


def latency(
    sim: Simulator, cloudwatch: Any, receiving: str, around: float | None = None
) -> list[dict[str, Any]]:
    """ReplicationLatency datapoints for `receiving`, in the ten minutes before `around`."""
    now = datetime.fromtimestamp(sim.clock.now() if around is None else around, UTC)
    return cloudwatch.get_metric_statistics(
        Namespace="AWS/DynamoDB",
        MetricName="ReplicationLatency",
        Dimensions=[
            {"Name": "TableName", "Value": TABLE},
            {"Name": "ReceivingRegion", "Value": receiving},
        ],
        StartTime=now - timedelta(minutes=10),
        EndTime=now + timedelta(minutes=1),
        Period=60,
        Statistics=["SampleCount", "Average", "Minimum", "Maximum"],
        Unit="Milliseconds",
    )["Datapoints"]


def summary(datapoints: list[dict[str, Any]]) -> tuple[float, float, float]:
    """(samples, minimum, maximum) across the datapoints."""
    return (
        sum(d["SampleCount"] for d in datapoints),
        min(d["Minimum"] for d in datapoints),
        max(d["Maximum"] for d in datapoints),
    )


def test_latency_is_published_in_the_receiving_and_the_source_region(sim):
    """Each replication to eu-west-1 adds one sample equal to the lag, seen from both regions."""
    (us,) = clients(sim, "dynamodb", US)
    cw_us, cw_eu = clients(sim, "cloudwatch", US, EU)
    for n in range(5):
        us.put_item(TableName=TABLE, Item=key(f"USER#{n}"))
        sim.advance(0.2)
    us.delete_item(TableName=TABLE, Key=key("USER#0"))
    sim.advance(1.0)
    for cloudwatch in (cw_eu, cw_us):
        datapoints = latency(sim, cloudwatch, EU)
        assert datapoints
        assert summary(datapoints) == (6.0, 1000.0, 1000.0)
        assert {d["Unit"] for d in datapoints} == {"Milliseconds"}
    metrics = cw_eu.list_metrics(Namespace="AWS/DynamoDB", MetricName="ReplicationLatency")
    dimensions = {
        tuple(sorted((d["Name"], d["Value"]) for d in metric["Dimensions"]))
        for metric in metrics["Metrics"]
    }
    assert dimensions == {(("ReceivingRegion", EU), ("TableName", TABLE))}


def test_no_latency_for_a_direction_nothing_crossed(sim):
    """Writes only in us-east-1: no ReceivingRegion us-east-1 datapoint anywhere."""
    (us,) = clients(sim, "dynamodb", US)
    cw_us, cw_eu = clients(sim, "cloudwatch", US, EU)
    us.put_item(TableName=TABLE, Item=key("USER#ana"))
    sim.advance(2)
    assert latency(sim, cw_eu, EU)
    assert latency(sim, cw_us, US) == []
    assert latency(sim, cw_eu, US) == []


def test_no_latency_before_anything_is_delivered(sim):
    """A change still in flight has published nothing yet."""
    (us,) = clients(sim, "dynamodb", US)
    (cw_eu,) = clients(sim, "cloudwatch", EU)
    us.put_item(TableName=TABLE, Item=key("USER#ana"))
    sim.advance(0.5)
    assert latency(sim, cw_eu, EU) == []
    sim.advance(0.5)
    assert summary(latency(sim, cw_eu, EU)) == (1.0, 1000.0, 1000.0)


def test_latency_does_not_depend_on_how_far_time_is_advanced(sim):
    """One big advance past the lag still records the lag, not the size of the step."""
    us, eu = clients(sim, "dynamodb", US, EU)
    (cw_eu,) = clients(sim, "cloudwatch", EU)
    us.put_item(TableName=TABLE, Item=key("USER#1"))
    sim.advance(0.3)
    us.put_item(TableName=TABLE, Item=key("USER#2"))
    sim.advance(45)
    assert summary(latency(sim, cw_eu, EU)) == (2.0, 1000.0, 1000.0)
    assert eu.get_item(TableName=TABLE, Key=key("USER#2"))["Item"] == key("USER#2")


def test_latency_follows_lag_changes_and_pauses(sim):
    """A longer lag and a paused direction both show in the latency samples."""
    us, eu = clients(sim, "dynamodb", US, EU)
    cw_us, cw_eu = clients(sim, "cloudwatch", US, EU)
    sim.set_lag(2.5)
    eu.put_item(TableName=TABLE, Item=key("USER#eu"))
    sim.advance(3)
    assert summary(latency(sim, cw_us, US)) == (1.0, 2500.0, 2500.0)

    sim.pause(US, EU)
    us.put_item(TableName=TABLE, Item=key("USER#us"))
    sim.advance(10)
    assert latency(sim, cw_eu, EU) == []
    sim.resume(US, EU)
    assert summary(latency(sim, cw_eu, EU)) == (1.0, 10000.0, 10000.0)


def test_latency_with_jitter_stays_within_lag_plus_minus_jitter():
    """With jitter, samples vary between lag - jitter and lag + jitter."""
    sim = Simulator(SimConfig(lag=1.0, jitter=0.3, seed=9), clock=ManualClock())
    (us,) = clients(sim, "dynamodb", US)
    (cw_eu,) = clients(sim, "cloudwatch", EU)
    for n in range(20):
        us.put_item(TableName=TABLE, Item=key(f"USER#{n}"))
    sim.advance(2)
    samples, low, high = summary(latency(sim, cw_eu, EU))
    assert samples == 20
    assert 700.0 <= low < high <= 1300.0


def test_latency_with_a_clock_started_at_the_real_time():
    """With the injected clock at today's time, a query around the real now finds the samples."""
    sim = Simulator(SimConfig(lag=1.0, jitter=0.0), clock=ManualClock(start=time.time()))
    (us,) = clients(sim, "dynamodb", US)
    (cw_eu,) = clients(sim, "cloudwatch", EU)
    us.put_item(TableName=TABLE, Item=key("USER#ana"))
    sim.advance(1.0)
    datapoints = latency(sim, cw_eu, EU, around=time.time() + 1.0)
    assert summary(datapoints) == (1.0, 1000.0, 1000.0)


def test_state_lists_recent_deliveries_with_their_latency(sim):
    (us,) = clients(sim, "dynamodb", US)
    us.put_item(TableName=TABLE, Item=key("USER#d"))
    sim.advance(1.0)
    (delivery,) = sim.state()["recent_deliveries"]
    assert delivery == {
        "source": US,
        "target": EU,
        "key": ["USER#d", "PROFILE"],
        "kind": "put",
        "latency_ms": 1000.0,
        "at": sim.clock.now(),
    }
