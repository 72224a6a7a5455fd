"""Faults on demand: paused directions, changed lag, throttled reads, the control API."""

from __future__ import annotations

import json
import math
import types
from typing import Any

import botocore.endpoint
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from gtcheck.errors import UsageError
from gtcheck.sim import ManualClock, SimConfig, Simulator, wsgi
from gtcheck.sim.inprocess import IN_PROCESS_ENDPOINT

TABLE = "demo-ecommerce-freetier"
US, EU = "us-east-1", "eu-west-1"
THROTTLED = (
    "The level of configured provisioned throughput for the table was exceeded. "
    "Consider increasing your provisioning level with the UpdateTable API."
)
NO_RETRIES = Config(retries={"total_max_attempts": 1})


def key(pk: str) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": "PROFILE"}}


def clients(sim: Simulator, *regions: str, config: Config | None = None) -> list[Any]:
    """In-process DynamoDB clients, one per region, from one session."""
    session = sim.session()
    return [
        session.client(
            "dynamodb", region_name=region, endpoint_url=IN_PROCESS_ENDPOINT, config=config
        )
        for region in regions
    ]


def get(client: Any, pk: str) -> dict[str, Any] | None:
    return client.get_item(TableName=TABLE, Key=key(pk), ConsistentRead=True).get("Item")


def stream_values(sim: Simulator, region: str, pk: str) -> list[tuple[str, str | None]]:
    """(event, value of `v`) of the region's stream records for one item, in record order."""
    session = sim.session()
    client = session.client("dynamodb", region_name=region, endpoint_url=IN_PROCESS_ENDPOINT)
    streams = session.client(
        "dynamodbstreams", region_name=region, endpoint_url=IN_PROCESS_ENDPOINT
    )
    arn = client.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]
    out = []
    for record in records:
        data = record["dynamodb"]
        if data["Keys"]["PK"]["S"] == pk:
            value = data.get("NewImage", {}).get("v", {}).get("N")
            out.append((record["eventName"], value))
    return out


def control(sim: Simulator, method: str, path: str, body: bytes = b"") -> wsgi.WsgiResponse:
    return wsgi.call(
        sim.app, method, f"http://localhost{path}", [("Content-Type", "application/json")], body
    )


# ----- pause and resume ------------------------------------------------------------------------
def test_pause_stops_one_direction_however_long_time_runs(sim):
    """While us-east-1>eu-west-1 is paused nothing crosses that way; eu-west-1>us-east-1 flows."""
    us, eu = clients(sim, US, EU)
    sim.pause(US, EU)
    us.put_item(TableName=TABLE, Item=key("USER#from-us"))
    eu.put_item(TableName=TABLE, Item=key("USER#from-eu"))
    for _ in range(10):
        sim.advance(360)
    assert get(eu, "USER#from-us") is None
    assert get(us, "USER#from-eu") == key("USER#from-eu")
    state = sim.state()
    assert state["faults"]["paused"] == [f"{US}>{EU}"]
    assert state["pending"] == {f"{US}>{EU}": 1}
    assert state["delivered"] == 1


def test_resume_catches_up_in_write_order_per_item(sim):
    """After resume every held change lands at once: updates end at the last, put+delete is gone."""
    us, eu = clients(sim, US, EU)
    sim.pause(US, EU)
    us.put_item(TableName=TABLE, Item={**key("USER#ana"), "v": {"N": "0"}})
    sim.advance(0.5)
    for n in range(1, 5):
        us.update_item(
            TableName=TABLE,
            Key=key("USER#ana"),
            UpdateExpression="SET v = :v",
            ExpressionAttributeValues={":v": {"N": str(n)}},
        )
        sim.advance(0.5)
    us.put_item(TableName=TABLE, Item={**key("USER#gone"), "v": {"N": "7"}})
    us.delete_item(TableName=TABLE, Key=key("USER#gone"))
    sim.advance(100)
    assert get(eu, "USER#ana") is None
    assert sim.state()["pending"] == {f"{US}>{EU}": 7}

    sim.resume(US, EU)  # delivers at once: everything is long overdue
    assert sim.state()["pending"] == {}
    assert sim.state()["faults"]["paused"] == []
    assert get(eu, "USER#ana") == {**key("USER#ana"), "v": {"N": "4"}}
    assert get(eu, "USER#gone") is None
    assert stream_values(sim, EU, "USER#ana") == [
        ("INSERT", "0"),
        ("MODIFY", "1"),
        ("MODIFY", "2"),
        ("MODIFY", "3"),
        ("MODIFY", "4"),
    ]
    assert stream_values(sim, EU, "USER#gone") == [("INSERT", "7"), ("REMOVE", None)]


def test_resume_before_the_lag_does_not_deliver_early(sim):
    """A pause shorter than the lag changes nothing: the change still lands at the lag."""
    us, eu = clients(sim, US, EU)
    sim.pause(US, EU)
    us.put_item(TableName=TABLE, Item=key("USER#ana"))
    sim.advance(0.5)
    sim.resume(US, EU)
    assert get(eu, "USER#ana") is None
    sim.advance(0.49)
    assert get(eu, "USER#ana") is None
    sim.advance(0.01)
    assert get(eu, "USER#ana") == key("USER#ana")


def test_pause_and_resume_are_idempotent_and_independent(sim):
    """Pausing twice, or both directions, and resuming each works without surprises."""
    us, eu = clients(sim, US, EU)
    sim.pause(US, EU)
    sim.pause(US, EU)
    sim.pause(EU, US)
    us.put_item(TableName=TABLE, Item=key("USER#us"))
    eu.put_item(TableName=TABLE, Item=key("USER#eu"))
    sim.advance(10)
    assert sorted(sim.state()["faults"]["paused"]) == [f"{EU}>{US}", f"{US}>{EU}"]
    sim.resume(EU, US)
    assert get(us, "USER#eu") is not None
    assert get(eu, "USER#us") is None
    sim.resume(US, EU)
    sim.resume(US, EU)
    assert get(eu, "USER#us") is not None


# ----- lag ------------------------------------------------------------------------------------
def test_set_lag_changes_the_delay_of_later_writes(sim):
    """A new lag applies to writes made after it; a change already flying keeps its delay."""
    us, eu = clients(sim, US, EU)
    us.put_item(TableName=TABLE, Item=key("USER#before"))
    sim.advance(0.1)
    sim.set_lag(3.0)
    us.put_item(TableName=TABLE, Item=key("USER#after"))
    sim.advance(0.9)
    assert get(eu, "USER#before") is not None
    assert get(eu, "USER#after") is None
    sim.advance(2.09)
    assert get(eu, "USER#after") is None
    sim.advance(0.01)
    assert get(eu, "USER#after") is not None
    assert sim.state()["faults"]["lag"] == 3.0


def test_set_lag_with_jitter_bounds_every_delay(sim):
    """Lag 2 s with jitter 0.5 s: no change lands before 1.5 s, every one by 2.5 s."""
    us, eu = clients(sim, US, EU)
    sim.set_lag(2.0, 0.5)
    assert sim.state()["faults"] == {"lag": 2.0, "jitter": 0.5, "throttle": 0.0, "paused": []}
    for n in range(20):
        us.put_item(TableName=TABLE, Item=key(f"USER#{n}"))
    sim.advance(1.49)
    assert sim.state()["delivered"] == 0
    sim.advance(1.01)
    assert sim.state()["delivered"] == 20
    assert all(get(eu, f"USER#{n}") is not None for n in range(20))


def test_zero_lag_is_visible_at_once(sim):
    """With lag 0 a write is in the other region by the next request, no advance needed."""
    us, eu = clients(sim, US, EU)
    sim.set_lag(0.0, 0.0)
    us.put_item(TableName=TABLE, Item=key("USER#now"))
    assert get(eu, "USER#now") == key("USER#now")


@pytest.mark.parametrize(
    "change",
    [
        lambda sim: sim.set_lag(-1.0),
        lambda sim: sim.set_lag(math.nan),
        lambda sim: sim.set_lag(math.inf),
        lambda sim: sim.set_lag(1.0, -0.5),
        lambda sim: sim.set_lag(7200.0),
        lambda sim: sim.set_throttle(1.5),
        lambda sim: sim.set_throttle(-0.1),
        lambda sim: sim.set_throttle(math.nan),
        lambda sim: sim.pause(US, US),
        lambda sim: sim.pause(US, "ap-southeast-1"),
        lambda sim: sim.resume("nowhere-1", EU),
    ],
    ids=[
        "negative-lag",
        "nan-lag",
        "infinite-lag",
        "negative-jitter",
        "lag-over-an-hour",
        "throttle-1.5",
        "negative-throttle",
        "nan-throttle",
        "pause-to-itself",
        "pause-to-a-region-not-simulated",
        "resume-unknown-region",
    ],
)
def test_invalid_fault_values_raise_usage_error(sim, change):
    """Invalid lag, jitter, throttle or direction raise UsageError and change nothing."""
    before = sim.state()["faults"]
    with pytest.raises(UsageError):
        change(sim)
    assert sim.state()["faults"] == before


# ----- throttling -----------------------------------------------------------------------------
def _seed_items(sim: Simulator, client: Any, count: int = 5) -> None:
    for n in range(count):
        client.put_item(TableName=TABLE, Item={**key(f"USER#{n}"), "GSI1PK": {"S": "G"}})
    sim.advance(2)


def _read_operations(client: Any) -> dict[str, Any]:
    return {
        "GetItem": lambda: client.get_item(TableName=TABLE, Key=key("USER#1")),
        "Query": lambda: client.query(
            TableName=TABLE,
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": "USER#1"}},
        ),
        "Scan": lambda: client.scan(TableName=TABLE, Limit=2),
        "BatchGetItem": lambda: client.batch_get_item(
            RequestItems={TABLE: {"Keys": [key("USER#1"), key("USER#2")]}}
        ),
    }


def test_throttled_fraction_of_reads_matches_the_setting(sim):
    """With throttle 0.3 and no retries, about 30% of ~1000 reads fail as DynamoDB would."""
    (us,) = clients(sim, US, config=NO_RETRIES)
    _seed_items(sim, us)
    sim.set_throttle(0.3)
    failures: dict[str, int] = {}
    errors: list[dict[str, Any]] = []
    for name, read in _read_operations(us).items():
        failures[name] = 0
        for _ in range(250):
            try:
                read()
            except ClientError as error:
                failures[name] += 1
                errors.append(error.response)
    total = sum(failures.values())
    assert abs(total / 1000 - 0.3) <= 0.05, failures
    for name, count in failures.items():
        assert abs(count / 250 - 0.3) <= 0.1, (name, count)
    for response in errors:
        assert response["Error"] == {
            "Code": "ProvisionedThroughputExceededException",
            "Message": THROTTLED,
        }
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert response["ResponseMetadata"]["RetryAttempts"] == 0


def test_writes_are_never_throttled(sim):
    """Even with every read throttled, every kind of write succeeds and replicates."""
    us, eu = clients(sim, US, EU, config=NO_RETRIES)
    sim.set_throttle(1.0)
    for n in range(20):
        us.put_item(TableName=TABLE, Item=key(f"USER#{n}"))
        us.update_item(
            TableName=TABLE,
            Key=key(f"USER#{n}"),
            UpdateExpression="SET v = :v",
            ExpressionAttributeValues={":v": {"N": str(n)}},
        )
    us.delete_item(TableName=TABLE, Key=key("USER#0"))
    us.batch_write_item(RequestItems={TABLE: [{"PutRequest": {"Item": key("USER#batch")}}]})
    us.transact_write_items(TransactItems=[{"Put": {"TableName": TABLE, "Item": key("USER#tx")}}])
    with pytest.raises(ClientError) as throttled:
        get(eu, "USER#1")
    assert throttled.value.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
    sim.advance(2)
    sim.set_throttle(0.0)
    assert get(eu, "USER#1")["v"] == {"N": "1"}
    assert get(eu, "USER#0") is None
    assert get(eu, "USER#batch") is not None
    assert get(eu, "USER#tx") is not None


def test_default_retries_ride_out_throttling(sim, monkeypatch):
    """With botocore's default retries (4 attempts) throttled reads are retried and succeed."""
    for variable in ("AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS"):
        monkeypatch.delenv(variable, raising=False)
    sleeps: list[float] = []
    monkeypatch.setattr(botocore.endpoint, "time", types.SimpleNamespace(sleep=sleeps.append))
    (us,) = clients(sim, US)
    assert us.meta.config.retries["mode"] == "standard"
    _seed_items(sim, us)
    sim.set_throttle(0.3)
    succeeded: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []  # four throttles in a row: 0.3**4, under 1% of reads
    for read in _read_operations(us).values():
        for _ in range(50):
            try:
                succeeded.append(read())
            except ClientError as error:
                failed.append(error.response)
    assert len(failed) <= 4
    for response in failed:
        assert response["Error"]["Code"] == "ProvisionedThroughputExceededException"
        assert response["ResponseMetadata"]["RetryAttempts"] == 3
    assert all(r["ResponseMetadata"]["HTTPStatusCode"] == 200 for r in succeeded)
    retried = [r for r in succeeded if r["ResponseMetadata"]["RetryAttempts"] > 0]
    assert len(retried) >= 40  # about 30% of 200 reads needed a retry, then succeeded
    retries = sum(r["ResponseMetadata"]["RetryAttempts"] for r in succeeded + failed)
    assert len(sleeps) == retries > 0  # every retry backed off, without really waiting


def test_throttle_zero_never_throttles(sim):
    """The default throttle of 0 lets every read through."""
    (us,) = clients(sim, US, config=NO_RETRIES)
    _seed_items(sim, us)
    for read in _read_operations(us).values():
        for _ in range(50):
            read()
    assert sim.request_log.reads() == 200


def _throttle_pattern(seed: int) -> list[bool]:
    sim = Simulator(SimConfig(seed=seed, throttle=0.5, jitter=0.0), clock=ManualClock())
    (us,) = clients(sim, US, config=NO_RETRIES)
    pattern = []
    for n in range(60):
        if n % 7 == 0:
            us.put_item(TableName=TABLE, Item=key(f"USER#{n}"))  # writes draw nothing
        try:
            get(us, "USER#0")
        except ClientError:
            pattern.append(True)
        else:
            pattern.append(False)
    return pattern


def test_seed_makes_the_throttled_sequence_reproducible():
    """The same seed throttles the same reads; another seed throttles others."""
    first = _throttle_pattern(5)
    assert first == _throttle_pattern(5)
    assert first != _throttle_pattern(6)
    assert 10 < sum(first) < 50


# ----- the control API ------------------------------------------------------------------------
def test_control_api_changes_faults_in_process(sim):
    """POST /_gtcheck/faults pauses, resumes, sets lag and throttle; GET /_gtcheck/state reports."""
    us, eu = clients(sim, US, EU)
    paused = control(sim, "POST", "/_gtcheck/faults", b'{"pause": ["us-east-1>eu-west-1"]}')
    assert paused.status == 200
    assert paused.json()["faults"]["paused"] == [f"{US}>{EU}"]
    us.put_item(TableName=TABLE, Item=key("USER#held"))
    sim.advance(30)
    assert get(eu, "USER#held") is None
    state = control(sim, "GET", "/_gtcheck/state")
    assert state.status == 200
    reported = state.json()
    assert {name: reported[name] for name in ("regions", "replicas", "faults", "pending")} == {
        "regions": [US, EU],
        "replicas": {TABLE: [US, EU]},
        "faults": {"lag": 1.0, "jitter": 0.0, "throttle": 0.0, "paused": [f"{US}>{EU}"]},
        "pending": {f"{US}>{EU}": 1},
    }
    assert reported["delivered"] == 0
    assert reported["replica_status"] == {TABLE: {US: "ACTIVE", EU: "ACTIVE"}}
    assert reported["get_records"] == {}

    resumed = control(sim, "POST", "/_gtcheck/faults", b'{"resume": ["us-east-1 > eu-west-1"]}')
    assert resumed.status == 200
    assert resumed.json()["pending"] == {}
    assert get(eu, "USER#held") == key("USER#held")

    changed = control(
        sim, "POST", "/_gtcheck/faults", b'{"lag": 2.5, "jitter": 0.25, "throttle": 0.3}'
    )
    assert changed.status == 200
    assert changed.json()["faults"] == {
        "lag": 2.5,
        "jitter": 0.25,
        "throttle": 0.3,
        "paused": [],
    }
    lag_only = control(sim, "POST", "/_gtcheck/faults", b'{"lag": 4}')
    assert lag_only.json()["faults"]["jitter"] == 0.25  # jitter kept when not given
    assert sim.faults.lag == 4.0


@pytest.mark.parametrize(
    "body",
    [
        b'{"lag": -1}',
        b'{"lag": "slow"}',
        b'{"lag": null}',
        b'{"jitter": -2}',
        b'{"throttle": 1.5}',
        b'{"pause": ["us-east-1"]}',
        b'{"pause": ["us-east-1>mars-north-1"]}',
        b'{"resume": ["eu-west-1>eu-west-1"]}',
        b"{not json",
        b"[]",
        b'"lag"',
    ],
)
def test_control_api_answers_400_with_a_json_error(sim, body):
    """A bad fault request answers 400 with {"error": ...} and leaves the faults as they were."""
    before = sim.state()["faults"]
    response = control(sim, "POST", "/_gtcheck/faults", body)
    assert response.status == 400
    payload = json.loads(response.body)
    assert set(payload) == {"error"}
    assert isinstance(payload["error"], str)
    assert payload["error"]
    assert sim.state()["faults"] == before


def test_control_api_unknown_endpoint_is_404(sim):
    """Only GET state and POST faults exist under /_gtcheck/."""
    for method, path in (("GET", "/_gtcheck/faults"), ("POST", "/_gtcheck/state")):
        response = control(sim, method, path)
        assert response.status == 404
        assert "error" in response.json()


def test_a_fault_request_is_applied_whole_or_not_at_all(sim):
    """A request with one bad value changes nothing, not even its valid parts."""
    response = wsgi.call(
        sim.app, "POST", "http://localhost/_gtcheck/faults",
        [("Content-Type", "application/json")],
        json.dumps({"pause": ["us-east-1>eu-west-1"], "lag": -1}).encode(),
    )  # fmt: skip
    assert response.status == 400
    assert sim.state()["faults"]["paused"] == []
    assert sim.state()["faults"]["lag"] == 1.0
