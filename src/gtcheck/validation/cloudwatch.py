"""CloudWatch's own ReplicationLatency, beside what the probes measured."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from gtcheck.aws import Clients
from gtcheck.target import Target

PERIOD_S = 60


def average(
    clients: Clients, target: Target, receiving: str, window: tuple[float, float]
) -> float | None:
    """The average ReplicationLatency into `receiving` over the minutes of `window`
    (epoch seconds), in ms; None without datapoints or without access to CloudWatch."""
    start, end = (datetime.fromtimestamp(t, tz=UTC) for t in window)
    points: list[dict[str, Any]] = []
    for region in target.regions:
        if region == receiving:
            continue
        try:
            answer = clients.cloudwatch(region).get_metric_statistics(
                Namespace="AWS/DynamoDB",
                MetricName="ReplicationLatency",
                Dimensions=[
                    {"Name": "TableName", "Value": target.table},
                    {"Name": "ReceivingRegion", "Value": receiving},
                ],
                StartTime=start.replace(second=0, microsecond=0),
                EndTime=end.replace(microsecond=0) + timedelta(seconds=PERIOD_S),
                Period=PERIOD_S,
                Statistics=["Average", "SampleCount"],
            )
        except Exception:  # CloudWatch is an extra, never a verdict
            continue
        points += answer.get("Datapoints", [])
    counted = sum(p.get("SampleCount", 1) for p in points)
    if not points or not counted:
        return None
    total = sum(p["Average"] * p.get("SampleCount", 1) for p in points)
    return round(total / counted, 3)
