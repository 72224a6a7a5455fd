"""`cleanup --probes`: find what earlier probe runs left, delete it, touch nothing else.

An item is a leftover probe only when its key has the probe prefix AND it carries the
marker attribute (`gtcheck.marks`); the Scan filters on both, each item is checked again,
and each delete is conditional on both, so no participant's item is ever deleted. The
Scan pages are small and paced by a read budget, the deletes by a write budget, so a
clean-up during a workshop does not throttle the class.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gtcheck import marks, options
from gtcheck.aws import Clients
from gtcheck.bot.runner import Log, Runner, quiet
from gtcheck.budget import EVENTUAL_READ_RCU, ReadBudget, WriteBudget
from gtcheck.target import Target

PAGE_SIZE = 100  # items scanned per page: a few read units, never a 1 MB page at once
DELETE_UNITS = 1.0  # a probe item is far below 1 KB
CONDITION_FAILED = frozenset({"ConditionalCheckFailedException"})
_NAMES = {"#pk": "PK", "#marker": marks.PROBE_MARKER}
_VALUES = {":prefix": {"S": marks.PROBE_PREFIX}}
_IS_PROBE = "begins_with(#pk, :prefix) AND attribute_exists(#marker)"


@dataclass
class SweepResult:
    """Probe item copies found and deleted per region; `left` were found but not deleted
    in time (a copy that vanished by itself, e.g. a replicated delete, is not left)."""

    found: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)
    left: int = 0
    read_units: float = 0.0
    write_units: float = 0.0

    @property
    def total_deleted(self) -> int:
        return sum(self.deleted.values())


def sweep_probes(
    clients: Clients,
    target: Target,
    *,
    log: Log = quiet,
    timeout: float = options.DEFAULT_TIMEOUT,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
    page_size: int = PAGE_SIZE,
) -> SweepResult:
    """Delete every leftover probe item, in every region where it is found."""
    run = Runner(clients, target, sleep, monotonic, timeout, log)
    reads, writes = ReadBudget(monotonic), WriteBudget(monotonic)
    for region in target.regions:
        _provision(run, region, reads, writes)
    result = SweepResult()
    found = {region: _find(run, region, reads, result, page_size) for region in target.regions}
    for region, keys in found.items():
        result.found[region] = len(keys)
        result.deleted[region] = 0
        for number, key in enumerate(keys):
            if not _afford(run, writes, region, DELETE_UNITS):
                result.left += len(keys) - number
                break
            if _delete(run, region, key, writes, result):
                result.deleted[region] += 1
                log(f"cleanup: deleted {key['PK']['S']} in {region}")
    return result


def _provision(run: Runner, region: str, reads: ReadBudget, writes: WriteBudget) -> None:
    table = run.request(region, "describe_table")["Table"]
    throughput = table.get("ProvisionedThroughput") or {}
    reads.provision(region, run.target.table, throughput.get("ReadCapacityUnits"))
    writes.provision(region, run.target.table, throughput.get("WriteCapacityUnits"))


def _find(
    run: Runner, region: str, reads: ReadBudget, result: SweepResult, page_size: int
) -> list[dict[str, Any]]:
    """The keys of every probe item `region` holds (a paginated, paced, filtered Scan)."""
    keys: list[dict[str, Any]] = []
    request: dict[str, Any] = {
        "FilterExpression": _IS_PROBE,
        "ProjectionExpression": "#pk, SK, #marker",
        "ExpressionAttributeNames": _NAMES,
        "ExpressionAttributeValues": _VALUES,
        "Limit": page_size,
        "ReturnConsumedCapacity": "TOTAL",
    }
    while True:
        _afford(run, reads, region, EVENTUAL_READ_RCU, wait_past_deadline=True)
        page = run.request(region, "scan", **request)
        units = (page.get("ConsumedCapacity") or {}).get("CapacityUnits", EVENTUAL_READ_RCU)
        reads.charge(region, run.target.table, units)
        result.read_units += units
        keys += [
            {"PK": item["PK"], "SK": item["SK"]}
            for item in page.get("Items", [])
            if marks.is_probe(item) and "SK" in item
        ]
        if not page.get("LastEvaluatedKey"):
            return keys
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _delete(
    run: Runner, region: str, key: dict[str, Any], writes: WriteBudget, result: SweepResult
) -> bool:
    """Delete one probe copy, only if it still is one; False when it was already gone."""
    answer = run.request_unless(
        CONDITION_FAILED,
        region,
        "delete_item",
        Key=key,
        ConditionExpression=_IS_PROBE,
        ExpressionAttributeNames=_NAMES,
        ExpressionAttributeValues=_VALUES,
        ReturnConsumedCapacity="TOTAL",
    )
    units = DELETE_UNITS if answer is None else _units(answer, DELETE_UNITS)
    writes.charge(region, run.target.table, units)
    result.write_units += units
    return answer is not None


def _units(answer: dict[str, Any], default: float) -> float:
    return float((answer.get("ConsumedCapacity") or {}).get("CapacityUnits", default))


def _afford(
    run: Runner,
    budget: ReadBudget,
    region: str,
    units: float,
    *,
    wait_past_deadline: bool = False,
) -> bool:
    """Wait until the budget can spend `units`; False when that would pass the deadline."""
    resource = run.target.table
    while not budget.affordable(region, resource, units):
        delay = budget.seconds_until(region, resource, units)
        if not wait_past_deadline and run.monotonic() + delay > run.deadline:
            return False
        run.sleep(max(delay, 0.01))
    return True
