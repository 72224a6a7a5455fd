"""ReplicationLatency, as DynamoDB publishes it to CloudWatch."""

from __future__ import annotations

from datetime import UTC, datetime

NAMESPACE = "AWS/DynamoDB"
METRIC = "ReplicationLatency"


def publish_latency(
    account_id: str, regions: tuple[str, ...], table: str, receiving: str, ms: float, at: float
) -> None:
    """Record one replication's latency (ms) in each region's CloudWatch given.

    DynamoDB emits the metric for every source and receiving region pair with the
    dimensions TableName and ReceivingRegion; it is kept in the source region and in the
    receiving region, so a client looking in either finds it.
    """
    from moto.cloudwatch.models import cloudwatch_backends

    datum = {
        "MetricName": METRIC,
        "Dimensions": [
            {"Name": "TableName", "Value": table},
            {"Name": "ReceivingRegion", "Value": receiving},
        ],
        "Timestamp": datetime.fromtimestamp(at, tz=UTC).replace(
            tzinfo=None
        ),  # moto compares naive UTC
        "Value": round(ms, 3),
        "Unit": "Milliseconds",
    }
    for region in regions:
        cloudwatch_backends[account_id][region].put_metric_data(NAMESPACE, [dict(datum)])
