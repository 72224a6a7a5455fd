"""Cyclic garbage collection paused for one short, bounded run.

A check's pytest session makes a few hundred thousand objects (boto3's service models,
pytest's nodes and reports) and keeps most of them to the end; the collector would walk
them again and again, tens of milliseconds each time, for garbage that is freed when the
run ends anyway. Collection resumes afterwards, so `--watch` rounds do not accumulate.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collection_paused() -> Iterator[None]:
    """Pause the cyclic collector inside the block; restore its state after it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
