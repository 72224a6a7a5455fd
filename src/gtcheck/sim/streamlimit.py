"""DynamoDB Streams' read limit: at most 5 GetRecords calls per second per shard.

AWS refuses the sixth call within a second with LimitExceededException. A checker that
tails the streams of a whole class must stay inside this, so the simulator enforces it
and counts what it accepted and refused, for tests that prove the checker does.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

CALLS_PER_SECOND = 5
WINDOW_SECONDS = 1.0
LIMIT_CODE = "LimitExceededException"


def limit_message(shard_id: str) -> str:
    """The message AWS sends with the refusal."""
    return f"Rate exceeded for shard {shard_id}"


@dataclass
class ShardCounts:
    calls: int = 0  # every call made, refused ones included
    refused: int = 0


class GetRecordsLimit:
    """A sliding one-second window of accepted GetRecords calls per (region, shard)."""

    def __init__(self, calls_per_second: int = CALLS_PER_SECOND) -> None:
        self._limit = calls_per_second
        self._accepted: dict[tuple[str, str], deque[float]] = {}
        self._counts: dict[tuple[str, str], ShardCounts] = {}
        self._lock = threading.Lock()

    def admit(self, region: str, shard: str, now: float) -> bool:
        """Count one call at `now`; False when the shard already took its 5 this second."""
        key = (region, shard)
        with self._lock:
            window = self._accepted.setdefault(key, deque())
            while window and window[0] <= now - WINDOW_SECONDS:
                window.popleft()
            counts = self._counts.setdefault(key, ShardCounts())
            counts.calls += 1
            if len(window) >= self._limit:
                counts.refused += 1
                return False
            window.append(now)
            return True

    def snapshot(self) -> dict[str, dict[str, dict[str, int]]]:
        """Calls made (refused ones included) and refused: {region: {shard: counts}}."""
        with self._lock:
            out: dict[str, dict[str, dict[str, int]]] = {}
            for (region, shard), counts in sorted(self._counts.items()):
                out.setdefault(region, {})[shard] = {
                    "calls": counts.calls,
                    "refused": counts.refused,
                }
            return out
