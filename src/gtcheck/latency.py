"""A probe's timeline and a direction's latency figures, as plain data.

A probe's arrival lies between the last stream look that missed it and the first that
saw it, and its write took effect between sending it and its answer: its latency is the
difference of the two midpoints, its resolution the sum of the two widths. Nothing here
talks to AWS: `gtcheck.probe` fills the timelines, this module turns them into figures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from gtcheck.items import Key, key_of

PAGE_CLAIM_MS = 2000.0  # the workshop page: replication "usually under 2 seconds"


@dataclass
class ProbeTimeline:
    """One probe's timeline, in the injected monotonic clock's seconds."""

    source: str
    receiving: str
    key: dict[str, Any]  # typed
    due: float | None  # None: a deletion, due once its item's arrival is confirmed
    started: float | None = None
    written: float | None = None  # the PutItem's answer came back
    missed: float | None = None  # start of the last full look that did not show it
    seen: float | None = None  # end of the first look that showed it
    confirmed: bool = False
    deleted: bool = False  # a put's item, deleted in its source region by this run
    gone: bool = False  # that deletion seen in the receiving region's stream
    item: ProbeTimeline | None = None  # a deletion's: the put probe whose item it deletes
    dropped: bool = False  # a deletion never sent (its item never confirmed, or changed)

    @property
    def deletes(self) -> bool:
        return self.item is not None

    @property
    def direction(self) -> str:
        return f"{self.source}->{self.receiving}"

    @property
    def plain_key(self) -> Key:
        found = key_of(self.key)
        assert found is not None
        return found

    def interval(self) -> tuple[float, float] | None:
        """When it arrived: after the later of its write's start and the last miss, by the
        first sight."""
        if self.seen is None or self.started is None:
            return None
        low = self.started if self.missed is None else max(self.started, self.missed)
        return low, self.seen


@dataclass(frozen=True)
class ProbeSample:
    """One probe that arrived and was confirmed."""

    key: str
    latency_ms: float
    resolution_ms: float


@dataclass(frozen=True)
class Summary:
    """One direction's probes, in milliseconds; None where no probe arrived."""

    direction: str
    sent: int
    samples: int
    not_arrived: int  # not seen in the receiving region by the deadline
    unconfirmed: int  # shown by the stream, but the read did not find it
    min: float | None
    p50: float | None
    p95: float | None
    max: float | None
    mean: float | None
    resolution_ms: float | None  # the widest interval among the samples
    deleted: int
    probes: tuple[ProbeSample, ...] = ()

    @property
    def within_page_claim(self) -> bool | None:
        """The page's "usually under 2 seconds": does the median keep it?"""
        return None if self.p50 is None else self.p50 < PAGE_CLAIM_MS

    def as_json(self) -> dict[str, Any]:
        """The `latency_ms` entry of `gtcheck.validation/1` (validate adds cloudwatch_avg)."""
        return {
            "samples": self.samples,
            "min": self.min,
            "p50": self.p50,
            "p95": self.p95,
            "max": self.max,
            "mean": self.mean,
            "resolution_ms": self.resolution_ms,
            "not_arrived": self.not_arrived,
        }


def summarise(direction: str, probes: list[ProbeTimeline], deleted: int) -> Summary:
    """A direction's figures from its probes' intervals (pure: results as data)."""
    samples: list[ProbeSample] = []
    for probe in probes:
        interval = probe.interval()
        if interval is None or not probe.confirmed or probe.written is None:
            continue
        low, high = interval
        # The write took effect between sending it and its answer: the midpoint of that
        # too (the answer's own trip is not replication), its width added to the
        # resolution.
        assert probe.started is not None
        wrote = (probe.started + probe.written) / 2
        samples.append(
            ProbeSample(
                key=probe.plain_key[0],
                latency_ms=round(((low + high) / 2 - wrote) * 1000, 3),
                resolution_ms=round((high - low + probe.written - probe.started) * 1000, 3),
            )
        )
    latencies = sorted(sample.latency_ms for sample in samples)
    return Summary(
        direction=direction,
        sent=sum(1 for p in probes if p.started is not None),
        samples=len(samples),
        not_arrived=sum(1 for p in probes if p.seen is None and not p.dropped),
        unconfirmed=sum(1 for p in probes if p.seen is not None and not p.confirmed),
        min=latencies[0] if latencies else None,
        p50=percentile(latencies, 50),
        p95=percentile(latencies, 95),
        max=latencies[-1] if latencies else None,
        mean=round(sum(latencies) / len(latencies), 3) if latencies else None,
        resolution_ms=max((s.resolution_ms for s in samples), default=None),
        deleted=deleted,
        probes=tuple(samples),
    )


def percentile(ordered: list[float], q: float) -> float | None:
    """The q-th percentile of sorted values, interpolated linearly between ranks."""
    if not ordered:
        return None
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    value = ordered[low] + (ordered[high] - ordered[low]) * (rank - low)
    return round(value, 3)
