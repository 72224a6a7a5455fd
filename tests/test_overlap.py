"""Parts side by side on an injected clock: the clock moves only when every part sleeps
or waits, to the earliest wake-up; an interrupt in any part reaches the waiting main
thread; stopping ends every part at its next sleep. No real waiting."""

from __future__ import annotations

import pytest

from gtcheck.overlap import Overlap, Stopped
from gtcheck.sim import ManualClock
from gtcheck.turns import RealTurns, VirtualTurns


def virtual() -> tuple[ManualClock, VirtualTurns, Overlap]:
    clock = ManualClock(start=0.0)
    turns = VirtualTurns(clock.advance, clock.now)
    return clock, turns, Overlap(turns, turns.sleep)


def test_two_parts_sleeping_side_by_side_take_as_long_as_the_longer():
    """Each part sleeps 4 x 0.25 s and 3 x 0.5 s: on one clock they end at 1.0 s and
    1.5 s, not 2.5 s, and each sees its own wake-ups exactly."""
    clock, _turns, overlap = virtual()

    def sleeper(step: float, times: int) -> list[float]:
        woke = []
        for _ in range(times):
            overlap.sleep(step)
            woke.append(clock.now())
        return woke

    overlap.start("quick", lambda: sleeper(0.25, 4))
    overlap.start("slow", lambda: sleeper(0.5, 3))
    assert overlap.result("quick") == [0.25, 0.5, 0.75, 1.0]
    assert overlap.result("slow") == [0.5, 1.0, 1.5]
    assert clock.now() == 1.5


def test_the_main_thread_sleeps_on_the_same_clock():
    """The thread that built the turns takes part too: its own sleep interleaves with a
    part's, in time order."""
    clock, turns, overlap = virtual()
    order: list[tuple[str, float]] = []

    def part() -> None:
        for _ in range(2):
            overlap.sleep(0.3)
            order.append(("part", clock.now()))

    overlap.start("part", part)
    turns.sleep(0.5)
    order.append(("main", clock.now()))
    overlap.result("part")
    assert order == [("part", 0.3), ("main", 0.5), ("part", 0.6)]


def test_an_interrupt_raised_in_a_part_reaches_the_waiting_main_thread():
    clock, _turns, overlap = virtual()

    def interrupted() -> None:
        overlap.sleep(1.0)
        raise KeyboardInterrupt

    overlap.start("stuck", lambda: overlap.sleep(60.0))
    overlap.start("interrupted", interrupted)
    with pytest.raises(KeyboardInterrupt):
        overlap.result("stuck")
    overlap.stop()  # the stuck part ends at its next wake-up, without waiting 60 s for real
    assert clock.now() == pytest.approx(60.0)


def test_stop_ends_every_part_at_its_next_sleep():
    clock, turns, overlap = virtual()
    slept: list[float] = []

    def forever() -> None:
        while True:
            overlap.sleep(0.25)
            slept.append(clock.now())

    overlap.start("forever", forever)
    turns.sleep(1.0)
    overlap.stop()
    with pytest.raises(Stopped):
        overlap.result("forever")
    # Both are due at 1.0: the main thread went to sleep first, so it has its turn first
    # and the part's sleep ending then is the one that stops it.
    assert slept == [0.25, 0.5, 0.75]


def test_real_turns_only_sleep():
    slept: list[float] = []
    turns = RealTurns(slept.append)
    turns.enlist()
    with turns.taking_part(), turns.blocked():
        turns.sleep(0.5)
    assert slept == [0.5]
