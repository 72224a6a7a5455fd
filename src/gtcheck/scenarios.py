"""The workshop page's real-world scenarios, played against the table as probes.

Each scenario writes marked items (the probe prefix, the run's marker, a TTL an hour
ahead: `gtcheck.marks`), waits for replication the way the page describes it, and returns
a verdict as data: an id, a status and an explanation (a message id and its parameters,
rendered in the reader's language only at the edge). Every update is conditional on the
run's marker, so an item another process changed meanwhile is reported, never overwritten.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from gtcheck import marks
from gtcheck.bot.runner import Runner
from gtcheck.errors import EnvironmentProblem, ReplicationTimeout
from gtcheck.i18n import N_, _
from gtcheck.probe import PAGE_CLAIM_MS

PASSED, FAILED, ERROR = "passed", "failed", "error"
CONDITION_FAILED = frozenset({"ConditionalCheckFailedException"})
STARTING_STOCK = 100

Typed = dict[str, Any]
Wrote = Callable[[str, Typed], None]  # (region, key) of every item put, for the clean-up

LOGIN_WITHIN = N_(
    "A login timestamp updated in {source} was visible in {reader} after {seconds} s "
    "(known to {resolution} s): within the workshop's \"usually under 2 seconds\""
)
LOGIN_OVER = N_(
    "A login timestamp updated in {source} was visible in {reader} after {seconds} s "
    "(known to {resolution} s): slower than the workshop's \"usually under 2 seconds\""
)
INVENTORY_LOST = N_(
    "Stock {start} was decremented in {regions} at the same moment. Every region converged "
    "on {stock}, not {expected}: {lost} decrement(s) lost to last writer wins, as it must be "
    "when two regions write one item at once. The remedy: make the decrement a conditional "
    "write in one home region ({primary}), or keep a counter per region and add them up"
)
INVENTORY_KEPT = N_(
    "Stock {start} was decremented in {regions}; every region converged on {stock} and no "
    "decrement was lost, because each write saw the other (they were not simultaneous). "
    "Simultaneous decrements lose one to last writer wins: decrement in one home region "
    "({primary}) with a conditional write, or keep a counter per region"
)
ORDER_COMPLETE = N_(
    "An order created in {created}, paid in {paid} and shipped in {shipped}, waiting for "
    "replication between the steps, holds all three changes in every region"
)
ORDER_INCOMPLETE = N_(
    "The order created in {created}, paid in {paid} and shipped in {shipped} lacks {missing} "
    "in {region}"
)
NOT_REPLICATED = N_("Not replicated in time: {problem}")
CHANGED = N_(
    "Another process changed this scenario's item {key} while the run was in flight: the "
    "scenario stopped there, and the item is left as that process wrote it"
)
NOT_RUN = N_("Could not be run: {problem}")


@dataclass(frozen=True)
class Verdict:
    """One scenario's outcome; the explanation is a message id and its parameters."""

    id: str
    status: str
    message: str
    params: dict[str, Any] = field(default_factory=dict)

    def explanation(self) -> str:
        """The explanation in the current language."""
        return _(self.message).format(**self.params)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "explanation": self.explanation(),
            "observed": self.params,
        }


class Changed(Exception):
    """A scenario item no longer carries the run's marker."""

    def __init__(self, key: Typed) -> None:
        super().__init__(key["PK"]["S"])
        self.key = key


@dataclass
class Stage:
    """What the scenarios share: the runner (clients, injected time, deadline), the run's
    id and TTL, and where to note every item put."""

    run: Runner
    run_id: str
    ttl: int
    wrote: Wrote
    now: Callable[[], float]

    def key(self, name: str) -> Typed:
        return marks.scenario_key(self.run_id, name)

    def put(self, region: str, key: Typed, attributes: dict[str, Typed]) -> None:
        item = marks.probe_item(key, self.run_id, self.ttl) | attributes
        self.wrote(region, key)
        self.run.request(region, "put_item", Item=item)

    def update(self, region: str, key: Typed, expression: str, values: dict[str, Typed]) -> None:
        """SET `expression`, only while the item is still this run's."""
        condition = marks.own_condition(self.run_id)
        answer = self.run.request_unless(
            CONDITION_FAILED,
            region,
            "update_item",
            Key=key,
            UpdateExpression=expression,
            ConditionExpression=condition["ConditionExpression"],
            ExpressionAttributeNames=condition["ExpressionAttributeNames"],
            ExpressionAttributeValues={**condition["ExpressionAttributeValues"], **values},
        )
        if answer is None:
            raise Changed(key)

    def read(self, region: str, key: Typed, *, consistent: bool = True) -> Typed | None:
        """The item in `region`; an eventually consistent read (half the read capacity)
        may show a write a moment late, never one that is not there."""
        answer = self.run.request(region, "get_item", Key=key, ConsistentRead=consistent)
        item = answer.get("Item")
        if item is not None and item.get(marks.PROBE_MARKER) != {"S": self.run_id}:
            raise Changed(key)
        return item

    def wait(
        self, regions: list[str], key: Typed, holds: Callable[[Typed], bool], what: str
    ) -> dict[str, Typed]:
        """Until every region in `regions` holds a copy for which `holds` is true."""
        seen: dict[str, Typed] = {}

        def done() -> bool:
            for region in regions:
                if region not in seen:
                    copy = self.read(region, key, consistent=False)  # waiting: late is fine
                    if copy is not None and holds(copy):
                        seen[region] = copy
            return len(seen) == len(regions)

        self.run.poll(
            done,
            lambda: f"{what} not in {', '.join(r for r in regions if r not in seen)}",
        )
        return seen


def _s(value: str) -> Typed:
    return {"S": value}


def _n(value: int) -> Typed:
    return {"N": str(value)}


def _stamp(moment: float) -> str:
    return datetime.fromtimestamp(moment, tz=UTC).isoformat(timespec="milliseconds")


def guarded(scenario_id: str, play: Callable[[], Verdict]) -> Verdict:
    """Run one scenario; what goes wrong becomes its verdict, never an exception."""
    try:
        return play()
    except Changed as changed:
        return Verdict(scenario_id, FAILED, CHANGED, {"key": str(changed)})
    except ReplicationTimeout as problem:
        return Verdict(scenario_id, FAILED, NOT_REPLICATED, {"problem": str(problem)})
    except EnvironmentProblem as problem:
        return Verdict(scenario_id, ERROR, NOT_RUN, {"problem": str(problem)})


def login_visible(stage: Stage) -> Verdict:
    """Global User Login: a timestamp updated in the primary, read from the replica."""
    run, key = stage.run, stage.key("login")
    source, reader = run.primary, run.replica

    def play() -> Verdict:
        stage.put(source, key, {"last_login": _s(_stamp(stage.now()))})
        stage.wait(list(run.target.regions), key, lambda copy: True, "the login item")
        stamp = _stamp(stage.now() + 1)  # differs from the first even on a frozen clock
        stage.update(source, key, "SET last_login = :t", {":t": _s(stamp)})
        written = run.monotonic()
        times = {"missed": written, "seen": written}

        def visible() -> bool:
            began = run.monotonic()
            copy = stage.read(reader, key)
            times["seen"] = run.monotonic()
            if copy is not None and copy.get("last_login") == _s(stamp):
                return True
            times["missed"] = began  # this read began before the update was there
            return False

        run.poll(visible, lambda: f"login not in {reader}")
        # Visible between the start of the last read that missed it and the end of the
        # first that saw it: the midpoint, known to that interval's width (the reads may
        # be spaced by the read budget, so the width is measured, not assumed).
        missed, seen = times["missed"], times["seen"]
        seconds = (missed + seen) / 2 - written
        return Verdict(
            "login-visible",
            PASSED,
            LOGIN_WITHIN if seconds * 1000 < PAGE_CLAIM_MS else LOGIN_OVER,
            {
                "source": source,
                "reader": reader,
                "seconds": round(seconds, 2),
                "resolution": round(seen - missed, 2),
            },
        )

    return guarded("login-visible", play)


def inventory_race(stage: Stage) -> Verdict:
    """Inventory Management: stock decremented in every region at once; last writer wins."""
    run, key = stage.run, stage.key("inventory")
    regions = list(run.target.regions)

    def play() -> Verdict:
        stage.put(run.primary, key, {"stock": _n(STARTING_STOCK)})
        stage.wait(regions, key, lambda copy: True, "the inventory item")
        for region in regions:  # back to back: inside one replication window
            stage.update(
                region,
                key,
                "SET stock = stock - :one, last_writer = :region",
                {":one": _n(1), ":region": _s(region)},
            )
        settled: dict[str, Typed] = {}

        def converged() -> bool:
            settled.update({region: stage.read(region, key) or {} for region in regions})
            copies = [(c.get("stock"), c.get("last_writer")) for c in settled.values()]
            return len(set(map(str, copies))) == 1

        run.poll(converged, lambda: "the inventory did not converge")
        stock = int(settled[run.primary]["stock"]["N"])
        expected = STARTING_STOCK - len(regions)
        lost = stock - expected
        params = {
            "start": STARTING_STOCK,
            "regions": ", ".join(regions),
            "stock": stock,
            "expected": expected,
            "lost": lost,
            "primary": run.primary,
        }
        return Verdict("inventory-race", PASSED, INVENTORY_LOST if lost else INVENTORY_KEPT, params)

    return guarded("inventory-race", play)


ORDER_STEPS = ("created_in", "paid_in", "shipped_in")


def order_lifecycle(stage: Stage) -> Verdict:
    """Order Processing: created in the replica, paid in the primary, shipped in the
    replica, replication awaited between the steps."""
    run, key = stage.run, stage.key("order")
    regions = list(run.target.regions)
    created, paid, shipped = run.replica, run.primary, run.replica
    params = {"created": created, "paid": paid, "shipped": shipped}

    def has(*names: str) -> Callable[[Typed], bool]:
        return lambda copy: all(name in copy for name in names)

    def play() -> Verdict:
        stage.put(created, key, {"order_status": _s("created"), "created_in": _s(created)})
        stage.wait(regions, key, has("created_in"), "the created order")
        stage.update(
            paid, key, "SET order_status = :s, paid_in = :r", {":s": _s("paid"), ":r": _s(paid)}
        )
        stage.wait(regions, key, has("paid_in"), "the payment")
        stage.update(
            shipped,
            key,
            "SET order_status = :s, shipped_in = :r",
            {":s": _s("shipped"), ":r": _s(shipped)},
        )
        final = stage.wait(regions, key, has("shipped_in"), "the shipment")
        for region, copy in final.items():
            missing = [name for name in ORDER_STEPS if name not in copy]
            if missing or copy.get("order_status") != _s("shipped"):
                shown = ", ".join(missing) or "order_status shipped"
                return Verdict(
                    "order-lifecycle",
                    FAILED,
                    ORDER_INCOMPLETE,
                    {**params, "missing": shown, "region": region},
                )
        return Verdict("order-lifecycle", PASSED, ORDER_COMPLETE, params)

    return guarded("order-lifecycle", play)


SCENARIOS: dict[str, Callable[[Stage], Verdict]] = {
    "login-visible": login_visible,
    "inventory-race": inventory_race,
    "order-lifecycle": order_lifecycle,
}
