"""SIGTERM and Ctrl-C during a run that writes: one interrupt, raised where it can be shown."""

from __future__ import annotations

import os
import signal
import time
from types import SimpleNamespace

import pytest

from gtcheck.interrupts import interrupt_on_a_line, interrupts_on_a_line


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT])
def test_the_signal_raises_the_interrupt_that_runs_every_clean_up(number):
    """Inside the block the signal is a KeyboardInterrupt (so pytest's teardown and the
    door's `finally` clean up); afterwards the previous handler is back."""

    def signalled() -> None:
        with interrupts_on_a_line():
            os.kill(os.getpid(), number)
            time.sleep(1.0)  # the signal arrives at once; this only bounds a broken handler

    before = signal.getsignal(number)
    with pytest.raises(KeyboardInterrupt):
        signalled()
    assert signal.getsignal(number) == before


def test_a_signal_on_an_instruction_without_a_line_is_sent_again_not_raised():
    """pytest cannot report an interrupt whose traceback has an entry without a line: the
    handler asks for the signal again instead of raising there."""
    resent: list[int] = []
    handler = interrupt_on_a_line(resend=resent.append)
    handler(signal.SIGTERM, SimpleNamespace(f_lineno=None))  # type: ignore[arg-type]
    assert resent == [signal.SIGTERM]


def test_a_signal_on_a_line_raises_at_once():
    resent: list[int] = []
    handler = interrupt_on_a_line(resend=resent.append)
    with pytest.raises(KeyboardInterrupt):
        handler(signal.SIGTERM, SimpleNamespace(f_lineno=12))  # type: ignore[arg-type]
    with pytest.raises(KeyboardInterrupt):
        handler(signal.SIGINT, None)
    assert resent == []


def test_a_resent_signal_arrives_and_interrupts():
    """The real resend: the signal comes back on its own and interrupts the block."""
    def resent_from_a_line_without_one() -> None:
        with interrupts_on_a_line():
            interrupt_on_a_line()(signal.SIGTERM, SimpleNamespace(f_lineno=None))  # type: ignore[arg-type]
            time.sleep(2.0)  # bounds a resend that never comes

    with pytest.raises(KeyboardInterrupt):
        resent_from_a_line_without_one()
