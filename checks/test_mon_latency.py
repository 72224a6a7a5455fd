"""Monitoring: CloudWatch's ReplicationLatency for each receiving region (information)."""

from __future__ import annotations

import pytest

from gtcheck.causes import Cause, diagnosis
from gtcheck.converge import World
from gtcheck.diagnose import join
from gtcheck.i18n import _
from gtcheck.verdict import Step

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
    silent, notes = [], []
    for receiving in world.regions:
        points = world.replication_latency(receiving)
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
