"""Waiting for the environment: a replica being created needs minutes, not a fix.

DescribeTable in every region, every few seconds (it costs no read capacity), until the
table and every replica are ACTIVE or the deadline passes. A table missing in a region is
not waited for: it is named at once, with what to do.
"""

from __future__ import annotations

from collections.abc import Callable

from gtcheck.bot.runner import Runner
from gtcheck.diagnose import missing_table_hint
from gtcheck.errors import EnvironmentProblem, ResourceMissing
from gtcheck.i18n import _

READY_POLL_S = 5.0


def wait_ready(run: Runner, sleep: Callable[[float], None], seen: dict[str, str]) -> float:
    """Seconds waited until every region's table and replicas were ACTIVE; `seen`
    gathers the other states met on the way (CREATING, UPDATING)."""
    started = run.monotonic()
    while True:
        creating = {region: s for region, s in states(run).items() if s != "ACTIVE"}
        seen.update(creating)
        waited = run.monotonic() - started
        if not creating:
            return waited
        if run.monotonic() >= run.deadline:
            shown = ", ".join(f"{region} {state}" for region, state in creating.items())
            raise EnvironmentProblem(
                _(
                    "replica still creating after {seconds} s ({states}): wait until it "
                    "is ACTIVE, or raise --timeout"
                ).format(seconds=round(waited, 1), states=shown)
            )
        sleep(min(READY_POLL_S, max(run.deadline - run.monotonic(), 0.01)))


def states(run: Runner) -> dict[str, str]:
    """Each region's table status, and every replica's as the other regions list it."""
    target = run.target
    found: dict[str, str] = {}
    listed = {target.primary}
    for region in target.regions:
        try:
            table = run.request(region, "describe_table")["Table"]
        except ResourceMissing:
            raise EnvironmentProblem(
                missing_table_hint(target.table, region, target.primary)
            ) from None
        if found.get(region, "ACTIVE") == "ACTIVE":
            found[region] = table.get("TableStatus", "ACTIVE")
        for replica in table.get("Replicas", []):
            name, status = replica.get("RegionName"), replica.get("ReplicaStatus", "ACTIVE")
            if region == target.primary:
                listed.add(name)
            if name in target.regions and status != "ACTIVE":
                found[name] = status
    for region in target.regions:
        if region not in listed:  # a table of that name, but not a replica of this one
            raise EnvironmentProblem(missing_table_hint(target.table, region, target.primary))
    return found
