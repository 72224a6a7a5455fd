"""What a validation run spends, kept within half the table's provisioned capacity over
the whole run.

Read and write capacity accrue per region from the run's start at half the provisioned
rate, with nothing in hand at first. A request is let through while its region (for a
write: every region, since each replica is charged for the replicated write) is not in
debt, and is charged what DynamoDB says it consumed (`ReturnConsumedCapacity`), which
may take the bucket below zero: the requests after it wait until the debt is paid. So
a burst (the probes' waves) is allowed, and paid for by the waits that follow it.

Every DynamoDB client of the run's session is paced, the graders' included, by botocore
events registered on the session before any client is made. The probes pace their own
items (they must keep their waves together), the login scenario's reads time an
arrival, and the inventory scenario's decrements must meet inside one replication
window: requests on those keys are charged here but never held; the requests after
them pay for them by waiting.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gtcheck import marks
from gtcheck.budget import ReadBudget, WriteBudget

READS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan"})
WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"})
RUN_SECONDS = 86_400.0  # an accruing bucket's depth: in effect, the whole run
ESTIMATE = 1.0  # units charged when an answer does not say (an error, say)
# Reads accrue at 90% of the budget: waiting polls take whatever accrues, so they spend
# at its rate, and the measurement reads (never held) are only paid for after the fact.
READ_HEADROOM = 0.9
PACED = "gtcheck_paced"  # the request context's note: (budget, regions) to charge


class Spend:
    """The run's read and write budgets, and the botocore hooks that keep to them."""

    def __init__(
        self,
        table: str,
        regions: tuple[str, ...],
        monotonic: Callable[[], float],
        sleep: Callable[[float], None],
        run_id: str,
        fraction: float = 0.5,
    ) -> None:
        self.table = table
        self.regions = regions
        self.sleep = sleep
        self.monotonic = monotonic
        self.deadline = float("inf")  # the run's, once it is known
        self.run_id = run_id
        # Partition keys whose reads, or writes, time something: charged, never held.
        self.unheld_reads: set[str] = set()
        self.unheld_writes: set[str] = set()
        self.reads = ReadBudget(
            monotonic, fraction * READ_HEADROOM, RUN_SECONDS, start_full=False
        )
        self.writes = WriteBudget(monotonic, fraction, RUN_SECONDS, start_full=False)

    def provision(self, region: str, throughput: dict[str, Any]) -> None:
        self.reads.provision(region, self.table, throughput.get("ReadCapacityUnits"))
        self.writes.provision(region, self.table, throughput.get("WriteCapacityUnits"))

    def register(self, session: Any) -> None:
        """Pace every DynamoDB client made from `session` from now on."""
        session.events.register("provide-client-params.dynamodb", self._before)
        session.events.register("after-call.dynamodb", self._after)

    def wait(self, budget: ReadBudget, regions: tuple[str, ...] | list[str]) -> None:
        """Until none of `regions` is in debt on `budget`, or the run's deadline: past
        it, what is left (the clean-up) goes unpaced, so the run still ends on time."""
        for region in regions:
            while budget.in_debt(region, self.table):
                left = self.deadline - self.monotonic()
                if left <= 0:
                    return
                wait = budget.seconds_until(region, self.table, 0.0)
                self.sleep(min(max(wait, 0.01), left))

    def charge(
        self, budget: ReadBudget, regions: tuple[str, ...] | list[str], units: float
    ) -> None:
        for region in regions:
            budget.charge(region, self.table, units)

    def spent(self) -> dict[str, dict[str, float]]:
        """Units spent per region, as data for the report."""
        return {
            region: {
                "read_units": round(self.reads.spent.get((region, self.table), 0.0), 1),
                "write_units": round(self.writes.spent.get((region, self.table), 0.0), 1),
            }
            for region in self.regions
        }

    # ----- botocore hooks -------------------------------------------------------------------
    def _before(
        self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any
    ) -> None:
        operation = model.name
        if operation not in READS and operation not in WRITES:
            return
        region = context.get("client_region") or self.regions[0]
        budget, regions = (
            (self.reads, (region,)) if operation in READS else (self.writes, self.regions)
        )
        context[PACED] = (budget, regions)
        params.setdefault("ReturnConsumedCapacity", "INDEXES")
        if not self._measuring(params, operation in READS):
            self.wait(budget, regions)

    def _after(self, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        paced = context.get(PACED)
        if paced is None:
            return
        budget, regions = paced
        self.charge(budget, regions, table_units(parsed.get("ConsumedCapacity"), self.table))

    def _measuring(self, params: dict[str, Any], read: bool) -> bool:
        """A request on one of this run's latency probes, or one `unheld_reads` or
        `unheld_writes` names."""
        item = params.get("Key") or params.get("Item") or {}
        pk, sk = item.get("PK", {}).get("S", ""), item.get("SK", {}).get("S")
        if pk in (self.unheld_reads if read else self.unheld_writes):
            return True
        return pk.startswith(marks.run_prefix(self.run_id)) and sk == marks.PROBE_SORT_KEY


def table_units(consumed: Any, table: str) -> float:
    """The table's own units in a `ConsumedCapacity` (TOTAL or INDEXES, one or a list)."""
    if not consumed:
        return ESTIMATE
    entries = consumed if isinstance(consumed, list) else [consumed]
    units = 0.0
    for entry in entries:
        if entry.get("TableName") not in (None, table):
            continue
        part = entry.get("Table") or entry
        units += float(part.get("CapacityUnits", 0.0))
    return units
