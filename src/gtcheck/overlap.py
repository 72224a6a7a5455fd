"""Parts of a run side by side: each in a thread of its own, awaited by name.

Waiting for replication is most of a validation's time, and the parts wait for
different things; run together, they take about as long as the longest. A Ctrl-C or
SIGTERM reaches the main thread only: while it waits for a part it notices an interrupt
raised in any part (an injected clock raises it in whichever thread moved it), and
`stop` asks every part to end at its next sleep, then waits for them, so a clean-up that
follows sees every write they made.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import wait as wait_for
from typing import Any

from gtcheck.turns import Turns


class Stopped(BaseException):
    """Raised in a part's sleep once the run is stopping: not an error, an ending."""


class Overlap:
    """Named parts, each started in its own thread and awaited in the main one."""

    def __init__(self, turns: Turns, sleep: Callable[[float], None]) -> None:
        self.turns = turns
        self._sleep = sleep
        self.stopping = threading.Event()
        self.interrupted = False
        self._tasks: dict[str, tuple[Future[Any], threading.Thread]] = {}

    def sleep(self, seconds: float) -> None:
        """The parts' sleep: it ends the part when the run is stopping."""
        if self.stopping.is_set():
            raise Stopped
        self._sleep(seconds)
        if self.stopping.is_set():
            raise Stopped

    def start(self, name: str, work: Callable[[], Any]) -> None:
        future: Future[Any] = Future()
        ticket = self.turns.enlist()
        thread = threading.Thread(
            target=self._run, args=(work, future, ticket), name=f"gtcheck-{name}", daemon=True
        )
        self._tasks[name] = (future, thread)
        thread.start()

    def started(self, name: str) -> bool:
        return name in self._tasks

    def _run(self, work: Callable[[], Any], future: Future[Any], ticket: int) -> None:
        with self.turns.taking_part(ticket):
            try:
                future.set_result(work())
            except KeyboardInterrupt as interrupt:
                self.interrupted = True
                future.set_exception(interrupt)
            except BaseException as problem:  # Stopped, or a bug: the awaiting side sees it
                future.set_exception(problem)

    def result(self, name: str) -> Any:
        """The part's result once it ends; KeyboardInterrupt when any part was interrupted."""
        future, _thread = self._tasks[name]
        self.turns.wait_until(
            future.done, lambda seconds: wait_for([future], timeout=seconds), self._check
        )
        if self.interrupted:
            raise KeyboardInterrupt
        return future.result()

    def wait(self, event: threading.Event, name: str) -> None:
        """Until `event` is set or part `name` has ended, whichever comes first."""
        future, _thread = self._tasks[name]
        self.turns.wait_until(lambda: event.is_set() or future.done(), event.wait, self._check)

    def _check(self) -> None:
        """While waiting: an interrupt raised in any part reaches the main thread."""
        if self.interrupted:
            raise KeyboardInterrupt

    def stop(self) -> None:
        """Ask every part to end at its next sleep, and wait until all have."""
        self.stopping.set()
        futures = [future for future, _thread in self._tasks.values()]
        self.turns.wait_until(
            lambda: all(f.done() for f in futures),
            lambda seconds: wait_for(futures, timeout=seconds),
            lambda: None,
        )
        with self.turns.blocked():  # what is left of a part after its result: no clock
            for _future, thread in self._tasks.values():
                while thread.is_alive():
                    thread.join(timeout=0.1)
