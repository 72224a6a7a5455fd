"""Monitoring: CloudWatch's ReplicationLatency for each receiving region (information)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gtcheck.causes import Cause, diagnosis
from gtcheck.converge import World
from gtcheck.diagnose import join
from gtcheck.i18n import _
from gtcheck.verdict import Step

WINDOW = timedelta(hours=3)
SLACK = timedelta(minutes=5)  # clocks differ a little; a future EndTime is harmless
WARN_MS = 2_000
FLAG_MS = 10_000


@pytest.mark.rubric(
    id="mon.replication_latency",
    points=0,
    exercise=6,
    kind="info",
    requires=("env.replicas",),
    title="CloudWatch ReplicationLatency for each receiving region",
)
def test_replication_latency(world: World, step: Step) -> None:
    """Datapoints in the last 3 hours for every receiving region; average and maximum."""
    end = datetime.now(UTC)
    silent, notes = [], []
    for receiving in world.regions:
        points = []
        for source in [r for r in world.regions if r != receiving] + [receiving]:
            response = world.metric_statistics(
                source,
                Namespace="AWS/DynamoDB",
                MetricName="ReplicationLatency",
                Dimensions=[
                    {"Name": "TableName", "Value": world.table},
                    {"Name": "ReceivingRegion", "Value": receiving},
                ],
                StartTime=end - WINDOW,
                EndTime=end + SLACK,
                Period=int((WINDOW + SLACK).total_seconds()),
                Statistics=["Average", "Maximum", "SampleCount"],
            )
            points = response.get("Datapoints", [])
            if points:
                break
        if not points:
            silent.append(receiving)
            continue
        samples = sum(p.get("SampleCount", 0) for p in points)
        average = sum(p["Average"] * p.get("SampleCount", 1) for p in points) / max(samples, 1)
        maximum = max(p["Maximum"] for p in points)
        step.evidence[receiving] = {
            "average_ms": round(average, 1),
            "maximum_ms": maximum,
            "samples": int(samples),
        }
        if maximum > FLAG_MS:
            notes.append(
                _("into {region} up to {seconds:.1f} s: replication is falling behind").format(
                    region=receiving, seconds=maximum / 1000
                )
            )
        elif average > WARN_MS:
            notes.append(
                _(
                    "into {region} {seconds:.1f} s on average: slower than the usual under 2 s"
                ).format(region=receiving, seconds=average / 1000)
            )
    if silent:
        step.fail(
            _(
                "no ReplicationLatency datapoints for {regions} in the last 3 hours: nothing "
                "has replicated there yet, or CloudWatch is not readable"
            ).format(regions=join(silent)),
            cause=diagnosis(Cause.ENVIRONMENT, regions=silent),
        )
    if notes:
        step.note("; ".join(notes))
