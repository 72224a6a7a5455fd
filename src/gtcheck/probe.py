"""Latency probes: how long a write in one region takes to be seen in another, measured.

N probes per direction: ceil(N/2) puts of new items, written in waves, and as many of
the rest as there are items, each deleting one of those items again in the same region
once it has arrived (the deletion the clean-up must make anyway is a write that
replicates like any other, so it is timed too, for half the write capacity). The puts
are due at even steps of 2/N of one look interval and the deletions at the odd steps,
whole intervals later: together they spread evenly over the interval, and none waits for
another probe's arrival, so the puts are all in flight at once.

The receiving region's stream shows each arrival (a put's record, a deletion's REMOVE)
without spending read capacity; a shard may be read at most every `SHARD_INTERVAL`
(DynamoDB Streams allows 5 GetRecords calls per second per shard), and every region is
looked at on one grid of such intervals, so an arrival is known to a quarter of a second
and the midpoints' errors cancel in the median and the mean (`gtcheck.latency` turns the
timelines into figures). The stream's whole-second `ApproximateCreationDateTime` is never
used: it is not a latency measurement.

Each arrival is confirmed with one strongly consistent read, between looks, so a read
never delays a look; reads and writes keep to the budgets given (validate's run budget).
Probe items carry the probe prefix, the marker and a TTL (`gtcheck.marks`) and are
deleted at the end, whatever happens.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from gtcheck import marks
from gtcheck.aws import Clients
from gtcheck.bot.runner import Log, Runner, quiet
from gtcheck.budget import ReadBudget, WriteBudget
from gtcheck.errors import EnvironmentProblem
from gtcheck.latency import PAGE_CLAIM_MS, ProbeSample, ProbeTimeline, Summary, summarise
from gtcheck.streamwatch import SHARD_INTERVAL, RegionWatch, ShardPacer, open_watch
from gtcheck.target import Target

DEFAULT_PROBES = 10
DEFAULT_TIMEOUT = 30.0  # seconds for every probe to arrive; the workshop says "under 2"
WRITE_UNITS = 1.0  # a probe item is far below 1 KB
CONFIRM_UNITS = 1.0  # one strongly consistent read of a small item
LOOK_LATE_S = SHARD_INTERVAL / 5  # a look later than this after its grid point waits
CONDITION_FAILED = frozenset({"ConditionalCheckFailedException"})


@dataclass
class _Counts:
    reads: int = 0
    read_units: float = 0.0
    writes: int = 0
    stream_calls: dict[str, int] = field(default_factory=dict)

    def stream(self, operation: str) -> None:
        self.stream_calls[operation] = self.stream_calls.get(operation, 0) + 1


def measure(
    clients: Clients,
    target: Target,
    probes: int = DEFAULT_PROBES,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
    now: Callable[[], float] = marks.wall_clock,
    run_id: str | None = None,
    log: Log = quiet,
    reads: ReadBudget | None = None,
    writes: WriteBudget | None = None,
    settle: Callable[[dict[str, Any]], None] | None = None,
    out: Callable[[], None] | None = None,
    metered: bool = False,
) -> dict[str, Summary]:
    """Measure replication latency in every direction between the target's regions.

    Returns one Summary per direction `"<source>-><receiving>"`. Raises EnvironmentProblem
    when a receiving region's stream cannot be read (the probes need it to stay free of
    read capacity). The probe items are deleted before returning, or on any error; each
    deletion seen in the receiving region's stream is passed to `settle` (the clean-up
    need not read or delete that probe again). `out` is called once every wave is
    written. `metered`: the clients charge every request to `reads` and `writes`
    themselves (validate's `Spend`), so the probes only wait for them.
    """
    if probes < 1:
        raise ValueError("at least one probe per direction")
    measurement = _Measurement(
        Runner(clients, target, sleep, monotonic, timeout, log),
        reads or ReadBudget(monotonic),
        writes or WriteBudget(monotonic),
        run_id or marks.new_run_id(),
        marks.expires_at(now()),
        settle or (lambda key: None),
        out or (lambda: None),
        metered,
    )
    return measurement.measure(probes)


class _Measurement:
    def __init__(
        self,
        run: Runner,
        reads: ReadBudget,
        writes: WriteBudget,
        run_id: str,
        ttl: int,
        settle: Callable[[dict[str, Any]], None],
        out: Callable[[], None],
        metered: bool = False,
    ) -> None:
        self.metered = metered
        self.run = run
        self.settle = settle
        self.out = out
        self.reads = reads
        self.writes = writes
        self.run_id = run_id
        self.ttl = ttl
        self.counts = _Counts()
        self.pacer = ShardPacer(run.monotonic)
        self.watches: dict[str, RegionWatch] = {}
        self.probes: list[ProbeTimeline] = []
        self.unconfirmed: deque[ProbeTimeline] = deque()  # seen by a look, not yet read
        self.unwritten = True  # waves still to write
        self.first_look: dict[str, float] = {}  # each region's look grid starts there
        self.looked_at: dict[str, float] = {}  # the grid point each region was last looked at
        self.deleted: dict[str, int] = {}
        self.changed: dict[str, int] = {}  # not deleted: no longer this run's item

    @property
    def regions(self) -> tuple[str, ...]:
        return self.run.target.regions

    def measure(self, count: int) -> dict[str, Summary]:
        for region in self.regions:
            self._prepare(region)
        self._plan(count)
        try:
            with ThreadPoolExecutor(max_workers=len(self.regions) ** 2) as pool:
                self._watch(pool)
        finally:
            self._delete()
        self._see_deletions()
        return self._summaries()

    # ----- before: budgets and streams -----------------------------------------------------
    def _prepare(self, region: str) -> None:
        table = self.run.request(region, "describe_table")["Table"]
        throughput = table.get("ProvisionedThroughput") or {}
        self.reads.provision(region, self.run.target.table, throughput.get("ReadCapacityUnits"))
        self.writes.provision(region, self.run.target.table, throughput.get("WriteCapacityUnits"))
        streams = self.run.clients.streams(region)
        watch = open_watch(streams, table.get("LatestStreamArn"), self.pacer, self.counts.stream)
        if watch is None:
            raise EnvironmentProblem(
                f"latency probes need the table's stream in {region}, which cannot be read",
                regions=(region,),
            )
        self.watches[region] = watch

    def _plan(self, count: int) -> None:
        """Half the probes of a direction (rounded up) are puts: wave i is due 2i/count of
        a look interval after the start. The other half delete those items again, in the
        same region, once each has arrived: the deletion the clean-up must make anyway is
        a write that replicates like any other, so it is timed too, and a probe costs
        half the write capacity."""
        self.start = start = self.run.monotonic()
        self.count, puts = count, math.ceil(count / 2)
        for source in self.regions:
            for receiving in self.run.others(source):
                made = []
                for number in range(puts):
                    key = marks.probe_key(self.run_id, source, receiving, number)
                    due = start + 2 * number * SHARD_INTERVAL / count
                    made.append(ProbeTimeline(source, receiving, key, due))
                self.probes += made
                self.probes += [
                    ProbeTimeline(source, receiving, put.key, None, item=put)
                    for put in made[: count - puts]
                ]

    # ----- during: write in waves, look at the streams ---------------------------------------
    def _watch(self, pool: ThreadPoolExecutor) -> None:
        """Write the waves when due, look at each stream the moment it may be read again,
        and confirm arrivals only in the time between looks: a confirmation never delays
        a look, so every stream is looked at on the same cadence."""
        while self._pending() or self.unconfirmed:
            moment = self.run.monotonic()
            if moment >= self.run.deadline:
                return
            wave = [p for p in self._unsent() if p.due is not None and p.due <= moment]
            if wave:
                self._write(pool, wave)
                if self.unwritten and all(p.started is not None for p in self._puts()):
                    self.unwritten = False
                    self.out()
            for region, watch in self.watches.items():
                if self._look_due(region, watch):
                    self._look(region, watch)
            self._confirm_between_looks()
            upcoming = min(self._next_event(), self.run.deadline)
            self.run.sleep(max(upcoming - self.run.monotonic(), 0.001))

    def _look_due(self, region: str, watch: RegionWatch) -> bool:
        """A look waits until every wave is out: a slow look must not bunch the waves,
        whose even spread over a look interval is what makes the midpoints' errors cancel
        (an arrival meanwhile is still bounded, by the write's start)."""
        if self.unwritten:
            return False
        return (
            self._slot(region) <= self.run.monotonic()
            and watch.ready_in() == 0
            and bool(self._awaited(region))
        )

    def _slot(self, region: str) -> float:
        """When `region`'s next look is due. Looks keep to one grid of look intervals
        for the whole measurement, even across a pause with nothing awaited there (the
        deletions may wait for the write budget): a look right after a write would tie
        that write's phase to the looks', and the midpoints' errors would not cancel."""
        moment = self.run.monotonic()
        first = self.first_look.setdefault(region, moment)
        current = first + math.floor((moment - first) / SHARD_INTERVAL + 1e-9) * SHARD_INTERVAL
        looked = self.looked_at.get(region)
        fresh = looked is None or looked < current - 1e-9
        if fresh and moment - current <= LOOK_LATE_S:
            return current
        return current + SHARD_INTERVAL  # looked at already, or too late: the next point

    def _confirm_between_looks(self) -> None:
        """Confirm what the looks showed, oldest first, while no look is due and the read
        budget allows; the rest waits for the next gap."""
        table = self.run.target.table
        while self.unconfirmed:
            if any(self._look_due(region, watch) for region, watch in self.watches.items()):
                return
            probe = self.unconfirmed[0]
            if self.reads.in_debt(probe.receiving, table):
                return
            self.unconfirmed.popleft()
            probe.confirmed = self._confirm(probe)

    def _pending(self) -> list[ProbeTimeline]:
        return [p for p in self.probes if p.seen is None and not p.dropped]

    def _puts(self) -> list[ProbeTimeline]:
        return [p for p in self.probes if not p.deletes]

    def _unsent(self) -> list[ProbeTimeline]:
        return [p for p in self.probes if p.started is None and not p.dropped]

    def _awaited(self, region: str) -> list[ProbeTimeline]:
        return [
            p
            for p in self.probes
            if p.receiving == region and p.started is not None and p.seen is None
        ]

    def _next_event(self) -> float:
        moment = self.run.monotonic()
        unwritten = [p.due for p in self._unsent() if p.due is not None]
        looks = [
            max(moment + w.ready_in(), self._slot(r))
            for r, w in self.watches.items()
            if self._awaited(r) and not self.unwritten
        ]
        confirms = []
        if self.unconfirmed:
            probe = self.unconfirmed[0]
            wait = self.reads.seconds_until(probe.receiving, self.run.target.table, 0.0)
            confirms.append(moment + wait)
        return min([*unwritten, *looks, *confirms], default=moment + SHARD_INTERVAL)

    def _write(self, pool: ThreadPoolExecutor, wave: list[ProbeTimeline]) -> None:
        """One wave's writes go out together; the wave is over when all have answered.

        The puts go out as one burst once the write budget is out of debt (they must be
        in flight together); a deletion wave that finds it in debt is put off by whole
        look intervals, which keeps its place among the others. Every write is charged
        in every region: each replica pays for the replicated write."""
        table = self.run.target.table
        if self.unwritten:  # the puts: the first wave waits for the budget, for all
            if not any(p.started is not None for p in self._puts()):
                self._afford(self.writes, self.regions, 0.0)
        elif any(self.writes.in_debt(r, table) for r in self.regions):
            wait = max(self.writes.seconds_until(r, table, 0.0) for r in self.regions)
            for probe in wave:
                assert probe.due is not None
                probe.due += math.ceil(wait / SHARD_INTERVAL) * SHARD_INTERVAL
            return
        self._charge(self.writes, self.regions, WRITE_UNITS * len(wave))
        for probe in wave:
            probe.started = self.run.monotonic()
        list(pool.map(self._put, wave))
        self.counts.writes += len(wave)

    def _put(self, probe: ProbeTimeline) -> None:
        """A put probe writes its item; a deletion deletes it, only while it is still
        this run's (another process may have made it its own meanwhile)."""
        if probe.item is None:
            item = marks.probe_item(probe.key, self.run_id, self.ttl)
            self.run.request(probe.source, "put_item", Item=item)
        else:
            answer = self.run.request_unless(
                CONDITION_FAILED,
                probe.source,
                "delete_item",
                Key=probe.key,
                **marks.own_condition(self.run_id),
            )
            if answer is None:
                probe.dropped = True
                probe.started = None
                self.changed[probe.direction] = self.changed.get(probe.direction, 0) + 1
                return
            probe.item.deleted = True
            self.deleted[probe.direction] = self.deleted.get(probe.direction, 0) + 1
        probe.written = self.run.monotonic()

    def _look(self, region: str, watch: RegionWatch) -> None:
        self.looked_at[region] = self._slot(region)
        awaited = self._awaited(region)
        before = self.run.monotonic()
        shown = watch.poll()
        after = self.run.monotonic()
        removed = watch.removed
        if shown is None:  # the stream's position was lost: read what it may have shown
            shown = {p.plain_key for p in awaited if (self._read(p) is None) == p.deletes}
            removed = shown
        full = watch.skipped == 0
        for probe in awaited:
            if probe.plain_key in (removed if probe.deletes else shown):
                probe.seen = after
                self.unconfirmed.append(probe)  # read once, between looks
            elif full:
                probe.missed = before

    def _confirm(self, probe: ProbeTimeline) -> bool:
        """One read: the receiving region holds this run's probe (a put), or no longer
        holds it (a deletion: its removal is then seen replicated, and settled). A put
        confirmed makes its item's deletion due, spread as the puts were."""
        item = self._read(probe)
        if probe.deletes:
            if item is None:
                self.settle(probe.key)
                probe.gone = True
            return item is None
        confirmed = item is not None and item.get(marks.PROBE_MARKER) == {"S": self.run_id}
        for deletion in self.probes:
            if deletion.item is probe:
                if not confirmed:
                    deletion.dropped = True
                    continue
                deletion.due = self._deletion_due(probe)
        return confirmed

    def _read(self, probe: ProbeTimeline) -> dict[str, Any] | None:
        self._afford(self.reads, (probe.receiving,), 0.0)
        answer = self.run.request(
            probe.receiving,
            "get_item",
            Key=probe.key,
            ConsistentRead=True,
            ReturnConsumedCapacity="TOTAL",
        )
        units = float((answer.get("ConsumedCapacity") or {}).get("CapacityUnits", CONFIRM_UNITS))
        self._charge(self.reads, (probe.receiving,), units)
        self.counts.reads += 1
        self.counts.read_units += units
        return answer.get("Item")

    def _afford(self, budget: ReadBudget, regions: tuple[str, ...], units: float) -> None:
        """Until `units` can be spent in every one of `regions` (0: once none is in debt)."""
        table = self.run.target.table
        for region in regions:
            while not budget.affordable(region, table, units) or budget.in_debt(region, table):
                self.run.sleep(max(budget.seconds_until(region, table, units), 0.01))

    def _charge(self, budget: ReadBudget, regions: tuple[str, ...], units: float) -> None:
        """Charge the budget, unless the clients do (validate meters every request)."""
        if not self.metered:
            for region in regions:
                budget.charge(region, self.run.target.table, units)

    # ----- after: delete, summarise ------------------------------------------------------------
    def _delete(self) -> None:
        """Delete every probe written, in its source region, only while it still carries this
        run's marker (another process may have changed it). The delete replicates; the TTL
        and `cleanup --probes` catch what a stopped replication leaves."""
        for probe in self._puts():
            if probe.started is None or probe.deleted:
                continue
            self._afford(self.writes, self.regions, 0.0)
            self._charge(self.writes, self.regions, WRITE_UNITS)
            answer = self.run.request_unless(
                CONDITION_FAILED,
                probe.source,
                "delete_item",
                Key=probe.key,
                **marks.own_condition(self.run_id),
            )
            if answer is None:  # gone already, or another process made it its own
                self.changed[probe.direction] = self.changed.get(probe.direction, 0) + 1
                continue
            probe.deleted = True
            self.deleted[probe.direction] = self.deleted.get(probe.direction, 0) + 1

    def _see_deletions(self) -> None:
        """Look at the streams (no read capacity) until each deleted probe that had
        arrived is seen deleted in its receiving region too, or the deadline; what is not
        seen is left to the clean-up, which reads and deletes it where it is."""
        while True:
            waiting = [p for p in self._puts() if p.deleted and p.seen is not None and not p.gone]
            waiting = [p for p in waiting if not self._deletion_measured(p)]
            if not waiting or self.run.monotonic() >= self.run.deadline:
                return
            for region, watch in self.watches.items():
                if watch.ready_in() > 0 or not any(p.receiving == region for p in waiting):
                    continue
                if watch.poll() is None:
                    return  # the stream's position was lost: the clean-up reads instead
                for probe in waiting:
                    if probe.receiving == region and probe.plain_key in watch.removed:
                        probe.gone = True
                        self.settle(probe.key)
            receiving = {p.receiving for p in waiting}
            ready = min(w.ready_in() for r, w in self.watches.items() if r in receiving)
            self.run.sleep(max(min(ready, self.run.deadline - self.run.monotonic()), 0.001))

    def _deletion_due(self, put: ProbeTimeline) -> float:
        """Between its put's wave and the next, whole look intervals later: the deletions
        fall between the puts, so together all probes spread evenly over a look interval."""
        number = int(put.plain_key[0].rsplit("-", 1)[1])
        due = self.start + (2 * number + 1) * SHARD_INTERVAL / self.count
        moment = self.run.monotonic()
        if due < moment:
            due += math.ceil((moment - due) / SHARD_INTERVAL) * SHARD_INTERVAL
        return due

    def _deletion_measured(self, put: ProbeTimeline) -> bool:
        """Its deletion was a probe: that probe's look and read settle it, or not."""
        return any(p.item is put and p.started is not None for p in self.probes)

    def _summaries(self) -> dict[str, Summary]:
        directions: dict[str, list[ProbeTimeline]] = {}
        for probe in self.probes:
            directions.setdefault(probe.direction, []).append(probe)
        return {
            direction: summarise(direction, found, self.deleted.get(direction, 0))
            for direction, found in directions.items()
        }


__all__ = ["PAGE_CLAIM_MS", "ProbeSample", "Summary", "measure", "summarise"]
