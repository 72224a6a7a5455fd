"""The poller: tenacity until converged or the deadline, time injected."""

from __future__ import annotations

from gtcheck.poller import Poller


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_it_looks_until_converged_sleeping_as_told() -> None:
    clock = Clock()
    looks = iter([False, False, True])
    poller = Poller(10.0, clock.monotonic, clock.sleep)
    assert poller.wait(lambda: next(looks), lambda: 0.25)
    assert clock.sleeps == [0.25, 0.25]


def test_the_last_look_is_at_the_deadline_and_none_after() -> None:
    clock = Clock()
    looked_at: list[float] = []

    def look() -> bool:
        looked_at.append(clock.now)
        return False

    assert not Poller(1.0, clock.monotonic, clock.sleep).wait(look, lambda: 0.4)
    assert looked_at == [0.0, 0.4, 0.8, 1.0]


def test_past_the_deadline_it_reads_nothing() -> None:
    clock = Clock()
    clock.now = 5.0
    assert not Poller(1.0, clock.monotonic, clock.sleep).wait(lambda: 1 / 0, lambda: 1.0)


def test_a_zero_delay_never_spins() -> None:
    clock = Clock()
    assert not Poller(0.05, clock.monotonic, clock.sleep).wait(lambda: False, lambda: 0.0)
    assert all(pause > 0 for pause in clock.sleeps)
