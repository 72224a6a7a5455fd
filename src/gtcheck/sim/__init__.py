"""The offline two-region global table (see DESIGN.md, "The offline global table")."""

from gtcheck.sim.clock import ManualClock, SystemClock
from gtcheck.sim.config import SimConfig, TableSetup
from gtcheck.sim.engine import Simulator

__all__ = ["ManualClock", "SimConfig", "Simulator", "SystemClock", "TableSetup"]
