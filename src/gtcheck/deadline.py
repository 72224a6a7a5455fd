"""The run's one deadline as a tenacity stop strategy, shared by waiting and retries.

A run is bounded by one replication timeout plus overhead: every wait and every retry
after a throttled read stops when the next sleep would carry it past the deadline.
"""

from __future__ import annotations

from collections.abc import Callable

from tenacity import RetryCallState
from tenacity.stop import stop_base


class stop_at_deadline(stop_base):  # named like tenacity's own strategies
    """Stop at `deadline` (+ `grace`) on `monotonic`, or when the next sleep would pass it."""

    def __init__(
        self, deadline: float, monotonic: Callable[[], float], *, grace: float = 0.0
    ) -> None:
        self.deadline = deadline
        self.monotonic = monotonic
        self.grace = grace

    def __call__(self, retry_state: RetryCallState) -> bool:
        now = self.monotonic()
        upcoming = retry_state.upcoming_sleep or 0.0
        return now >= self.deadline + self.grace or now + upcoming > self.deadline + self.grace
