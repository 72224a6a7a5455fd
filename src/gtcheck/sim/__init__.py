"""The offline two-region global table (docs/simulator.md).

Its names load on first use, so that importing `gtcheck.sim.command` to parse `gtcheck sim`
does not pull in moto before it is needed.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "ManualClock": "gtcheck.sim.clock",
    "SystemClock": "gtcheck.sim.clock",
    "SimConfig": "gtcheck.sim.config",
    "TableSetup": "gtcheck.sim.config",
    "Simulator": "gtcheck.sim.engine",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'gtcheck.sim' has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)
