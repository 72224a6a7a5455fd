"""Every item a validation run writes, noted as it is written, and removed at the end.

The clients are spied on: each PutItem, whoever makes it (the bot, the probes, the
scenarios), notes its key and region before it is sent, so even a run stopped half-way
knows what to remove. Removing deletes each item in the region it was written in and
waits until the deletion is seen replicated everywhere; what is still there at the
deadline is deleted where it is. An item of the run's that another process changed (its
marker is no longer the run's) is reported and left alone. Reads and deletes are paced
by budgets of half the table's provisioned capacity, as the probes' are.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from gtcheck import marks
from gtcheck.aws import Clients
from gtcheck.bot.runner import Runner
from gtcheck.budget import ReadBudget, WriteBudget
from gtcheck.errors import GtcheckError, ReplicationTimeout

Typed = dict[str, Any]
CONDITION_FAILED = frozenset({"ConditionalCheckFailedException"})


@dataclass
class Ledger:
    """Keys written, in order, with the region each was first written in."""

    written: dict[tuple[str, str], tuple[str, Typed]] = field(default_factory=dict)
    settled: set[tuple[str, str]] = field(default_factory=set)  # deleted, seen gone everywhere
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, region: str, item: Typed) -> None:
        pk, sk = item.get("PK", {}).get("S"), item.get("SK", {}).get("S")
        if pk is None or sk is None:
            return
        with self.lock:
            self.written.setdefault((pk, sk), (region, {"PK": {"S": pk}, "SK": {"S": sk}}))
            self.settled.discard((pk, sk))  # written again: not settled any more

    def settle(self, key: Typed) -> None:
        """The writer deleted `key` itself and saw the deletion in every region (the
        probes do): the clean-up counts it removed without reading or deleting it again."""
        with self.lock:
            self.settled.add((key["PK"]["S"], key["SK"]["S"]))


class SpiedClients(Clients):
    """Clients whose DynamoDB PutItem calls note their item in a ledger first."""

    def __init__(self, *args: Any, ledger: Ledger, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ledger = ledger

    def dynamodb(self, region: str) -> Any:
        client = super().dynamodb(region)
        if not getattr(client, "_gtcheck_ledger", False):

            def note(params: dict[str, Any], **_: Any) -> None:
                self.ledger.note(region, params.get("Item") or {})

            client.meta.events.register("provide-client-params.dynamodb.PutItem", note)
            client._gtcheck_ledger = True
        return client


@dataclass
class Removal:
    """The clean-up's counts: item copies written (an item in every region), deleted
    (seen gone), left (still there), and the keys another process changed."""

    written: int = 0
    deleted: int = 0
    left: int = 0
    changed: list[str] = field(default_factory=list)
    replicated: bool = True  # every deletion was seen replicated before the fallback
    problem: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "written": self.written,
            "deleted": self.deleted,
            "left": self.left,
            "changed": self.changed,
            "deletions_replicated": self.replicated,
        }


class Paced:
    """One GetItem or DeleteItem at a time, each inside its region's budget."""

    def __init__(self, run: Runner) -> None:
        self.run = run
        self.reads, self.writes = ReadBudget(run.monotonic), WriteBudget(run.monotonic)
        for region in run.target.regions:
            try:
                table = run.request(region, "describe_table")["Table"]
            except GtcheckError:
                table = {}  # the deletes there will say why; pace as on demand meanwhile
            throughput = table.get("ProvisionedThroughput") or {}
            self.reads.provision(region, run.target.table, throughput.get("ReadCapacityUnits"))
            self.writes.provision(region, run.target.table, throughput.get("WriteCapacityUnits"))

    def request_unless(
        self, refusals: frozenset[str], region: str, operation: str, **kwargs: Any
    ) -> dict[str, Any] | None:
        budget = self.reads if operation == "get_item" else self.writes
        table = self.run.target.table
        while not budget.affordable(region, table, 1.0):
            self.run.sleep(max(budget.seconds_until(region, table, 1.0), 0.01))
        budget.charge(region, table, 1.0)
        return self.run.request_unless(refusals, region, operation, **kwargs)

    def request(self, region: str, operation: str, **kwargs: Any) -> dict[str, Any]:
        answer = self.request_unless(frozenset(), region, operation, **kwargs)
        assert answer is not None
        return answer


def remove(run: Runner, ledger: Ledger, run_id: str) -> Removal:
    """Delete everything in `ledger`, see the deletions replicated, count the copies."""
    regions = run.target.regions
    if not ledger.written:
        return Removal()
    with ledger.lock:
        everything = dict(ledger.written)
        settled = set(ledger.settled)
    entries = [entry for pk_sk, entry in everything.items() if pk_sk not in settled]
    removal = Removal(written=len(everything) * len(regions))
    if not entries:
        removal.deleted = removal.written
        return removal
    paced = Paced(run)
    ours = [(region, key) for region, key in entries if _delete(paced, region, key, run_id)]
    removal.changed = [
        key["PK"]["S"] for region, key in entries if (region, key) not in ours
    ]
    present = {(key["PK"]["S"], region): key for _, key in ours for region in regions}

    def gone() -> bool:
        for (pk, region), key in list(present.items()):
            if _holds(paced, region, key, run_id) is None:
                del present[(pk, region)]
        return not present

    try:
        run.poll(gone, lambda: f"{len(present)} deletions not seen replicated")
    except ReplicationTimeout:
        removal.replicated = False
        for (pk, region), key in list(present.items()):
            _delete(paced, region, key, run_id)
            if _holds(paced, region, key, run_id) is None:
                del present[(pk, region)]
    except GtcheckError as problem:
        removal.problem = str(problem)
    removal.left = len(present)
    removal.deleted = removal.written - removal.left - len(removal.changed) * len(regions)
    return removal


def _marked(key: Typed, run_id: str) -> bool:
    return key["PK"]["S"].startswith(marks.run_prefix(run_id))


def _delete(run: Paced, region: str, key: Typed, run_id: str) -> bool:
    """Delete one item where it was written; False when it is no longer the run's own.

    A marked item (probe, scenario) is deleted only while it carries the run's marker; a
    bot item's key names the run's unique bot, so it is the run's.
    """
    if not _marked(key, run_id):
        run.request(region, "delete_item", Key=key)
        return True
    answer = run.request_unless(
        CONDITION_FAILED, region, "delete_item", Key=key, **marks.own_condition(run_id)
    )
    if answer is not None:
        return True
    held = run.request(region, "get_item", Key=key, ConsistentRead=True).get("Item")
    return held is None  # already gone (the probes delete their own): still ours


def _holds(run: Paced, region: str, key: Typed, run_id: str) -> Typed | None:
    """The run's copy of `key` in `region`, if it is still there."""
    item = run.request(region, "get_item", Key=key, ConsistentRead=True).get("Item")
    if item is None:
        return None
    if _marked(key, run_id) and item.get(marks.PROBE_MARKER) != {"S": run_id}:
        return None  # changed meanwhile by another process: not ours to count or delete
    return item
