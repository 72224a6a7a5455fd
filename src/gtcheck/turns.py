"""Sleeping for threads that run side by side, on real time or on an injected clock.

On real time every thread simply sleeps. An injected clock (a simulator's `advance`) is
moved by whoever sleeps, so two threads sleeping a quarter second each would move it half
a second: `VirtualTurns` moves it only when every thread taking part is asleep or
waiting for another, and then only to the earliest wake-up, as a discrete-event clock
does. Tests then run overlapped parts on injected time, without ever really waiting.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

EPSILON = 1e-9


class Turns(Protocol):
    """How threads that take part in a run sleep and wait for each other."""

    def sleep(self, seconds: float) -> None: ...

    def enlist(self) -> None:
        """A thread about to be started takes part from now (called by its starter)."""

    def taking_part(self) -> AbstractContextManager[None]:
        """Context of the started thread's work; it leaves when the work ends."""

    def blocked(self) -> AbstractContextManager[None]:
        """Context of waiting for another thread: time may move meanwhile."""


class RealTurns:
    """Real time: sleeping is sleeping, and waiting needs no bookkeeping."""

    def __init__(self, sleep: Callable[[float], None] = time.sleep) -> None:
        self._sleep = sleep

    def sleep(self, seconds: float) -> None:
        self._sleep(seconds)

    def enlist(self) -> None:
        """Nothing to count on real time."""

    @contextmanager
    def taking_part(self) -> Iterator[None]:
        yield

    @contextmanager
    def blocked(self) -> Iterator[None]:
        yield


class VirtualTurns:
    """An injected clock shared by threads: it moves when none of them is running.

    `advance(seconds)` moves the clock (and delivers what became due); `now()` reads it.
    The thread that builds it takes part from the start.
    """

    def __init__(self, advance: Callable[[float], None], now: Callable[[], float]) -> None:
        self._advance = advance
        self._now = now
        self._cond = threading.Condition()
        self._local = threading.local()
        self._local.part = True
        self._running = 1  # threads taking part that neither sleep nor wait
        self._sleepers: dict[object, float] = {}  # a sleep's token -> its wake-up moment

    def _takes_part(self) -> bool:
        return bool(getattr(self._local, "part", False))

    def enlist(self) -> None:
        with self._cond:
            self._running += 1

    @contextmanager
    def taking_part(self) -> Iterator[None]:
        self._local.part = True
        try:
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

    def sleep(self, seconds: float) -> None:
        with self._cond:
            passing = not self._takes_part()  # a helper thread nobody enlisted
            if passing:
                self._running += 1
            token = object()
            self._sleepers[token] = self._now() + max(seconds, 0.0)
            self._running -= 1
            try:
                self._move()
                while token in self._sleepers:
                    self._cond.wait()
            except BaseException:
                if self._sleepers.pop(token, None) is not None:
                    self._running += 1  # not woken: running again, to raise
                raise
            finally:
                if passing:
                    self._running -= 1

    def _move(self) -> None:
        """With the lock held: while nobody runs, move to the earliest wake-up and wake
        every sleeper due then (each counted as running at once)."""
        while self._running <= 0 and self._sleepers:
            earliest = min(self._sleepers.values())
            delta = earliest - self._now()
            if delta > 0:
                self._advance(delta)
            moment = self._now()
            due = [t for t, wake in self._sleepers.items() if wake <= moment + EPSILON]
            if not due:  # the clock stopped short (rounding): wake the earliest anyway
                due = [min(self._sleepers, key=self._sleepers.__getitem__)]
            for token in due:
                del self._sleepers[token]
                self._running += 1
            self._cond.notify_all()
