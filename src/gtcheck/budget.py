"""A read budget: grading must never throttle the 5-RCU table it grades.

A token bucket per (region, table or index) refills at a fraction of the provisioned read
capacity; reads are charged as DynamoDB bills them (what the response says it consumed,
else an estimate), so a checker that polls stays inside the budget on average.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

ON_DEMAND_RATE = 10.0  # RCU/s assumed for a PAY_PER_REQUEST table, which has no provisioning
BURST_SECONDS = 1.0  # a second of unused budget may be spent at once, no more
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
    _buckets: dict[tuple[str, str], Bucket] = field(default_factory=dict)
    spent: dict[tuple[str, str], float] = field(default_factory=dict)

    def provision(self, region: str, resource: str, read_capacity: float | None) -> None:
        """Set a resource's rate from its provisioned RCU (None or 0: on demand)."""
        capacity = read_capacity if read_capacity else ON_DEMAND_RATE / self.fraction
        rate = max(capacity * self.fraction, 0.1)
        bucket = self._buckets.get((region, resource))
        if bucket is None:
            # A run starts with one small read in hand, not a full burst, so its average
            # rate stays inside the budget however short the run is.
            start = min(rate, EVENTUAL_READ_RCU)
            self._buckets[(region, resource)] = Bucket(rate, start, self.monotonic())
        else:
            bucket.rate = rate

    def rate(self, region: str, resource: str) -> float:
        return self._bucket(region, resource).rate

    def available(self, region: str, resource: str) -> float:
        bucket = self._bucket(region, resource)
        now = self.monotonic()
        bucket.tokens = min(
            bucket.rate * BURST_SECONDS, bucket.tokens + (now - bucket.updated) * bucket.rate
        )
        bucket.updated = now
        return bucket.tokens

    def affordable(self, region: str, resource: str, units: float) -> bool:
        return self.available(region, resource) >= min(units, self._bucket(region, resource).rate)

    def seconds_until(self, region: str, resource: str, units: float) -> float:
        """How long until `units` (capped at one second's worth) can be spent."""
        bucket = self._bucket(region, resource)
        missing = min(units, bucket.rate) - self.available(region, resource)
        return max(0.0, missing / bucket.rate)

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
