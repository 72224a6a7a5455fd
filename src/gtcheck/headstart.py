"""The run's first look at AWS, begun while pytest is still starting.

Before a check's first step reads anything, `gtcheck check` spends a few tenths of a
second loading pytest and its plugins and collecting the checks. The first look (each
region's table described, its stream opened, a small table scanned, the streams' history)
is a dozen round trips that need none of that, and on AWS each may cross an ocean. A
thread makes them meanwhile. The grading plugin takes the world from it, waiting for the
thread if it has not finished: the steps then find those reads done, as if they had made
them; nothing is read that the first step would not have read itself.
"""

from __future__ import annotations

import threading

from gtcheck.converge import World
from gtcheck.target import Target

RUNTIME_KEY = "first_look"  # where a run's HeadStart waits in Runtime.extra


class HeadStart:
    """A world made and given its first look on a thread, handed over once."""

    def __init__(self, world: World, indexes: tuple[tuple[str, str], ...] = ()) -> None:
        self.target = world.target
        self._prepared = world
        self._indexes = indexes
        self._world: World | None = None
        self._taken = False
        world.connect()  # here: the thread then spends its time waiting on the network
        self._thread = threading.Thread(target=self._look, name="gtcheck-first-look", daemon=True)
        self._thread.start()

    def _look(self) -> None:
        try:
            self._prepared.prepare(self._indexes)
        except Exception:
            return  # the steps make their own world and meet the problem themselves
        self._world = self._prepared

    def take(self, target: Target) -> World | None:
        """The prepared world for `target`, once; None for another target, a second taker,
        or when it could not be prepared (the caller then makes its own)."""
        if self._taken or target != self.target:
            return None
        self._taken = True
        self._thread.join()
        return self._world
