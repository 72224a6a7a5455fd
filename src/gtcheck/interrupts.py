"""SIGTERM and Ctrl-C as one interrupt, delivered where a traceback can be shown.

A run that writes to the table (validate) must clean up however it is stopped, so SIGTERM
raises KeyboardInterrupt as Ctrl-C does and every `finally` runs. Python runs a signal
handler between two bytecode instructions, and some instructions carry no line number
(those a compiler adds around `with` and exception blocks). An interrupt raised there
leaves a traceback entry without a line, on which pytest's own report of the interrupt
crashes (its TypeError would replace the clean exit). Such a signal is sent again a moment
later, when the program stands on a line.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

RESEND_AFTER_S = 0.005  # long enough to leave the instruction, short for a person

Handler = Callable[[int, FrameType | None], None]


def resend_soon(number: int) -> None:
    """Send `number` to this process again after RESEND_AFTER_S, from a timer thread."""
    timer = threading.Timer(RESEND_AFTER_S, os.kill, (os.getpid(), number))
    timer.daemon = True
    timer.start()


def interrupt_on_a_line(resend: Callable[[int], None] = resend_soon) -> Handler:
    """A handler raising KeyboardInterrupt, or asking `resend` when the interrupted frame
    stands on an instruction without a line number."""

    def interrupt(number: int, frame: FrameType | None) -> None:
        if frame is not None and frame.f_lineno is None:
            resend(number)
            return
        raise KeyboardInterrupt

    return interrupt


@contextmanager
def interrupts_on_a_line(
    numbers: tuple[int, ...] = (signal.SIGTERM, signal.SIGINT),
) -> Iterator[None]:
    """Inside the block, each signal in `numbers` interrupts as Ctrl-C does; the previous
    handlers come back after it. Outside the main thread nothing can be installed."""
    previous: dict[int, Any] = {}
    try:
        for number in numbers:
            previous[number] = signal.signal(number, interrupt_on_a_line())
    except ValueError:  # not the main thread
        pass
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
