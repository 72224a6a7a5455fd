"""Provisioned capacity as DynamoDB counts and enforces it.

The workshop table has 5 RCU / 5 WCU on the table and on each GSI, so a careless checker
throttles the class it grades. Here are the units a read or write consumes, a token
bucket per second per (region, table or index) that keeps unused capacity as burst, and a
ledger of what each resource consumed and how many requests it refused.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

READ_BLOCK_BYTES = 4096
WRITE_BLOCK_BYTES = 1024
DEFAULT_BURST_SECONDS = 300.0


class Kind(StrEnum):
    READ = "read"
    WRITE = "write"


@dataclass(frozen=True)
class Resource:
    """A table, or one of its global secondary indexes, in one region."""

    region: str
    table: str
    index: str | None = None

    @property
    def label(self) -> str:
        """`table` or `table/index/GSI1`, as the resource's ARN ends."""
        return self.table if self.index is None else f"{self.table}/index/{self.index}"


# ----- units -----------------------------------------------------------------------------------
def read_units(size: int, *, consistent: bool, transactional: bool = False) -> float:
    """Per started 4 KB: 1 RCU strongly consistent, 0.5 eventually, 2 in a transaction."""
    blocks = max(1, math.ceil(size / READ_BLOCK_BYTES))
    if transactional:
        return 2.0 * blocks
    return float(blocks) if consistent else blocks / 2


def write_units(size: int, *, transactional: bool = False) -> float:
    """1 WCU per started 1 KB (at least one), twice that in a transaction."""
    blocks = max(1, math.ceil(size / WRITE_BLOCK_BYTES))
    return float(2 * blocks if transactional else blocks)


def item_size(attributes: Mapping[str, Any] | None) -> int:
    """An item's size in bytes as DynamoDB bills it: names plus values (typed JSON)."""
    if not attributes:
        return 0
    return sum(_utf8(name) + value_size(value) for name, value in attributes.items())


def value_size(value: Mapping[str, Any]) -> int:
    """One typed attribute value's size (DynamoDB's item size rules)."""
    ((kind, inner),) = value.items()
    if kind == "S":
        return _utf8(inner)
    if kind == "N":
        return _number_size(inner)
    if kind == "B":
        return _binary_size(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(_utf8(v) for v in inner)
    if kind == "NS":
        return sum(_number_size(v) for v in inner)
    if kind == "BS":
        return sum(_binary_size(v) for v in inner)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in inner)
    if kind == "M":
        return 3 + sum(1 + _utf8(k) + value_size(v) for k, v in inner.items())
    return _utf8(str(inner))


def _utf8(text: Any) -> int:
    return len(str(text).encode("utf-8"))


def _number_size(text: Any) -> int:
    """1 byte per two significant digits, plus one."""
    try:
        digits = Decimal(str(text)).normalize().as_tuple().digits
    except InvalidOperation:
        return _utf8(text)
    return math.ceil(len(digits) / 2) + 1


def _binary_size(value: Any) -> int:
    if isinstance(value, bytes):
        return len(value)
    try:
        return len(base64.b64decode(str(value), validate=True))
    except (binascii.Error, ValueError):
        return _utf8(value)


# ----- buckets ---------------------------------------------------------------------------------
class TokenBucket:
    """Capacity units per second, unused ones kept up to `burst_seconds` of the rate.

    With no burst one second's worth is still held, as capacity is per second. A request
    is admitted while the balance is positive and then charged what it really consumed
    (DynamoDB knows a Query's size only after reading), so a large one may overdraw the
    bucket and the refill pays that back before the next is admitted. A bucket starts
    full, as the workshop's table has been idle since its stack created it.
    """

    def __init__(self, rate: float, burst_seconds: float, now: float) -> None:
        self._burst_seconds = max(burst_seconds, 1.0)
        self.balance = rate * self._burst_seconds
        self.lowest = self.balance  # below zero: the table refused everyone for a while
        self._updated = now

    def refill(self, rate: float, now: float) -> float:
        elapsed = max(0.0, now - self._updated)
        self._updated = max(self._updated, now)
        self.balance = min(rate * self._burst_seconds, self.balance + rate * elapsed)
        return self.balance

    def has_capacity(self, rate: float, now: float) -> bool:
        return self.refill(rate, now) > 1e-9

    def spend(self, units: float, rate: float, now: float) -> None:
        self.refill(rate, now)
        self.balance -= units
        self.lowest = min(self.lowest, self.balance)


@dataclass
class Usage:
    """What one resource consumed and refused since the simulator started."""

    read_units: float = 0.0
    write_units: float = 0.0
    refused_reads: int = 0
    refused_writes: int = 0


RateLookup = Callable[[Resource, Kind], float | None]


class CapacityLedger:
    """Every resource's buckets and usage; `rate_of` says a resource's provisioned rate now
    (None when it has none to enforce, such as an on-demand table)."""

    def __init__(self, burst_seconds: float, rate_of: RateLookup) -> None:
        self.burst_seconds = burst_seconds
        self._rate_of = rate_of
        self._buckets: dict[tuple[Resource, Kind], TokenBucket] = {}
        self._usage: dict[Resource, Usage] = {}

    def admit(self, resources: Iterable[Resource], kind: Kind, now: float) -> Resource | None:
        """The first resource without capacity left (its refusal counted), or None."""
        for resource in resources:
            rate = self._rate_of(resource, kind)
            if rate is None:
                continue
            if not self._bucket(resource, kind, rate, now).has_capacity(rate, now):
                usage = self._usage.setdefault(resource, Usage())
                if kind is Kind.READ:
                    usage.refused_reads += 1
                else:
                    usage.refused_writes += 1
                return resource
        return None

    def charge(self, resource: Resource, kind: Kind, units: float, now: float) -> None:
        """Record what a request (or a replicated write) consumed; never refuses."""
        usage = self._usage.setdefault(resource, Usage())
        if kind is Kind.READ:
            usage.read_units += units
        else:
            usage.write_units += units
        rate = self._rate_of(resource, kind)
        if rate is not None:
            self._bucket(resource, kind, rate, now).spend(units, rate, now)

    def usage(self, resource: Resource) -> Usage:
        return self._usage.get(resource, Usage())

    def lowest_balances(self, kind: Kind) -> dict[Resource, float]:
        """The lowest balance each resource's bucket of `kind` reached: below zero, a request
        overdrew it and the table refused every caller until the refill paid it back."""
        return {
            resource: bucket.lowest
            for (resource, bucket_kind), bucket in self._buckets.items()
            if bucket_kind is kind
        }

    def snapshot(self) -> dict[str, dict[str, dict[str, float]]]:
        """{region: {table or table/index/NAME: units consumed and requests refused}}."""
        out: dict[str, dict[str, dict[str, float]]] = {}
        for resource, usage in sorted(self._usage.items(), key=lambda r: r[0].label):
            out.setdefault(resource.region, {})[resource.label] = {
                "read_units": usage.read_units,
                "write_units": usage.write_units,
                "refused_reads": usage.refused_reads,
                "refused_writes": usage.refused_writes,
            }
        return out

    def _bucket(self, resource: Resource, kind: Kind, rate: float, now: float) -> TokenBucket:
        key = (resource, kind)
        if key not in self._buckets:
            self._buckets[key] = TokenBucket(rate, self.burst_seconds, now)
        return self._buckets[key]
