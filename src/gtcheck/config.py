"""A run's settings, validated once, whether they came from `gtcheck` or plain pytest."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gtcheck import roster
from gtcheck.budget import BURST_SECONDS, ReadBudget
from gtcheck.errors import UsageError
from gtcheck.options import participant_name, timeout_seconds
from gtcheck.roster import Entry
from gtcheck.target import Target
from gtcheck.workshop import DEFAULT_REGIONS, WORKSHOP_TABLE, parse_regions

DEFAULT_REPORT_DIR = Path("reports")
MIN_BURST_SECONDS, MAX_BURST_SECONDS = 1.0, 300.0  # DynamoDB keeps at most 300 s of burst


@dataclass(frozen=True)
class Settings:
    """One participant (`participant`), or a class: a roster's rows, or `discover_all`."""

    participant: str
    target: Target
    product_id: str | None = None
    timeout: float = 120.0
    report_dir: Path = DEFAULT_REPORT_DIR
    budget_fraction: float = 0.5
    budget_burst_s: float = BURST_SECONDS
    roster: tuple[Entry, ...] = ()
    discover_all: bool = False

    @property
    def grades_a_class(self) -> bool:
        return bool(self.roster) or self.discover_all


@dataclass
class Runtime:
    """What a caller may inject into a run: a boto3 session and the clock (tests, demo).

    `budgets` holds each table's read budget by where it is read; a caller that runs the
    checks again and again (`--watch`) keeps the same Runtime, so that what one round spent
    is still owed in the next and rounds never add up to more than the budget's rate.
    """

    session: Any = None
    monotonic: Callable[[], float] | None = None
    sleep: Callable[[float], None] | None = None
    # Whether a first look may read its regions on threads side by side: not where one
    # thread at a time turns the injected clock (validate's own grading, gtcheck.turns).
    threads: bool = True
    extra: dict[str, Any] = field(default_factory=dict)
    budgets: dict[Any, ReadBudget] = field(default_factory=dict)


def settings_from_options(option: Any) -> Settings:
    """Validate pytest's parsed --gtcheck options (the CLI validated them already)."""
    roster_file = getattr(option, "gt_roster", None)
    discover_all = bool(getattr(option, "gt_all", False))
    chosen = [bool(option.participant), bool(roster_file), discover_all]
    if sum(chosen) != 1:
        raise UsageError("give exactly one of --participant, --roster and --all")
    entries = tuple(roster.read(Path(roster_file))) if roster_file else ()
    participant = participant_name(option.participant) if option.participant else ""
    regions = option.gt_regions
    regions = parse_regions(regions) if isinstance(regions, str) else tuple(regions)
    timeout = option.gt_timeout
    timeout = timeout_seconds(str(timeout)) if not isinstance(timeout, float) else timeout
    budget = _number("--read-budget", option.gt_read_budget)
    if not 0 < budget <= 1:
        raise UsageError(f"--read-budget must be a fraction in (0, 1], got {budget}")
    burst = _number("--read-burst", getattr(option, "gt_read_burst", BURST_SECONDS))
    if not MIN_BURST_SECONDS <= burst <= MAX_BURST_SECONDS:
        raise UsageError(
            f"--read-burst must be seconds from {MIN_BURST_SECONDS:g} to {MAX_BURST_SECONDS:g}, "
            f"got {burst:g}"
        )
    endpoint = option.gt_endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
    return Settings(
        participant=participant,
        product_id=participant_name(option.product_id) if option.product_id else None,
        target=Target(
            table=option.gt_table or WORKSHOP_TABLE,
            regions=regions or DEFAULT_REGIONS,
            endpoint_url=endpoint,
            profile=option.gt_profile,
        ),
        timeout=timeout,
        report_dir=Path(option.gt_report_dir),
        budget_fraction=budget,
        budget_burst_s=burst,
        roster=entries,
        discover_all=discover_all,
    )


def _number(option: str, value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise UsageError(f"{option} must be a number, got {value!r}") from None
