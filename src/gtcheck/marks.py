"""How gtcheck marks what it writes, so that nothing it leaves lasts and it can be found.

Every item `solve` or a probe writes carries the table's TTL attribute one hour ahead of
the wall clock: even a killed run leaves nothing for long. Probe items also carry a key
prefix and a marker attribute naming their run; `cleanup --probes` deletes only items that
have both, so a participant's item can never be mistaken for one.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from gtcheck.workshop import TTL_ATTRIBUTE

LIFETIME_S = 3600  # how long an item gtcheck wrote may outlive its run
PROBE_PREFIX = "GTCHECK#probe-"  # PK: GTCHECK#probe-<run id>-<source>><receiving>-<n>
PROBE_SORT_KEY = "PROBE"
PROBE_MARKER = "gtcheck_probe"  # attribute holding the run id
SCENARIO_SORT_KEY = "SCENARIO"


def wall_clock() -> float:
    """Seconds since the epoch, looked up at each call (so freezegun can freeze it)."""
    return time.time()


def expires_at(now: float) -> int:
    """The TTL value, epoch seconds, for an item written at `now`."""
    return int(now) + LIFETIME_S


def with_ttl(item: dict[str, Any], ttl: int) -> dict[str, Any]:
    """A plain item (as the page's JSON) carrying the TTL attribute."""
    return {**item, TTL_ATTRIBUTE: ttl}


def new_run_id() -> str:
    """A short random id naming one run's probes (letters and digits only)."""
    return secrets.token_hex(6)


def probe_key(run_id: str, source: str, receiving: str, number: int) -> dict[str, Any]:
    """The key of probe `number` of a run, written in `source` and awaited in `receiving`."""
    pk = f"{PROBE_PREFIX}{run_id}-{source}>{receiving}-{number:04d}"
    return {"PK": {"S": pk}, "SK": {"S": PROBE_SORT_KEY}}


def run_prefix(run_id: str) -> str:
    """The PK prefix of every marked item of one run (probes and scenario items)."""
    return f"{PROBE_PREFIX}{run_id}-"


def scenario_key(run_id: str, name: str) -> dict[str, Any]:
    """The key of a validation scenario's item: probe prefix, so `cleanup --probes` finds
    what a killed run left (with the marker, as for every probe item)."""
    return {"PK": {"S": f"{run_prefix(run_id)}{name}"}, "SK": {"S": SCENARIO_SORT_KEY}}


def own_condition(run_id: str) -> dict[str, Any]:
    """DynamoDB condition arguments: the item still carries this run's marker."""
    return {
        "ConditionExpression": "#gt_marker = :gt_run",
        "ExpressionAttributeNames": {"#gt_marker": PROBE_MARKER},
        "ExpressionAttributeValues": {":gt_run": {"S": run_id}},
    }


def probe_item(key: dict[str, Any], run_id: str, ttl: int) -> dict[str, Any]:
    """A probe item, typed: its key, the marker naming its run, and its TTL."""
    return {**key, PROBE_MARKER: {"S": run_id}, TTL_ATTRIBUTE: {"N": str(ttl)}}


def is_probe(item: dict[str, Any]) -> bool:
    """True only for an item with the probe key prefix AND the marker attribute."""
    pk = item.get("PK", {})
    return (
        isinstance(pk, dict)
        and isinstance(pk.get("S"), str)
        and pk["S"].startswith(PROBE_PREFIX)
        and PROBE_MARKER in item
    )
