"""Time for the simulator: the wall clock in server mode, a hand-turned one in tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol


class Clock(Protocol):
    """Seconds since the epoch; the replicator stamps and schedules with it."""

    def now(self) -> float: ...


class SystemClock:
    """The real wall clock."""

    def now(self) -> float:
        return time.time()


class ManualClock:
    """A clock that moves only when told, so tests never really wait for replication.

    `advance` (or `sleep`, which has the signature tenacity expects) moves time forward and
    lets listeners, such as the simulator, deliver whatever became due.
    """

    def __init__(self, start: float = 1_790_000_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []

    def now(self) -> float:
        return self._now

    def on_advance(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock does not run backwards")
        with self._lock:
            self._now += seconds
        for listener in self._listeners:
            listener()

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)


class TickingClock(ManualClock):
    """A hand-turned clock that also moves 10 µs whenever it is read.

    Real time passes between two API calls; on a frozen clock back-to-back writes in two
    regions are simultaneous, and last-writer-wins falls back to its tie-break.
    """

    def __init__(self, start: float = 1_790_000_000.0) -> None:
        super().__init__(start)
        self._reads = 0

    def now(self) -> float:
        self._reads += 1
        return super().now() + self._reads * 1e-5
