"""A read budget: grading must never throttle the 5-RCU table it grades.

A token bucket per (region, table or index) refills at a fraction of the provisioned read
capacity; reads are charged as DynamoDB bills them (what the response says it consumed,
else an estimate), so a checker that polls stays inside the budget on average.

The bucket starts full and holds `BURST_SECONDS` of its rate: DynamoDB keeps up to 300 s
of unused capacity as burst, so a settled participant's whole first look (a Scan per
region, the index queries) goes at once, and pacing only applies while a step waits.

A reader that runs for an hour (a class board re-grading every half minute) must not count
on burst at all: the class may need it, and a table may have none left. Such a budget
holds one second of its rate (`STRICT_BURST_SECONDS`), and no single request may cost more
than the bucket holds (`depth`), so grading never takes more than its share of
any second, even on a table that keeps no burst.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

ON_DEMAND_RATE = 10.0  # RCU/s assumed for a PAY_PER_REQUEST table, which has no provisioning
BURST_SECONDS = 10.0  # seconds of the budget's rate that may be spent at once
STRICT_BURST_SECONDS = 1.0  # a sustained reader's depth: never more than one second's share
EVENTUAL_READ_RCU = 0.5  # one item up to 4 KB, eventually consistent


@dataclass
class Bucket:
    rate: float
    tokens: float
    updated: float


@dataclass
class ReadBudget:
    """Read capacity per second each resource may spend, and what was spent."""

    monotonic: Callable[[], float]
    fraction: float = 0.5
    burst_seconds: float = BURST_SECONDS  # the bucket's depth, in seconds of its rate
    start_full: bool = True  # False: nothing to spend at first, it accrues at the rate
    _buckets: dict[tuple[str, str], Bucket] = field(default_factory=dict)
    spent: dict[tuple[str, str], float] = field(default_factory=dict)

    def provision(self, region: str, resource: str, read_capacity: float | None) -> None:
        """Set a resource's rate from its provisioned RCU (None or 0: on demand)."""
        capacity = read_capacity if read_capacity else ON_DEMAND_RATE / self.fraction
        rate = max(capacity * self.fraction, 0.1)
        bucket = self._buckets.get((region, resource))
        if bucket is None:
            tokens = rate * self.burst_seconds if self.start_full else 0.0
            self._buckets[(region, resource)] = Bucket(rate, tokens, self.monotonic())
        else:
            self.available(region, resource)
            bucket.rate = rate
            bucket.tokens = min(bucket.tokens, rate * self.burst_seconds)

    def rate(self, region: str, resource: str) -> float:
        return self._bucket(region, resource).rate

    def available(self, region: str, resource: str) -> float:
        bucket = self._bucket(region, resource)
        now = self.monotonic()
        bucket.tokens = min(
            self.depth(region, resource), bucket.tokens + (now - bucket.updated) * bucket.rate
        )
        bucket.updated = now
        return bucket.tokens

    def depth(self, region: str, resource: str) -> float:
        """The most the bucket holds: what may be spent at once, and so the most one request
        may cost (DynamoDB admits a read and charges it after, so a larger one overdraws)."""
        return self._bucket(region, resource).rate * self.burst_seconds

    def affordable(self, region: str, resource: str, units: float) -> bool:
        """Can `units` be spent now? A read larger than the whole bucket waits for a full one."""
        return self.available(region, resource) >= min(units, self.depth(region, resource))

    def seconds_until(self, region: str, resource: str, units: float) -> float:
        """How long until `units` (capped at the bucket's depth) can be spent."""
        bucket = self._bucket(region, resource)
        missing = min(units, self.depth(region, resource)) - self.available(region, resource)
        return max(0.0, missing / bucket.rate)

    def in_debt(self, region: str, resource: str) -> bool:
        """Spent more than accrued so far (a charge may take the bucket below zero)."""
        return self.available(region, resource) < 0

    def charge(self, region: str, resource: str, units: float) -> None:
        self.available(region, resource)
        self._bucket(region, resource).tokens -= units
        self.spent[(region, resource)] = self.spent.get((region, resource), 0.0) + units

    def total_spent(self) -> float:
        return sum(self.spent.values())

    def _bucket(self, region: str, resource: str) -> Bucket:
        if (region, resource) not in self._buckets:
            self.provision(region, resource, None)
        return self._buckets[(region, resource)]


@dataclass
class WriteBudget(ReadBudget):
    """The same bucket for write capacity: clean-up and probes must not throttle the
    writes of the class working in the same table. `provision` takes the provisioned WCU."""
