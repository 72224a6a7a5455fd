"""Faults on demand: paused directions, lag and jitter, throttled reads."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

from gtcheck.sim.config import SimConfig, validate_fraction, validate_lag

Direction = tuple[str, str]  # (source region, receiving region)


@dataclass
class Faults:
    """The mutable knobs of a running simulator; every change is validated."""

    lag: float
    jitter: float
    throttle: float
    paused: set[Direction] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_config(cls, config: SimConfig) -> Faults:
        return cls(lag=config.lag, jitter=config.jitter, throttle=config.throttle)

    def set_lag(self, lag: float, jitter: float | None = None) -> None:
        with self._lock:
            self.lag = validate_lag("lag", lag)
            if jitter is not None:
                self.jitter = validate_lag("jitter", jitter)

    def set_throttle(self, fraction: float) -> None:
        with self._lock:
            self.throttle = validate_fraction("throttle", fraction)

    def pause(self, direction: Direction) -> None:
        with self._lock:
            self.paused.add(direction)

    def resume(self, direction: Direction) -> None:
        with self._lock:
            self.paused.discard(direction)

    def is_paused(self, direction: Direction) -> bool:
        return direction in self.paused

    def delay(self, rng: random.Random) -> float:
        """One replication delay: lag +- jitter, never negative."""
        with self._lock:
            return max(0.0, self.lag + rng.uniform(-self.jitter, self.jitter))

    def snapshot(self) -> dict[str, object]:
        with self._lock:
            return {
                "lag": self.lag,
                "jitter": self.jitter,
                "throttle": self.throttle,
                "paused": sorted(f"{src}>{dst}" for src, dst in self.paused),
            }
