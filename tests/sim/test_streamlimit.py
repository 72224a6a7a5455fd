"""DynamoDB Streams' read limit: 5 GetRecords calls per second per shard, then refusals."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from gtcheck.sim import ManualClock, SimConfig, Simulator
from gtcheck.sim.inprocess import IN_PROCESS_ENDPOINT
from gtcheck.sim.streamlimit import GetRecordsLimit
from gtcheck.sim.workshop_table import create_table_request

TABLE = "demo-ecommerce-freetier"
US, EU = "us-east-1", "eu-west-1"
NO_RETRIES = Config(retries={"total_max_attempts": 1})


def iterator_for(dynamodb: Any, streams: Any, table: str = TABLE) -> tuple[str, str]:
    """(shard id, a TRIM_HORIZON iterator) of the table's only shard."""
    arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard_id = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    return shard_id, iterator


def reader(sim: Simulator, region: str, table: str = TABLE) -> tuple[Any, str, str]:
    """(streams client without retries, shard id, iterator) for one region's table."""
    session = sim.session()
    dynamodb = session.client("dynamodb", region_name=region, endpoint_url=IN_PROCESS_ENDPOINT)
    streams = session.client(
        "dynamodbstreams", region_name=region, endpoint_url=IN_PROCESS_ENDPOINT, config=NO_RETRIES
    )
    return (streams, *iterator_for(dynamodb, streams, table))


def calls(streams: Any, iterator: str, times: int) -> None:
    for _ in range(times):
        streams.get_records(ShardIterator=iterator, Limit=100)


def refused(streams: Any, iterator: str) -> ClientError:
    with pytest.raises(ClientError) as info:
        streams.get_records(ShardIterator=iterator, Limit=100)
    return info.value


def test_five_calls_in_a_second_pass_and_the_sixth_is_refused(sim):
    """The sixth GetRecords within one second gets AWS's LimitExceededException."""
    streams, shard_id, iterator = reader(sim, US)
    calls(streams, iterator, 5)
    error = refused(streams, iterator)
    assert error.response["Error"]["Code"] == "LimitExceededException"
    assert error.response["Error"]["Message"] == f"Rate exceeded for shard {shard_id}"
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_calls_pass_again_once_the_window_moves(sim):
    """The window slides: a second after the first calls, the shard answers again."""
    streams, _, iterator = reader(sim, US)
    calls(streams, iterator, 3)
    sim.advance(0.5)
    calls(streams, iterator, 2)
    refused(streams, iterator)
    sim.advance(0.5)  # the first three leave the window; the last two stay in it
    calls(streams, iterator, 3)
    refused(streams, iterator)
    sim.advance(1.0)
    calls(streams, iterator, 5)


def test_refused_calls_do_not_extend_the_wait(sim):
    """Only accepted calls fill the window; hammering a refused shard costs nothing later."""
    streams, _, iterator = reader(sim, US)
    calls(streams, iterator, 5)
    for _ in range(10):
        refused(streams, iterator)
    sim.advance(1.0)
    calls(streams, iterator, 5)


def test_other_regions_and_shards_have_their_own_limit(sim):
    """A refused shard leaves the other region's stream and another table's shard alone."""
    us_dynamodb = sim.client("dynamodb", US)
    request = create_table_request("other-table")
    request["AttributeDefinitions"] = request["AttributeDefinitions"][:2]  # PK and SK
    request.pop("GlobalSecondaryIndexes")
    us_dynamodb.create_table(**request)
    us_streams, _, us_iterator = reader(sim, US)
    calls(us_streams, us_iterator, 5)
    refused(us_streams, us_iterator)
    eu_streams, _, eu_iterator = reader(sim, EU)
    calls(eu_streams, eu_iterator, 5)
    other_streams, _, other_iterator = reader(sim, US, "other-table")
    calls(other_streams, other_iterator, 5)


def test_state_counts_calls_made_and_refused(sim):
    """sim.state() shows, per region and table/shard, every GetRecords call and the refused."""
    streams, shard_id, iterator = reader(sim, US)
    calls(streams, iterator, 5)
    refused(streams, iterator)
    refused(streams, iterator)
    shard = f"{TABLE}/{shard_id}"
    assert sim.state()["get_records"] == {US: {shard: {"calls": 7, "refused": 2}}}


def test_the_records_still_arrive_within_the_limit(sim):
    """The limit refuses calls, never records: a reader that waits reads every write."""
    dynamodb = sim.client("dynamodb", US)
    streams, _, iterator = reader(sim, US)
    calls(streams, iterator, 5)
    dynamodb.put_item(TableName=TABLE, Item={"PK": {"S": "a"}, "SK": {"S": "b"}})
    refused(streams, iterator)
    sim.advance(1.0)
    assert len(streams.get_records(ShardIterator=iterator, Limit=100)["Records"]) == 1


def test_unit_window_is_sliding_and_per_key():
    """The window drops calls exactly one second old; each (region, shard) counts alone."""
    limit = GetRecordsLimit()
    assert all(limit.admit(US, "s1", 10.0 + i * 0.1) for i in range(5))
    assert not limit.admit(US, "s1", 10.9)
    assert limit.admit(EU, "s1", 10.9)
    assert limit.admit(US, "s2", 10.9)
    assert limit.admit(US, "s1", 11.0)  # the call at 10.0 has left the window
    assert not limit.admit(US, "s1", 11.05)
    assert limit.snapshot()[US]["s1"] == {"calls": 8, "refused": 2}


@pytest.mark.server
def test_the_limit_holds_over_http():
    """Over the HTTP door a boto3 streams client gets the same LimitExceededException."""
    simulator = Simulator(SimConfig(lag=1.0, jitter=0.0), clock=ManualClock())
    server = simulator.serve("127.0.0.1", 0)
    try:
        session = boto3.Session(
            aws_access_key_id="test", aws_secret_access_key="test", region_name=US
        )
        dynamodb = session.client("dynamodb", endpoint_url=server.endpoint, config=NO_RETRIES)
        streams = session.client("dynamodbstreams", endpoint_url=server.endpoint, config=NO_RETRIES)
        shard_id, iterator = iterator_for(dynamodb, streams)
        calls(streams, iterator, 5)
        error = refused(streams, iterator)
        assert error.response["Error"]["Code"] == "LimitExceededException"
        assert error.response["Error"]["Message"] == f"Rate exceeded for shard {shard_id}"
        counts = simulator.state()["get_records"][US][f"{TABLE}/{shard_id}"]
        assert counts == {"calls": 6, "refused": 1}
    finally:
        server.stop()
