"""What the simulator was asked: counts per region, service and operation.

Tests use it to prove that a read-only command sent no write, and benchmarks to count
the requests a checker spends.
"""

from __future__ import annotations

import threading
from collections import Counter

from gtcheck.sim.gateway import READ_OPERATIONS, WRITE_OPERATIONS


class RequestLog:
    def __init__(self) -> None:
        self._counts: Counter[tuple[str, str, str]] = Counter()
        self._lock = threading.Lock()

    def record(self, region: str, service: str, operation: str) -> None:
        with self._lock:
            self._counts[(region, service, operation)] += 1

    def counts(self) -> Counter[tuple[str, str, str]]:
        with self._lock:
            return Counter(self._counts)

    def total(self, operations: frozenset[str] | None = None, service: str = "dynamodb") -> int:
        return sum(
            n
            for (_, svc, op), n in self.counts().items()
            if svc == service and (operations is None or op in operations)
        )

    def writes(self) -> int:
        return self.total(WRITE_OPERATIONS)

    def reads(self) -> int:
        return self.total(READ_OPERATIONS)

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()
