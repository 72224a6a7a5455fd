"""The real AWS CLI against the simulator's HTTP endpoint (3 s lag, no jitter).

Each test waits for at most one replication lag; reads right after a write prove that an
item has not arrived yet, because a fresh `aws` process answers well within the lag.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gtcheck.sim import Simulator

pytestmark = [pytest.mark.server, pytest.mark.awscli]

TABLE = "demo-ecommerce-freetier"
LAG_MS = 3000.0
WAIT_SECONDS = 10.0  # bounded wait for one 3 s replication
POLL_SECONDS = 0.2


def _find_aws() -> str | None:
    beside = Path(sys.executable).with_name("aws")
    return str(beside) if beside.is_file() else shutil.which("aws")


AWS = _find_aws()


@pytest.fixture
def aws(served_sim: Simulator, aws_env: dict[str, str]) -> Callable[..., Any]:
    """Run `aws <args> --region R --endpoint-url <sim>`; return parsed JSON or the process."""
    if AWS is None:
        pytest.skip("the AWS CLI is not installed (pip install awscli)")

    def run(
        *args: str,
        region: str,
        check: bool = True,
        extra_env: dict[str, str] | None = None,
    ) -> Any:
        command = [AWS, *args, "--region", region, "--endpoint-url", served_sim.endpoint]
        env = {**aws_env, **(extra_env or {})}
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
        if not check:
            return done
        assert done.returncode == 0, f"{' '.join(args[:2])} failed: {done.stderr}"
        return json.loads(done.stdout) if done.stdout.strip() else {}

    return run


def _key(pk: str, sk: str = "PROFILE") -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def _put(aws: Callable[..., Any], region: str, item: dict[str, Any]) -> None:
    aws("dynamodb", "put-item", "--table-name", TABLE, "--item", json.dumps(item), region=region)


def _get(aws: Callable[..., Any], region: str, key: dict[str, Any]) -> dict[str, Any] | None:
    answer = aws(
        "dynamodb",
        "get-item",
        "--table-name",
        TABLE,
        "--key",
        json.dumps(key),
        "--consistent-read",
        region=region,
    )
    return answer.get("Item")


def _query_gsi1(aws: Callable[..., Any], region: str, partition: str) -> list[dict[str, Any]]:
    answer = aws(
        "dynamodb",
        "query",
        "--table-name",
        TABLE,
        "--index-name",
        "GSI1",
        "--key-condition-expression",
        "GSI1PK = :p",
        "--expression-attribute-values",
        json.dumps({":p": {"S": partition}}),
        region=region,
    )
    return answer["Items"]


def _describe(aws: Callable[..., Any], region: str) -> dict[str, Any]:
    return aws("dynamodb", "describe-table", "--table-name", TABLE, region=region)["Table"]


def _wait_for(condition: Callable[[], Any], what: str) -> Any:
    """Poll `condition` until it returns something truthy; fail after WAIT_SECONDS."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() >= deadline:
            pytest.fail(f"gave up after {WAIT_SECONDS:.0f} s waiting for {what}")
        time.sleep(POLL_SECONDS)


def test_put_item_reaches_other_region_only_after_the_lag(aws, served_sim: Simulator):
    """A put in us-east-1 is absent from eu-west-1 at once, then arrives there unchanged."""
    item = {
        **_key("USER#cli-replicate"),
        "name": {"S": "Ana"},
        "visits": {"N": "3"},
        "tags": {"SS": ["a", "b"]},
        "address": {"M": {"city": {"S": "Lisbon"}, "geo": {"L": [{"N": "38.7"}]}}},
        "active": {"BOOL": True},
    }
    served_sim.pause("us-east-1", "eu-west-1")  # "not there yet" whatever the CLI's start-up
    _put(aws, "us-east-1", item)

    assert _get(aws, "eu-west-1", _key("USER#cli-replicate")) is None
    served_sim.resume("us-east-1", "eu-west-1")

    replicated = _wait_for(
        lambda: _get(aws, "eu-west-1", _key("USER#cli-replicate")), "the item in eu-west-1"
    )
    assert replicated == item


def test_gsi1_query_finds_a_replicated_item_in_both_regions(aws, served_sim: Simulator):
    """A write in eu-west-1 is found through GSI1 (keys only) there at once, in us-east-1 later."""
    item = {
        **_key("ORDER#cli-gsi", "ORDER"),
        "GSI1PK": {"S": "CUSTOMER#cli-gsi"},
        "GSI1SK": {"S": "2024-06-01"},
        "total": {"N": "42"},
    }
    projected = {name: item[name] for name in ("PK", "SK", "GSI1PK", "GSI1SK")}
    served_sim.pause("eu-west-1", "us-east-1")  # "not there yet" whatever the CLI's start-up
    _put(aws, "eu-west-1", item)

    assert _query_gsi1(aws, "eu-west-1", "CUSTOMER#cli-gsi") == [projected]
    assert _query_gsi1(aws, "us-east-1", "CUSTOMER#cli-gsi") == []
    served_sim.resume("eu-west-1", "us-east-1")

    found = _wait_for(
        lambda: _query_gsi1(aws, "us-east-1", "CUSTOMER#cli-gsi"), "GSI1 to find it in us-east-1"
    )
    assert found == [projected]


@pytest.mark.parametrize(
    ("region", "other"), [("us-east-1", "eu-west-1"), ("eu-west-1", "us-east-1")]
)
def test_describe_table_shows_the_global_workshop_table(aws, region, other):
    """describe-table lists the other region as an ACTIVE replica and the stack's settings."""
    table = _describe(aws, region)

    assert table["GlobalTableVersion"] == "2019.11.21"
    assert [(r["RegionName"], r["ReplicaStatus"]) for r in table["Replicas"]] == [(other, "ACTIVE")]
    assert table["KeySchema"] == [
        {"AttributeName": "PK", "KeyType": "HASH"},
        {"AttributeName": "SK", "KeyType": "RANGE"},
    ]
    indexes = {index["IndexName"]: index for index in table["GlobalSecondaryIndexes"]}
    assert sorted(indexes) == ["GSI1", "GSI2"]
    for name, index in indexes.items():
        assert index["Projection"] == {"ProjectionType": "KEYS_ONLY"}
        assert [k["AttributeName"] for k in index["KeySchema"]] == [f"{name}PK", f"{name}SK"]
    capacity = table["ProvisionedThroughput"]
    assert (capacity["ReadCapacityUnits"], capacity["WriteCapacityUnits"]) == (5, 5)
    assert table["StreamSpecification"] == {
        "StreamEnabled": True,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    assert table["TableArn"].startswith(f"arn:aws:dynamodb:{region}:")


def test_delete_item_in_eu_west_1_replicates_to_us_east_1(served_sim, aws):
    """A delete in eu-west-1 leaves us-east-1 untouched at once and removes the item there later."""
    key = _key("USER#cli-delete")
    item = {**key, "name": {"S": "Bo"}}
    for region in ("us-east-1", "eu-west-1"):  # the item already in both regions
        served_sim.client("dynamodb", region).put_item(TableName=TABLE, Item=item)

    deleted = aws(
        "dynamodb",
        "delete-item",
        "--table-name",
        TABLE,
        "--key",
        json.dumps(key),
        "--return-values",
        "ALL_OLD",
        region="eu-west-1",
    )
    assert deleted["Attributes"] == item
    assert _get(aws, "us-east-1", key) == item

    _wait_for(lambda: _get(aws, "us-east-1", key) is None, "the delete in us-east-1")


def test_update_table_adds_and_removes_a_third_replica(served_sim, aws):
    """A Create replica update copies table and items to ap-southeast-1, which then replicates
    its own writes; a Delete replica update removes it again."""
    earlier = {**_key("USER#cli-earlier"), "name": {"S": "Cy"}}
    served_sim.client("dynamodb", "us-east-1").put_item(TableName=TABLE, Item=earlier)

    created = aws(
        "dynamodb",
        "update-table",
        "--table-name",
        TABLE,
        "--replica-updates",
        json.dumps([{"Create": {"RegionName": "ap-southeast-1"}}]),
        region="us-east-1",
    )
    replicas = created["TableDescription"]["Replicas"]
    assert sorted(r["RegionName"] for r in replicas) == ["ap-southeast-1", "eu-west-1"]

    third = _describe(aws, "ap-southeast-1")
    assert sorted((r["RegionName"], r["ReplicaStatus"]) for r in third["Replicas"]) == [
        ("eu-west-1", "ACTIVE"),
        ("us-east-1", "ACTIVE"),
    ]
    assert third["GlobalTableVersion"] == "2019.11.21"
    assert _get(aws, "ap-southeast-1", _key("USER#cli-earlier")) == earlier

    newer = {**_key("USER#cli-from-ap"), "name": {"S": "Di"}}
    _put(aws, "ap-southeast-1", newer)
    arrived = _wait_for(
        lambda: _get(aws, "us-east-1", _key("USER#cli-from-ap")), "the ap-southeast-1 write"
    )
    assert arrived == newer

    removed = aws(
        "dynamodb",
        "update-table",
        "--table-name",
        TABLE,
        "--replica-updates",
        json.dumps([{"Delete": {"RegionName": "ap-southeast-1"}}]),
        region="us-east-1",
    )
    assert [r["RegionName"] for r in removed["TableDescription"]["Replicas"]] == ["eu-west-1"]
    gone = aws(
        "dynamodb", "describe-table", "--table-name", TABLE, region="ap-southeast-1", check=False
    )
    assert gone.returncode != 0
    assert "ResourceNotFoundException" in gone.stderr


def test_replication_latency_metric_reports_the_lag(served_sim, aws):
    """After one replication, ReplicationLatency into eu-west-1 is about 3000 ms in CloudWatch,
    seen from the receiving and from the source region."""
    _put(aws, "us-east-1", {**_key("USER#cli-latency"), "name": {"S": "Ed"}})
    _wait_for(lambda: served_sim.state()["delivered"] >= 1, "one delivery")

    now = datetime.now(UTC)
    window = [
        "--start-time",
        (now - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "--end-time",
        (now + timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    ]
    for region in ("eu-west-1", "us-east-1"):  # the receiving and the source region
        answer = aws(
            "cloudwatch",
            "get-metric-statistics",
            "--namespace",
            "AWS/DynamoDB",
            "--metric-name",
            "ReplicationLatency",
            "--dimensions",
            f"Name=TableName,Value={TABLE}",
            "Name=ReceivingRegion,Value=eu-west-1",
            *window,
            "--period",
            "60",
            "--statistics",
            "Average",
            "Maximum",
            "SampleCount",
            region=region,
        )
        points = answer["Datapoints"]
        assert sum(point["SampleCount"] for point in points) == 1, region
        (point,) = points
        assert point["Unit"] == "Milliseconds"
        assert LAG_MS - 1 <= point["Average"] == point["Maximum"] < 2 * LAG_MS


def test_throttled_read_fails_in_the_aws_cli(served_sim, aws):
    """With every read throttled, writes still succeed and get-item exits non-zero naming
    ProvisionedThroughputExceededException; lifting the throttle makes the read work."""
    key = _key("USER#cli-throttle")
    served_sim.set_throttle(1.0)
    _put(aws, "us-east-1", {**key, "name": {"S": "Fi"}})

    failed = aws(
        "dynamodb",
        "get-item",
        "--table-name",
        TABLE,
        "--key",
        json.dumps(key),
        region="us-east-1",
        check=False,
        extra_env={"AWS_MAX_ATTEMPTS": "1"},
    )
    assert failed.returncode != 0
    assert "ProvisionedThroughputExceededException" in failed.stderr
    assert "Traceback" not in failed.stderr

    served_sim.set_throttle(0.0)
    assert _get(aws, "us-east-1", key) == {**key, "name": {"S": "Fi"}}
