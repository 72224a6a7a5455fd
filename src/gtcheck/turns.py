"""Sleeping for threads that run side by side, on real time or on an injected clock.

On real time every thread simply sleeps. An injected clock (a simulator's `advance`) is
moved by whoever sleeps, so two threads sleeping a quarter second each would move it half
a second: `VirtualTurns` moves it only when every thread taking part is asleep or
waiting for another, and then only to the earliest wake-up, as a discrete-event clock
does. Tests then run overlapped parts on injected time, without ever really waiting.
There one thread runs at a time, in a fixed order, so a run repeats exactly.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

# Wake-ups this close are one moment: an epoch-sized clock's rounding is far below it.
SAME_MOMENT_S = 1e-6
POLL_S = 0.1  # how often a waiting thread checks for an interrupt (real time)


class Turns(Protocol):
    """How threads that take part in a run sleep and wait for each other."""

    def sleep(self, seconds: float) -> None: ...

    def enlist(self) -> int:
        """A thread about to be started takes part from now (called by its starter); the
        ticket returned is passed to its `taking_part`."""

    def taking_part(self, ticket: int | None = None) -> AbstractContextManager[None]:
        """Context of the started thread's work; it leaves when the work ends."""

    def blocked(self) -> AbstractContextManager[None]:
        """Context of waiting for another thread: time may move meanwhile."""

    def wait_until(
        self, ready: Callable[[], bool], pause: Callable[[float], object], check: Callable[[], None]
    ) -> None:
        """Until `ready()`, waiting with `pause(seconds)` on real time; `check()` runs every
        `POLL_S` of real time meanwhile and may raise (an interrupt)."""


class RealTurns:
    """Real time: sleeping is sleeping, and waiting needs no bookkeeping."""

    def __init__(self, sleep: Callable[[float], None] = time.sleep) -> None:
        self._sleep = sleep

    def sleep(self, seconds: float) -> None:
        self._sleep(seconds)

    def enlist(self) -> int:
        """Nothing to count on real time."""
        return 0

    @contextmanager
    def taking_part(self, ticket: int | None = None) -> Iterator[None]:
        yield

    @contextmanager
    def blocked(self) -> Iterator[None]:
        yield

    def wait_until(
        self, ready: Callable[[], bool], pause: Callable[[float], object], check: Callable[[], None]
    ) -> None:
        while not ready():
            check()
            pause(POLL_S)


class VirtualTurns:
    """An injected clock shared by threads: it moves when none of them is running.

    `advance(seconds)` moves the clock (and delivers what became due); `now()` reads it.
    The thread that builds it takes part from the start.

    One thread taking part runs at a time: threads due at the same moment (and waiters
    whose condition holds) take their turns in the order they went to sleep or wait, a
    newly started thread in the order it was enlisted. Were they let run together, the
    operating system's scheduling would decide which of them spends a shared budget
    first, and the run would not repeat.
    """

    def __init__(self, advance: Callable[[float], None], now: Callable[[], float]) -> None:
        self._advance = advance
        self._now = now
        self._cond = threading.Condition()
        self._local = threading.local()
        self._local.part = True
        self._running = 1  # threads taking part that neither sleep nor wait
        self._order = itertools.count()
        self._sleepers: dict[object, tuple[float, int]] = {}  # token -> (wake-up, order)
        self._waiters: dict[object, tuple[int, Callable[[], bool]]] = {}  # token -> (order, ready)

    def _takes_part(self) -> bool:
        return bool(getattr(self._local, "part", False))

    def enlist(self) -> int:
        with self._cond:
            self._running += 1
            return next(self._order)

    @contextmanager
    def taking_part(self, ticket: int | None = None) -> Iterator[None]:
        self._local.part = True
        try:
            # The first turn: in the order the thread was enlisted, not that of its start.
            self._turn(self._now(), next(self._order) if ticket is None else ticket)
            yield
        finally:
            self._local.part = False
            with self._cond:
                self._running -= 1
                self._move()

    @contextmanager
    def blocked(self) -> Iterator[None]:
        if not self._takes_part():
            yield
            return
        with self._cond:
            self._running -= 1
            try:
                self._move()
            except BaseException:
                self._running += 1
                raise
        try:
            yield
        finally:
            with self._cond:
                self._running += 1

    def wait_until(
        self, ready: Callable[[], bool], pause: Callable[[float], object], check: Callable[[], None]
    ) -> None:
        if not self._takes_part():
            RealTurns().wait_until(ready, pause, check)
            return
        with self._cond:
            token = object()
            self._waiters[token] = (next(self._order), ready)
            self._running -= 1
            try:
                self._move()
                while token in self._waiters:
                    check()
                    self._cond.wait(POLL_S)  # real time: `check` notices an interrupt
            except BaseException:
                if self._waiters.pop(token, None) is not None:
                    self._running += 1  # not woken: running again, to raise
                raise

    def sleep(self, seconds: float) -> None:
        with self._cond:
            passing = not self._takes_part()  # a helper thread nobody enlisted
            if passing:
                self._running += 1
        try:
            self._turn(self._now() + max(seconds, 0.0), None)
        finally:
            if passing:
                with self._cond:
                    self._running -= 1
                    self._move()

    def _turn(self, wake: float, order: int | None) -> None:
        """Stop running until the clock reaches `wake` and it is this thread's turn."""
        with self._cond:
            token = object()
            self._sleepers[token] = (wake, next(self._order) if order is None else order)
            self._running -= 1
            try:
                self._move()
                while token in self._sleepers:
                    self._cond.wait()
            except BaseException:
                if self._sleepers.pop(token, None) is not None:
                    self._running += 1  # not woken: running again, to raise
                raise

    def _move(self) -> None:
        """With the lock held: while nobody runs, give the turn to the first (in order) of
        the waiters whose condition holds and the sleepers due now; when there are none,
        move the clock to the earliest wake-up."""
        while self._running <= 0 and (self._sleepers or self._waiters):
            moment = self._now()
            turn = self._first(moment)
            if turn is None:
                if not self._sleepers:
                    return  # every thread waits for one that does not take part
                earliest = min(wake for wake, _ in self._sleepers.values())
                if earliest - moment > 0:
                    self._advance(earliest - moment)
                # the clock may stop short of it (rounding): the earliest is due anyway
                turn = self._first(max(self._now(), earliest))
            assert turn is not None
            self._sleepers.pop(turn, None)
            self._waiters.pop(turn, None)
            self._running += 1
            self._cond.notify_all()

    def _first(self, moment: float) -> object | None:
        """The token whose turn comes first at `moment`, if any is due."""
        due = [(o, t) for t, (wake, o) in self._sleepers.items() if wake <= moment + SAME_MOMENT_S]
        due += [(o, t) for t, (o, ready) in self._waiters.items() if ready()]
        return min(due, key=lambda pair: pair[0])[1] if due else None
