"""A check pauses the cyclic collector for its run only, and the `gtcheck` command exits
without walking the heap again; both leave everything else as they found it."""

from __future__ import annotations

import gc

import pytest

from gtcheck import cli
from gtcheck.heap import collection_paused


def test_collection_is_paused_inside_and_restored_after() -> None:
    assert gc.isenabled()
    with collection_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_already_off_stays_off() -> None:
    gc.disable()
    try:
        with collection_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_it_is_restored_when_the_run_raises() -> None:
    with pytest.raises(KeyboardInterrupt), collection_paused():
        raise KeyboardInterrupt
    assert gc.isenabled()


def test_the_command_exits_with_main_s_code_after_freezing_the_heap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(cli, "main", lambda: calls.append("main") or 3)
    monkeypatch.setattr(cli.gc, "freeze", lambda: calls.append("freeze"))
    with pytest.raises(SystemExit) as ended:
        cli.entry()
    assert ended.value.code == 3
    assert calls == ["main", "freeze"]
