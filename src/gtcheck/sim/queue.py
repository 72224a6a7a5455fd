"""Replication in flight: changes waiting for their delivery time, one heap per direction."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from gtcheck.sim.faults import Direction
from gtcheck.sim.lww import Version


@dataclass(frozen=True)
class Change:
    """One write as a region's stream tells it: the whole new image, or None for a delete."""

    table: str
    key: Hashable
    image: dict[str, Any] | None
    version: Version
    source: str
    written_at: float


@dataclass(order=True)
class Delivery:
    """A change due in `target` at `due` (seconds since the epoch)."""

    due: float
    seq: int
    target: str = field(compare=False)
    change: Change = field(compare=False)

    @property
    def direction(self) -> Direction:
        return (self.change.source, self.target)


class DeliveryQueue:
    """Orders deliveries by due time while keeping each item's changes in write order.

    Jitter could schedule a later write to an item before an earlier one; a delivery is
    therefore never due before the previous delivery of the same item on the same direction.
    """

    def __init__(self) -> None:
        self._heaps: dict[Direction, list[Delivery]] = {}
        self._last_due: dict[tuple[Direction, str, Hashable], float] = {}
        self._seq = itertools.count()

    def push(self, change: Change, target: str, due: float) -> Delivery:
        direction = (change.source, target)
        order_key = (direction, change.table, change.key)
        due = max(due, self._last_due.get(order_key, due))
        self._last_due[order_key] = due
        delivery = Delivery(due, next(self._seq), target, change)
        heapq.heappush(self._heaps.setdefault(direction, []), delivery)
        return delivery

    def next_due(self, paused: Callable[[Direction], bool]) -> float | None:
        """The earliest due time among directions that are not paused."""
        heads = [heap[0].due for d, heap in self._heaps.items() if heap and not paused(d)]
        return min(heads, default=None)

    def pop_due(self, now: float, paused: Callable[[Direction], bool]) -> list[Delivery]:
        """Every delivery due by `now` on a running direction, earliest first."""
        due: list[Delivery] = []
        for direction, heap in self._heaps.items():
            if paused(direction):
                continue
            while heap and heap[0].due <= now:
                due.append(heapq.heappop(heap))
        due.sort()
        return due

    def copy_to_new_replica(self, existing: str, new: str) -> None:
        """A new replica copied from `existing` must also get what is still flying to it."""
        for (source, target), heap in list(self._heaps.items()):
            if target == existing and source != new:
                for delivery in sorted(heap):
                    self.push(delivery.change, new, delivery.due)

    def drop_region(self, region: str) -> None:
        """A deleted replica receives nothing more (what it sent still lands elsewhere)."""
        for direction in [d for d in self._heaps if d[1] == region]:
            del self._heaps[direction]

    def pending(self) -> dict[Direction, int]:
        return {d: len(heap) for d, heap in self._heaps.items() if heap}
