"""gtcheck.lanes: reads side by side on threads, or in order on the caller's thread."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from gtcheck.lanes import InOrder, lanes


def test_in_order_runs_each_task_at_once_on_the_caller_s_thread():
    ran: list[tuple[str, str]] = []

    def read(name: str) -> str:
        ran.append((name, threading.current_thread().name))
        return name.upper()

    here = threading.current_thread().name
    with lanes(4, side_by_side=False) as lane:
        first = lane.submit(read, "index")
        second = lane.submit(read, "history")
        assert ran == [("index", here), ("history", here)]  # before anything waits on them
        assert list(lane.map(read, ["us", "eu"])) == ["US", "EU"]
    assert (first.result(), second.result()) == ("INDEX", "HISTORY")


def test_in_order_keeps_a_failure_for_result_as_a_thread_would():
    def broken() -> None:
        raise ValueError("unreadable")

    future = InOrder().submit(broken)
    with pytest.raises(ValueError, match="unreadable"):
        future.result()


def test_side_by_side_is_a_thread_pool():
    with lanes(2, side_by_side=True) as lane:
        assert isinstance(lane, ThreadPoolExecutor)
