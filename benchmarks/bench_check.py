"""Benchmarks of `gtcheck check` against the offline global table, measured in one run.

Three questions, each with bars the checker must meet:
  (a) once an item has replicated, how soon does its step pass, and does the run stay
      inside the read budget a 5-RCU table leaves it?
  (b) against a naive checker that re-reads every key in every region once a second,
      does gtcheck send fewer item reads and reach its verdict sooner?
  (c) with replication paused, is the run bounded by its timeout plus a little?

Each measured run gets a fresh simulator holding one participant, as the workshop's one
account per participant does, so runs are independent and their medians mean something.
A table shared by a class is measured on its own, without a bar, because what a run
reads there grows with the participants already on it.

Run: .venv/bin/python benchmarks/bench_check.py [--quick]
Exit status: 0 when every bar is met, 1 otherwise (the failed bars are printed).
Everything runs in this process and talks only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Dummy credentials and no instance metadata: set before boto3 reads the environment.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_EC2_METADATA_DISABLED": "true",
        "NO_PROXY": "127.0.0.1,localhost",
    }
)
for _variable in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
    os.environ.pop(_variable, None)

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402

from barsheet import Report, print_machine  # noqa: E402
from gtcheck import check, converge, templates  # noqa: E402
from gtcheck.budget import BURST_SECONDS  # noqa: E402
from gtcheck.config import Runtime  # noqa: E402
from gtcheck.rubric import Status  # noqa: E402
from gtcheck.sim import SimConfig, Simulator, wsgi  # noqa: E402
from gtcheck.sim.server import SimServer  # noqa: E402

HOST = "127.0.0.1"
PRIMARY, REPLICA = "us-east-1", "eu-west-1"
REGIONS = (PRIMARY, REPLICA)
TABLE = "demo-ecommerce-freetier"
CHECK_TIMEOUT = 60.0  # the run's replication deadline in (a) and (b)
PROVISIONED_RCU = 5.0  # the workshop stack's table and each GSI
BUDGET_FRACTION = 0.5  # gtcheck's default --read-budget
BUDGET_RATE = PROVISIONED_RCU * BUDGET_FRACTION
EVENTUAL_READ_RCU = 0.5  # what DynamoDB bills an eventually consistent read up to 4 KB
NAIVE_PERIOD = 1.0  # seconds between the naive checker's rounds
NAIVE_DEADLINE = 60.0  # the naive checker gives up after this long
SETTLE_LIMIT = 10.0  # seconds beyond the lag the order may take to replicate
SHARED_LAG = 1.0
PAUSED_LAG = 1.0
SEED = 20261126

# Replication steps and the item each one waits for.
REPLICATION_STEPS = {
    "ex1.user_replicated": "user",
    "ex2.product_replicated": "product",
    "ex3.order_converged": "order",
    "ex5.timing_item": "timing",
}
PAUSED_PENDING = (
    "ex1.user_replicated",
    "ex2.product_replicated",
    "ex3.order_converged",
    "ex4.gsi1_category",
    "ex4.gsi2_status",
    "ex5.timing_item",
)
# gtcheck requests that serve the naive checker's purpose: telling when items converged.
ITEM_CONVERGENCE_OPS = frozenset(
    {"BatchGetItem", "GetItem", "Scan", "GetRecords", "GetShardIterator", "DescribeStream"}
)

# Replication varies: the simulator's default jitter. With none, every item lands exactly
# `lag` after its write, and a naive checker polling once a second happens to look right
# after the arrival at lag 1 and 2 s: a best case for it that real replication never gives.
JITTER = 0.3
DELAY_BAR = 0.5  # seconds, median detection delay
REQUEST_RATIO_BAR = 0.5  # gtcheck item-convergence requests / naive requests
WALL_SLACK = 5.0  # seconds a paused run may exceed its timeout


@dataclass(frozen=True)
class Params:
    """Sample sizes; `--quick` shrinks them for a smoke check."""

    lags: tuple[float, ...]  # (a): lags to run gtcheck at
    naive_lags: tuple[float, ...]  # (b): lags where naive and gtcheck runs alternate
    runs: int  # per lag and kind
    shared_runs: int  # participants checked one after another on one shared table
    paused_timeout: float  # (c): T


FULL = Params((0.5, 1.0, 2.0), (1.0, 2.0), runs=4, shared_runs=5, paused_timeout=10.0)
QUICK = Params((1.0,), (1.0,), runs=2, shared_runs=2, paused_timeout=6.0)


# ----- small helpers --------------------------------------------------------------------
def secs(value: float) -> str:
    return f"{value:.3f} s"


def median_max(values: list[float]) -> str:
    if not values:
        return "n/a"
    return f"{secs(statistics.median(values))} / {secs(max(values))}"


def med(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def fresh_name() -> str:
    """A participant name no other run's name contains (discovery matches by substring)."""
    return f"bench{uuid.uuid4().hex[:12]}"


class BatchKeys:
    """WSGI middleware in front of the simulator: keys asked by BatchGetItem, per region.

    moto bills a BatchGetItem one unit per key, DynamoDB half a unit per eventually
    consistent item up to 4 KB; counting the keys lets the report show both bills.
    """

    def __init__(self, app: wsgi.WsgiApp) -> None:
        self.app = app
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if environ.get("HTTP_X_AMZ_TARGET", "").endswith(".BatchGetItem"):
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(body)
            region, _ = wsgi.region_and_service(environ.get("HTTP_AUTHORIZATION", ""))
            tables = json.loads(body or b"{}").get("RequestItems", {}).values()
            with self._lock:
                self.counts[region] += sum(len(t.get("Keys", [])) for t in tables)
        return self.app(environ, start_response)

    def take(self) -> Counter[str]:
        """The counts so far, and start again from zero."""
        with self._lock:
            counts, self.counts = self.counts, Counter()
        return counts


@dataclass
class Served:
    """A running simulator with what every run needs beside it."""

    sim: Simulator
    server: SimServer
    batch_keys: BatchKeys
    clients: dict[str, Any]

    @property
    def endpoint(self) -> str:
        return self.server.endpoint


@contextmanager
def simulator(lag: float) -> Iterator[Served]:
    """A fresh simulator (the default jitter, no throttling) on 127.0.0.1, always stopped."""
    sim = Simulator(SimConfig(regions=REGIONS, lag=lag, jitter=JITTER, throttle=0.0, seed=lag))
    batch_keys = BatchKeys(sim.app)
    sim.app = batch_keys  # the HTTP door serves whatever `app` is when it starts
    server = sim.serve(HOST, 0)
    try:
        yield Served(sim, server, batch_keys, dynamodb_clients(server.endpoint))
    finally:
        server.stop()


def dynamodb_clients(endpoint: str) -> dict[str, Any]:
    """One plain boto3 DynamoDB client per region, dummy credentials from the environment."""
    config = Config(retries={"total_max_attempts": 1}, connect_timeout=2, read_timeout=15)
    session = boto3.session.Session()
    return {
        region: session.client("dynamodb", region_name=region, endpoint_url=endpoint, config=config)
        for region in REGIONS
    }


# ----- a participant's writes -----------------------------------------------------------
@dataclass(frozen=True)
class Participant:
    name: str
    keys: dict[str, tuple[str, str]]  # user, product, order, timing -> (PK, SK)


def placeholders(name: str) -> templates.Placeholders:
    """The page's placeholders; the timing key carries the name, so it is plainly theirs."""
    return templates.Placeholders(
        participant=name,
        product_id=name,
        timestamp=f"20261126T150000-{name}",
        exact_timestamp="2026-11-26T15:00:00.000Z",
    )


def put(client: Any, item: dict[str, Any]) -> tuple[str, str]:
    """PutItem as the console's JSON view would; returns the item's key."""
    client.put_item(TableName=TABLE, Item=templates.to_attributes(item))
    return item["PK"], item["SK"]


def update(client: Any, key: tuple[str, str], changes: dict[str, Any]) -> None:
    """UpdateItem setting `changes`, as the page's update step does."""
    values = templates.to_attributes(changes)
    names = list(values)
    client.update_item(
        TableName=TABLE,
        Key={"PK": {"S": key[0]}, "SK": {"S": key[1]}},
        UpdateExpression="SET " + ", ".join(f"#a{i} = :v{i}" for i in range(len(names))),
        ExpressionAttributeNames={f"#a{i}": name for i, name in enumerate(names)},
        ExpressionAttributeValues={f":v{i}": values[name] for i, name in enumerate(names)},
    )


def write_participant(served: Served, name: str, *, settle_order: bool = True) -> Participant:
    """Every workshop item, each in the region the page says, all in flight at the end.

    The order is created first and given time to replicate, as the page does before its
    two updates: an update in a region the order has not reached yet creates a partial
    item there, which then wins as the later write. Then the user, the product, both
    updates back to back and the timing item follow without waiting, so each replication
    step's item is still in flight when the check starts.
    """
    values = placeholders(name)

    def rendered(template: str) -> dict[str, Any]:
        return templates.render(templates.load(template), values)

    us, eu = served.clients[PRIMARY], served.clients[REPLICA]
    order = put(us, rendered(templates.ORDER))
    if settle_order:
        await_everywhere(served.sim, order)
    keys = {"user": put(us, rendered(templates.USER))}
    keys["product"] = put(eu, rendered(templates.PRODUCT))
    keys["order"] = order
    update(us, order, templates.load(templates.ORDER_UPDATE_US))
    update(eu, order, templates.load(templates.ORDER_UPDATE_EU))
    keys["timing"] = put(us, rendered(templates.TIMING))
    return Participant(name, keys)


def await_everywhere(sim: Simulator, key: tuple[str, str]) -> None:
    """Wait (bounded) until the simulator has applied `key` in every region; no requests."""
    deadline = time.monotonic() + sim.config.lag + SETTLE_LIMIT
    while last_applied(sim, key) is None:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{key} did not replicate within {SETTLE_LIMIT} s of its lag")
        time.sleep(0.01)


def last_applied(sim: Simulator, key: tuple[str, str]) -> float | None:
    """When the item's latest write was applied in its last region (None: not everywhere)."""
    moments = [sim.applied_at.get((region, TABLE, key)) for region in REGIONS]
    if any(moment is None for moment in moments):
        return None
    return max(moment for moment in moments if moment is not None)


# ----- one gtcheck run ------------------------------------------------------------------
@dataclass
class CheckRun:
    """What one `gtcheck check` did and when, as the grader and the server saw it."""

    exit_code: int
    wall_s: float
    statuses: dict[str, str]
    delays: dict[str, float]  # passed replication step -> finished_at - last apply
    verdict_s: float | None  # latest replication step's finished_at - start
    spent: dict[tuple[str, str], float]  # (region, table or index) -> units, as charged
    batch_keys: Counter[str]  # region -> keys asked by BatchGetItem
    client_requests: Counter[str]
    server_requests: Counter[str]  # operation -> count, what the simulator received

    def rate(self, region: str, resource: str) -> float:
        """Read units per second of run, as gtcheck's budget charged them (moto's bill)."""
        return self.spent.get((region, resource), 0.0) / self.wall_s

    def billed_table_rate(self, region: str) -> float:
        """The table's read rate with BatchGetItem billed as DynamoDB does (0.5 per key)."""
        moto_bill = self.spent.get((region, TABLE), 0.0)
        return (moto_bill - (1 - EVENTUAL_READ_RCU) * self.batch_keys[region]) / self.wall_s

    def convergence_requests(self) -> int:
        return sum(n for op, n in self.server_requests.items() if op in ITEM_CONVERGENCE_OPS)

    def total_requests(self) -> int:
        return sum(self.server_requests.values())


def check_args(name: str, endpoint: str, timeout: float, report_dir: Path) -> argparse.Namespace:
    return argparse.Namespace(
        participant=name,
        product_id=None,
        endpoint_url=endpoint,
        profile=None,
        table=TABLE,
        regions=REGIONS,
        timeout=timeout,
        report_dir=report_dir,
    )


def server_operations(sim: Simulator) -> Counter[str]:
    """The simulator's request log as counts per operation (all services, all regions)."""
    found: Counter[str] = Counter()
    for (_, _, operation), n in sim.request_log.counts().items():
        found[operation] += n
    return found


def run_check(served: Served, who: Participant, timeout: float, report_dir: Path) -> CheckRun:
    """Run the graded checks in process, in real time, and collect the figures."""
    sim = served.sim
    sim.request_log.clear()
    served.batch_keys.take()
    args = check_args(who.name, served.endpoint, timeout, report_dir)
    started = time.time()
    code, grader = check.run(args, Runtime(), quiet=True)
    wall = time.time() - started
    if grader is None:
        raise RuntimeError(f"gtcheck check did not start (exit {code})")
    delays: dict[str, float] = {}
    finished: list[float] = []
    for step_id, role in REPLICATION_STEPS.items():
        result = grader.results.get(step_id)
        if result is None or result.status is not Status.PASSED:
            continue
        finished.append(result.finished_at)
        applied = last_applied(sim, who.keys[role])
        if applied is not None:
            delays[step_id] = result.finished_at - applied
    world = grader.world()
    return CheckRun(
        exit_code=code,
        wall_s=wall,
        statuses={step: str(result.status) for step, result in grader.results.items()},
        delays=delays,
        verdict_s=max(finished) - started if len(finished) == len(REPLICATION_STEPS) else None,
        spent=dict(world.budget.spent),
        batch_keys=served.batch_keys.take(),
        client_requests=Counter(world.requests),
        server_requests=server_operations(sim),
    )


# ----- the naive checker ----------------------------------------------------------------
@dataclass
class NaiveRun:
    requests: int
    units: float
    verdict_s: float | None  # from its start to the end of the round where all matched
    server_reads: int


def consumed_units(response: dict[str, Any]) -> float:
    capacity = response.get("ConsumedCapacity") or {}
    units = capacity.get("CapacityUnits") if isinstance(capacity, dict) else None
    return float(units) if units is not None else EVENTUAL_READ_RCU


def naive_round(clients: dict[str, Any], keys: list[tuple[str, str]]) -> tuple[bool, int, float]:
    """Read every key in every region once: (all present and identical, requests, units)."""
    requests, units, converged = 0, 0.0, True
    for pk, sk in keys:
        copies = []
        for region in REGIONS:
            response = clients[region].get_item(
                TableName=TABLE,
                Key={"PK": {"S": pk}, "SK": {"S": sk}},
                ConsistentRead=False,
                ReturnConsumedCapacity="TOTAL",
            )
            requests += 1
            units += consumed_units(response)
            copies.append(response.get("Item"))
        converged = converged and copies[0] is not None and all(c == copies[0] for c in copies)
    return converged, requests, units


def run_naive(served: Served, who: Participant, phase: float = 0.0) -> NaiveRun:
    """Every NAIVE_PERIOD seconds, read every expected key everywhere until all match.

    With `phase`, the first round comes that long after the start: a checker already
    polling on its own schedule when the items were written, instead of one whose rounds
    happen to start with the writes.
    """
    served.sim.request_log.clear()
    keys = list(who.keys.values())
    started = time.monotonic()
    requests, units, verdict = 0, 0.0, None
    for round_no in range(int(NAIVE_DEADLINE / NAIVE_PERIOD) + 1):
        pause = started + phase + round_no * NAIVE_PERIOD - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        converged, sent, spent = naive_round(served.clients, keys)
        requests, units = requests + sent, units + spent
        if converged:
            verdict = time.monotonic() - started
            break
    return NaiveRun(requests, units, verdict, served.sim.request_log.reads())


# ----- (a) and (b): runs per lag ----------------------------------------------------------
@dataclass
class LagRuns:
    lag: float
    checks: list[CheckRun] = field(default_factory=list)
    naive: list[NaiveRun] = field(default_factory=list)
    naive_phased: list[NaiveRun] = field(default_factory=list)


def one_run(runs: LagRuns, kind: str, report_dir: Path, rng: random.Random) -> None:
    """A fresh simulator, one participant written just before, one checker of `kind`."""
    with simulator(runs.lag) as served:
        who = write_participant(served, fresh_name())
        if kind == "check":
            runs.checks.append(run_check(served, who, CHECK_TIMEOUT, report_dir))
        elif kind == "naive":
            runs.naive.append(run_naive(served, who))
        else:
            runs.naive_phased.append(run_naive(served, who, rng.uniform(0, NAIVE_PERIOD)))


def run_lag(lag: float, p: Params, report_dir: Path, rng: random.Random) -> LagRuns:
    """gtcheck runs at one lag, alternating with both naive variants where (b) asks."""
    runs = LagRuns(lag)
    kinds = ("check", "naive", "phased") if lag in p.naive_lags else ("check",)
    for run_no in range(p.runs):
        for kind in kinds if run_no % 2 == 0 else kinds[::-1]:
            one_run(runs, kind, report_dir, rng)
    return runs


def report_delays(report: Report, runs: LagRuns) -> None:
    """(a) detection delay per lag."""
    report.section(
        f"(a) detection delay at lag {runs.lag:.1f} s, jitter {JITTER:g}, {len(runs.checks)} runs"
    )
    exits = Counter(run.exit_code for run in runs.checks)
    report.row("exit codes (count)", ", ".join(f"{c}: {n}" for c, n in sorted(exits.items())))
    not_passed = Counter(
        f"{step}={status}"
        for run in runs.checks
        for step, status in run.statuses.items()
        if status != "passed"
    )
    shown = ", ".join(f"{k} x{n}" for k, n in not_passed.items())
    report.row("steps not passed (count)", shown or "none")
    delays: list[float] = []
    for step_id in REPLICATION_STEPS:
        values = [run.delays[step_id] for run in runs.checks if step_id in run.delays]
        delays.extend(values)
        report.row(f"{step_id}: n, median / max", f"{len(values)}, {median_max(values)}")
    report.row("all four steps: n, median / max", f"{len(delays)}, {median_max(delays)}")
    negative = sum(1 for d in delays if d < 0)
    report.row("negative (passed before the sim's last apply)", str(negative))
    report.row("run wall time median / max", median_max([run.wall_s for run in runs.checks]))
    name = f"(a) lag {runs.lag:.1f} s: median detection delay"
    if delays:
        median = statistics.median(delays)
        report.bar(name, secs(median), f"<= {DELAY_BAR} s", median <= DELAY_BAR)
    else:
        report.bar(name, "n/a", "passed steps", False)


def report_rates(report: Report, runs: LagRuns, *, bars: bool = True) -> None:
    """Read units per second of run, per region and table or index, next to the budget."""
    places = sorted({where for run in runs.checks for where in run.spent})
    report.row(
        "read budget per table or index and region",
        f"{BUDGET_FRACTION} x {PROVISIONED_RCU:g} RCU provisioned = {BUDGET_RATE} RCU/s",
    )
    for region, resource in places:
        rates = [run.rate(region, resource) for run in runs.checks]
        units = med(run.spent.get((region, resource), 0.0) for run in runs.checks)
        report.row(
            f"read rate {region} {resource}: median / max",
            f"{med(rates):.2f} / {max(rates):.2f} RCU/s ({units:g} units per run)",
        )
    for region in REGIONS:
        billed = [run.billed_table_rate(region) for run in runs.checks]
        report.row(
            f"  same, table {region}, BatchGetItem billed as DynamoDB",
            f"{med(billed):.2f} / {max(billed):.2f} RCU/s "
            f"(BatchGetItem keys per run {med(run.batch_keys[region] for run in runs.checks):g})",
        )
    allowed = [(BURST_SECONDS + run.wall_s) * BUDGET_RATE / run.wall_s for run in runs.checks]
    report.row(
        f"what gtcheck's bucket allows ({BURST_SECONDS:g} s burst), median",
        f"{med(allowed):.2f} RCU/s over a run this long",
    )
    if not bars:
        return
    for region in REGIONS:
        worst = max(run.rate(region, TABLE) for run in runs.checks)
        report.bar(
            f"(a) lag {runs.lag:.1f} s: table read rate {region}, max",
            f"{worst:.2f} RCU/s",
            f"<= {BUDGET_RATE}",
            worst <= BUDGET_RATE,
        )


def report_naive(report: Report, runs: LagRuns) -> None:
    """(b) gtcheck against the naive checker, side by side, medians and ratios."""
    report.section(
        f"(b) gtcheck vs naive checker at lag {runs.lag:.1f} s ({len(runs.checks)} gtcheck, "
        f"{len(runs.naive)} naive, {len(runs.naive_phased)} naive at a random phase; alternating)"
    )
    naive_requests = med(n.requests for n in runs.naive)
    naive_units = med(n.units for n in runs.naive)
    naive_verdicts = [n.verdict_s for n in runs.naive if n.verdict_s is not None]
    phased_verdicts = [n.verdict_s for n in runs.naive_phased if n.verdict_s is not None]
    ours = med(run.convergence_requests() for run in runs.checks)
    total = med(run.total_requests() for run in runs.checks)
    units = med(sum(run.spent.values()) for run in runs.checks)
    verdicts = [run.verdict_s for run in runs.checks if run.verdict_s is not None]
    report.row("naive: requests (GetItem), median", f"{naive_requests:g}")
    report.row(
        "naive: reads the server received, median (cross-check)",
        f"{med(n.server_reads for n in runs.naive):g}",
    )
    report.row("naive: read units, median", f"{naive_units:g}")
    report.row("naive: verdict after start, median / max", median_max(naive_verdicts))
    report.row("naive at a random phase: verdict, median / max", median_max(phased_verdicts))
    report.row(
        "naive at a random phase: requests, median",
        f"{med(n.requests for n in runs.naive_phased):g}" if runs.naive_phased else "n/a",
    )
    report.row("gtcheck: item-convergence requests, median", f"{ours:g}")
    report.row("gtcheck: all requests (every operation), median", f"{total:g}")
    report_breakdown(report, runs.checks)
    report.row("gtcheck: read units (as its budget charged them), median", f"{units:g}")
    report.row("gtcheck: verdict after start, median / max", median_max(verdicts))
    report.row("ratio item-convergence requests gtcheck/naive", f"{ours / naive_requests:.2f}")
    report.row("ratio all requests gtcheck/naive", f"{total / naive_requests:.2f}")
    report.row("ratio read units gtcheck/naive", f"{units / naive_units:.2f}")
    judge_naive(report, runs.lag, ours / naive_requests, verdicts, naive_verdicts, phased_verdicts)


def judge_naive(
    report: Report,
    lag: float,
    ratio: float,
    verdicts: list[float],
    naive: list[float],
    phased: list[float],
) -> None:
    """The two (b) bars; the naive verdict judged is the one whose rounds start with it."""
    report.bar(
        f"(b) lag {lag:.1f} s: item-convergence requests gtcheck/naive",
        f"{ratio:.2f}",
        f"<= {REQUEST_RATIO_BAR}",
        ratio <= REQUEST_RATIO_BAR,
    )
    name = f"(b) lag {lag:.1f} s: verdict gtcheck < naive (median)"
    if not (verdicts and naive):
        report.bar(name, "n/a", "verdicts", False)
        return
    mine, theirs = med(verdicts), med(naive)
    report.row("ratio verdict time gtcheck/naive", f"{mine / theirs:.2f}")
    if phased:
        report.row(
            "ratio verdict time gtcheck/naive at a random phase", f"{mine / med(phased):.2f}"
        )
    report.bar(name, f"{mine:.2f} vs {theirs:.2f} s", "earlier", mine < theirs)


def report_breakdown(report: Report, checks: list[CheckRun]) -> None:
    """Median requests per operation across gtcheck runs, as the server received them."""
    operations = sorted({op for run in checks for op in run.server_requests})
    parts = []
    for op in operations:
        count = med(run.server_requests.get(op, 0) for run in checks)
        parts.append(f"{op}{'*' if op in ITEM_CONVERGENCE_OPS else ''} {count:g}")
    for start in range(0, len(parts), 4):
        label = "gtcheck: by operation, median (* item convergence)" if start == 0 else ""
        report.row(label, ", ".join(parts[start : start + 4]))
    own = med(sum(run.client_requests.values()) for run in checks)
    report.row("gtcheck: requests by its own count, median (cross-check)", f"{own:g}")


def measure_lag(report: Report, lag: float, p: Params, report_dir: Path, seed: int) -> None:
    """(a) at one lag, and (b) where it runs at that lag too."""
    runs = run_lag(lag, p, report_dir, random.Random(seed))
    report_delays(report, runs)
    report_rates(report, runs)
    if runs.naive:
        report_naive(report, runs)


# ----- a table shared by a class (no bar) -------------------------------------------------
def run_shared(report: Report, p: Params, report_dir: Path) -> None:
    """gtcheck on one table as participants accumulate: what grows with the class."""
    report.section(
        f"(a, shared table) lag {SHARED_LAG:.1f} s, {p.shared_runs} participants checked one "
        "after another on one simulator (information, no bar)"
    )
    runs = LagRuns(SHARED_LAG)
    with simulator(SHARED_LAG) as served:
        for _ in range(p.shared_runs):
            who = write_participant(served, fresh_name())
            runs.checks.append(run_check(served, who, CHECK_TIMEOUT, report_dir))
    for others, run in enumerate(runs.checks):
        ex5 = run.delays.get("ex5.timing_item")
        verdict = "n/a" if run.verdict_s is None else secs(run.verdict_s)
        report.row(
            f"{others} other participant(s) on the table",
            f"ex5 delay {'n/a' if ex5 is None else secs(ex5)}, verdict {verdict}, "
            f"wall {secs(run.wall_s)}, {PRIMARY} table units {run.spent.get((PRIMARY, TABLE), 0):g}"
            f" ({run.batch_keys[PRIMARY]} keys batch-read, {run.server_requests['Scan']} scans)",
        )
    report_rates(report, runs, bars=False)


# ----- (c) paused replication -----------------------------------------------------------
def run_paused(report: Report, p: Params, report_dir: Path) -> None:
    """(c) both directions paused: the run must end near its timeout, steps pending."""
    timeout = p.paused_timeout
    report.section(f"(c) replication paused both ways, timeout T = {timeout:g} s")
    with simulator(PAUSED_LAG) as served:
        served.sim.pause(PRIMARY, REPLICA)
        served.sim.pause(REPLICA, PRIMARY)
        who = write_participant(served, fresh_name(), settle_order=False)
        run = run_check(served, who, timeout, report_dir)
    failed = [step for step, status in run.statuses.items() if status == "failed"]
    expected = [step for step in PAUSED_PENDING if run.statuses.get(step) == "failed"]
    others = {step: s for step, s in run.statuses.items() if s not in ("passed", "failed")}
    report.row("exit code", str(run.exit_code))
    report.row("steps failed", f"{len(failed)}: {', '.join(failed)}")
    note = "" if len(expected) == len(PAUSED_PENDING) else " (differs from the expectation)"
    report.row(
        "expected pending steps among them", f"{len(expected)} of {len(PAUSED_PENDING)}{note}"
    )
    report.row("steps skipped or error", ", ".join(f"{k}={v}" for k, v in others.items()) or "none")
    report.row("requests, all operations", str(run.total_requests()))
    limit = timeout + WALL_SLACK
    ok = run.wall_s <= limit
    report.bar("(c) wall time with replication paused", secs(run.wall_s), f"<= {limit:g} s", ok)


# ----- the run ---------------------------------------------------------------------------
def warm_up(report_dir: Path) -> None:
    """One uncounted run, so imports and pytest's first collection are not measured."""
    with simulator(0.1) as served:
        who = write_participant(served, fresh_name())
        run_check(served, who, CHECK_TIMEOUT, report_dir)


def print_header(p: Params, quick: bool) -> None:
    print_machine("gtcheck check benchmark" + (" (--quick)" if quick else ""))
    print(
        f"  gtcheck polls every {converge.DEFAULT_POLL_SECONDS} s; read budget {BUDGET_FRACTION}"
        f" x {PROVISIONED_RCU:g} RCU = {BUDGET_RATE} RCU/s per table or index and region"
    )
    print(
        f"  (a) lags {', '.join(f'{lag:g}' for lag in p.lags)} s, jitter {JITTER:g}, "
        f"{p.runs} gtcheck runs per lag, a fresh simulator per run, timeout {CHECK_TIMEOUT:g} s"
    )
    print(
        f"  (b) lags {', '.join(f'{lag:g}' for lag in p.naive_lags)} s, {p.runs} naive runs of "
        f"each kind per lag, alternating with gtcheck; naive reads 4 keys x {len(REGIONS)} "
        f"regions every {NAIVE_PERIOD:g} s"
    )
    print(f"  shared table: {p.shared_runs} participants at lag {SHARED_LAG:g} s")
    print(f"  (c) both directions paused, lag {PAUSED_LAG:g} s, timeout {p.paused_timeout:g} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small samples, a smoke check")
    args = parser.parse_args(argv)
    p = QUICK if args.quick else FULL
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    print_header(p, args.quick)
    report = Report(label_width=60)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-check-") as scratch:
        report_dir = Path(scratch)
        report.guarded("warm-up", lambda: warm_up(report_dir))
        for index, lag in enumerate(p.lags):
            report.guarded(
                f"lag {lag:g}",
                lambda lag=lag, index=index: measure_lag(report, lag, p, report_dir, SEED + index),
            )
        report.guarded("shared table", lambda: run_shared(report, p, report_dir))
        report.guarded("(c)", lambda: run_paused(report, p, report_dir))
    return report.summary(time.perf_counter() - started, value_width=16)


if __name__ == "__main__":
    sys.exit(main())
