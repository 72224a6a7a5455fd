"""Reads that may go side by side: on threads, or one after another on the caller's.

A first look reads its regions on threads so that their round trips overlap. Where one
thread at a time turns an injected clock (validate's own grading on `VirtualTurns`), a
thread the clock does not know of would wait for time that never moves: there the same
reads run in order, on the caller's thread, with the same answers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


class InOrder(Executor):
    """An executor that runs each task as it is submitted, on the submitting thread."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as problem:  # kept for `result()`, as a thread's would be
            future.set_exception(problem)
        return future

    def map(  # type: ignore[override]
        self, fn: Callable[..., T], *iterables: Iterable[Any], **_: Any
    ) -> Iterator[T]:
        return iter([fn(*args) for args in zip(*iterables, strict=False)])


def lanes(workers: int, side_by_side: bool) -> Executor:
    """`workers` threads, or the caller's own thread when reads may not go side by side."""
    return ThreadPoolExecutor(max_workers=workers) if side_by_side else InOrder()
