"""The simulator's settings, validated once so that every door sees the same rules."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

from gtcheck.errors import UsageError
from gtcheck.workshop import DEFAULT_REGIONS, WORKSHOP_TABLE, validate_regions

MAX_LAG_SECONDS = 3600.0


class TableSetup(StrEnum):
    """Which regions get the workshop table when the simulator starts."""

    GLOBAL = "global"  # every region, joined as one global table (a finished setup)
    PRIMARY = "primary"  # the first region only, as the workshop's stack leaves it
    NONE = "none"  # nothing: the user creates tables through the API


def validate_lag(name: str, seconds: float) -> float:
    """Lag, jitter and other simulated durations are finite, non-negative, within an hour."""
    if not math.isfinite(seconds) or seconds < 0:
        raise UsageError(f"{name} must be a number of seconds >= 0, got {seconds}")
    if seconds > MAX_LAG_SECONDS:
        raise UsageError(f"{name} must be at most {MAX_LAG_SECONDS:.0f} seconds, got {seconds}")
    return seconds


def validate_fraction(name: str, value: float) -> float:
    """A probability: 0 <= value <= 1."""
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise UsageError(f"{name} must be a fraction between 0 and 1, got {value}")
    return value


@dataclass(frozen=True)
class SimConfig:
    """How the offline global table behaves; invalid values raise UsageError."""

    regions: tuple[str, ...] = DEFAULT_REGIONS
    table: str = WORKSHOP_TABLE
    lag: float = 1.0
    jitter: float = 0.3
    seed: int = 0
    throttle: float = 0.0
    setup: TableSetup = TableSetup.GLOBAL
    account_id: str = field(default="123456789012")
    # How long a replica added with UpdateTable stays CREATING (0: ACTIVE at once).
    replica_create_seconds: float = 0.0
    # Provisioned capacity enforced per second, unused capacity kept up to burst_seconds
    # (0: strict, one second's worth); capacity=False turns it off for raw throughput.
    capacity: bool = True
    burst_seconds: float = 300.0
    # Seconds between a request leaving its client and the answer reaching it, as over the
    # network to a region far away (server mode only: in-process calls cross no network).
    round_trip: float = 0.0

    def __post_init__(self) -> None:
        validate_regions(tuple(self.regions))
        validate_lag("lag", self.lag)
        validate_lag("jitter", self.jitter)
        validate_lag("replica_create_seconds", self.replica_create_seconds)
        validate_lag("burst_seconds", self.burst_seconds)
        validate_lag("round_trip", self.round_trip)
        validate_fraction("throttle", self.throttle)
        if not 3 <= len(self.table) <= 255:
            raise UsageError(f"table name must be 3 to 255 characters, got {self.table!r}")

    @property
    def primary(self) -> str:
        """The region the workshop's stack creates the table in."""
        return self.regions[0]
