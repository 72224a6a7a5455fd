"""The participant bot as a library: it performs the workshop page as a participant would,
makes exactly the mistakes asked, and removes what it wrote.

`gtcheck solve` and `gtcheck cleanup` are doors onto it; `gtcheck validate` will be another.
"""

from gtcheck.bot.cleanup import cleanup
from gtcheck.bot.exercises import solve
from gtcheck.bot.plans import (
    MISTAKES,
    STEPS,
    Plan,
    key_of,
    plan,
    planned_keys,
    timing_item,
    timing_key_pattern,
)
from gtcheck.bot.runner import SolveResult

__all__ = [
    "MISTAKES",
    "STEPS",
    "Plan",
    "SolveResult",
    "cleanup",
    "key_of",
    "plan",
    "planned_keys",
    "solve",
    "timing_item",
    "timing_key_pattern",
]
