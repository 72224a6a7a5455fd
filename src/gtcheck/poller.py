"""Polling with tenacity until the regions agree or the run's deadline passes.

One poller serves every step of a run: each wait looks, and if not yet converged sleeps
until the next read worth making, then looks again; all waits share one deadline.
"""

from __future__ import annotations

from collections.abc import Callable

from tenacity import RetryCallState, Retrying, retry_if_result

from gtcheck.deadline import stop_at_deadline

MIN_DELAY = 0.01  # never spin: the shortest sleep between two looks


class Poller:
    """Waits as tenacity retries: a look is an attempt, "not converged" is its result."""

    def __init__(
        self,
        deadline: float,
        monotonic: Callable[[], float],
        sleep: Callable[[float], None],
    ) -> None:
        self.deadline = deadline
        self._monotonic = monotonic
        self._sleep = sleep

    def remaining(self) -> float:
        return max(0.0, self.deadline - self._monotonic())

    def wait(
        self,
        look: Callable[[], bool],
        next_delay: Callable[[], float],
        before_sleep: Callable[[], None] | None = None,
    ) -> bool:
        """Call `look` until it returns True or the deadline; True when it converged.

        `next_delay` says how long until the next read worth making; it is capped at what
        is left of the deadline, so the last look happens at the deadline itself.
        """
        if self._monotonic() >= self.deadline:
            return False  # past the deadline nothing more is read; the caller judges

        def pause(state: RetryCallState) -> float:
            return min(max(next_delay(), MIN_DELAY), self.remaining())

        def announce(state: RetryCallState) -> None:
            if before_sleep is not None:
                before_sleep()

        retrying = Retrying(
            stop=stop_at_deadline(self.deadline, self._monotonic),
            wait=pause,
            retry=retry_if_result(lambda converged: not converged),
            sleep=self._sleep,
            before_sleep=announce,
            retry_error_callback=lambda state: False,
        )
        return bool(retrying(look))
