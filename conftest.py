"""Runs from a checkout use the package in src/ even before it is installed."""

import sys
from pathlib import Path

SRC = Path(__file__).parent / "src"
if str(SRC) not in sys.path:
    sys.path.insert(0, str(SRC))

pytest_plugins = ("gtcheck.plugin",)
