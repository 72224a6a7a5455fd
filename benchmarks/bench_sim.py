"""Benchmarks of the offline global table over HTTP, measured side by side in one run.

Three questions, each with a bar the simulator must meet:
  (a) does an item become visible in the other region when its lag says, and not later?
  (b) does replication keep up with a steady stream of batch writes in both directions?
  (c) does the gateway in front of moto make a GetItem noticeably slower than plain moto?

Run: .venv/bin/python benchmarks/bench_sim.py [--quick]
Exit status: 0 when every bar is met, 1 otherwise (the failed bars are printed).
Everything runs in this process and talks only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import logging
import math
import statistics
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from moto.server import ThreadedMotoServer

from barsheet import Report, print_machine
from gtcheck.sim import SimConfig, Simulator
from gtcheck.sim.server import SimServer
from gtcheck.sim.workshop_table import create_table_request

HOST = "127.0.0.1"
SOURCE, RECEIVER = "us-east-1", "eu-west-1"
TABLE = "demo-ecommerce-freetier"
PLAIN_TABLE = "bench-plain"  # plain moto shares moto's backends: a name that cannot collide
DELAY_LAGS = (0.5, 1.0)
THROUGHPUT_LAG = 0.2
GETITEM_LAG = 1.0
MAX_EXTRA_WAIT = 5.0  # seconds an item may be late before its probe gives up on it
DRAIN_TIMEOUT = 60.0  # seconds replication may take to drain once the writers are done
BATCH = 25  # BatchWriteItem's limit
RESENDS = 5  # bounded retries of UnprocessedItems

DELAY_P95_BAR_MS = 50.0
THROUGHPUT_BAR = 200.0
RATIO_BAR = 1.3


@dataclass(frozen=True)
class Params:
    """Sample sizes and pacing; `--quick` shrinks them for a smoke check."""

    delay_samples: int  # items per lag in (a)
    start_every: float  # seconds between writes in (a): items overlap, the run stays short
    poll_every: float  # seconds a probe sleeps between polls
    guard: float  # a probe polls tightly from this long before its item is due
    throughput_items: int  # items per direction in (b)
    writer_threads: int  # per region in (b)
    rounds: int  # (c): rounds, each one batch per server, order alternating
    calls_per_round: int
    warmup_calls: int


FULL = Params(40, 0.1, 0.003, 0.05, 3000, 2, 15, 200, 100)
QUICK = Params(12, 0.1, 0.003, 0.05, 600, 2, 10, 50, 50)


# ----- small helpers --------------------------------------------------------------------
def percentile(values: list[float], pct: float) -> float:
    """Linearly interpolated percentile (pct in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def p50_p95(values: list[float]) -> str:
    return f"{ms(statistics.median(values))} / {ms(percentile(values, 95))}"


def sleep_until(moment: float) -> None:
    """Sleep until perf_counter() reaches `moment` (at once if it has)."""
    remaining = moment - time.perf_counter()
    if remaining > 0:
        time.sleep(remaining)


def item_key(name: str) -> dict[str, Any]:
    return {"PK": {"S": f"BENCH#{name}"}, "SK": {"S": "ITEM"}}


def dynamodb(endpoint: str, region: str, pool: int = 10) -> Any:
    """A client with dummy credentials, one attempt per call and no proxy, for `endpoint`."""
    config = Config(
        retries={"total_max_attempts": 1},
        max_pool_connections=pool,
        connect_timeout=2,
        read_timeout=15,
        proxies={},
    )
    session = boto3.session.Session(
        aws_access_key_id="bench", aws_secret_access_key="bench", region_name=region
    )
    return session.client("dynamodb", endpoint_url=endpoint, config=config)


@contextmanager
def simulator(lag: float) -> Iterator[tuple[Simulator, SimServer]]:
    """A fresh simulator (jitter 0, throttle 0) served on 127.0.0.1, always stopped.

    Provisioned capacity is off: these measure the simulator's own throughput and delay,
    which the workshop table's 5 units per second would otherwise cap.
    """
    config = SimConfig(
        regions=(SOURCE, RECEIVER), lag=lag, jitter=0.0, throttle=0.0, capacity=False
    )
    sim = Simulator(config)
    server = sim.serve(HOST, 0)
    try:
        yield sim, server
    finally:
        server.stop()


@contextmanager
def plain_moto() -> Iterator[str]:
    """moto's own threaded server on a free port of 127.0.0.1; yields its endpoint."""
    server = ThreadedMotoServer(ip_address=HOST, port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


# ----- (a) replication visibility delay ------------------------------------------------
@dataclass
class Probe:
    """One item: seconds beyond its lag when first seen (None: never seen in time)."""

    beyond_lag: float | None
    round_trips: list[float]
    errors: int
    early: bool = False  # already there at the look right after the put: lag skipped


def look(client: Any, key: dict[str, Any], rtts: list[float]) -> tuple[bool, float, int]:
    """One ConsistentRead GetItem: (found, when it returned, errors)."""
    started = time.perf_counter()
    try:
        found = "Item" in client.get_item(TableName=TABLE, Key=key, ConsistentRead=True)
    except (BotoCoreError, ClientError):
        return False, time.perf_counter(), 1
    returned = time.perf_counter()
    rtts.append(returned - started)
    return found, returned, 0


def probe(client: Any, key: dict[str, Any], put_return: float, lag: float, p: Params) -> Probe:
    """Look once right away (an item must not skip its lag), then tightly near its due time.

    Polling only from `guard` before the due time keeps the load of many overlapping
    probes off the machine; an early item still shows up as a negative figure.
    """
    rtts: list[float] = []
    found, returned, errors = look(client, key, rtts)
    if found:
        return Probe(returned - put_return - lag, rtts, errors, early=True)
    sleep_until(put_return + lag - p.guard)
    deadline = put_return + lag + MAX_EXTRA_WAIT
    while time.perf_counter() < deadline:
        found, returned, failed = look(client, key, rtts)
        errors += failed
        if found:
            return Probe(returned - put_return - lag, rtts, errors)
        time.sleep(p.poll_every)
    return Probe(None, rtts, errors)


def measure_delay(endpoint: str, lag: float, p: Params) -> list[Probe]:
    """Write one item every `start_every` s in SOURCE; probe each from RECEIVER meanwhile."""
    workers = min(math.ceil((lag + MAX_EXTRA_WAIT) / p.start_every) + 4, p.delay_samples)
    writer = dynamodb(endpoint, SOURCE, 2)
    reader = dynamodb(endpoint, RECEIVER, workers)
    futures = []
    failed: list[Probe] = []
    with ThreadPoolExecutor(workers, thread_name_prefix="probe") as pool:
        start = time.perf_counter() + 0.05
        for i in range(p.delay_samples):
            sleep_until(start + i * p.start_every)
            key = item_key(f"delay-{lag}-{i}")
            try:
                writer.put_item(TableName=TABLE, Item=key)
            except (BotoCoreError, ClientError):
                failed.append(Probe(None, [], 1))  # counts as an item never seen
                continue
            put_return = time.perf_counter()
            futures.append(pool.submit(probe, reader, key, put_return, lag, p))
        return failed + [future.result(timeout=lag + MAX_EXTRA_WAIT + 30) for future in futures]


def run_delay(report: Report, p: Params, lag: float) -> None:
    """(a) at one lag: (first seen in RECEIVER - put returned in SOURCE) - lag."""
    report.section(f"(a) visibility delay - lag, at lag {lag:.1f} s, jitter 0")
    with simulator(lag) as (_, server):
        probes = measure_delay(server.endpoint, lag, p)
    seen = [pr.beyond_lag for pr in probes if pr.beyond_lag is not None]
    rtts = [rtt for pr in probes for rtt in pr.round_trips]
    report.row("items written / seen", f"{len(probes)} / {len(seen)}")
    report.row("errors (PutItem, GetItem)", str(sum(pr.errors for pr in probes)))
    if rtts:
        report.row("GetItem round trip p50 / p95 (context)", p50_p95(rtts))
    if seen:
        report.row("delay - lag p50 / p95", p50_p95(seen))
        report.row("delay - lag min / max", f"{ms(min(seen))} / {ms(max(seen))}")
        p95 = percentile(seen, 95) * 1000
        name = f"(a) lag {lag:.1f} s: delay - lag p95"
        report.bar(name, f"{p95:.2f} ms", f"<= {DELAY_P95_BAR_MS:.0f} ms", p95 <= DELAY_P95_BAR_MS)
    early = sum(pr.early for pr in probes)
    report.bar(f"(a) lag {lag:.1f} s: items there right after put", str(early), "0", early == 0)
    ok = len(seen) == len(probes)
    report.bar(f"(a) lag {lag:.1f} s: items seen", str(len(seen)), f"{len(probes)}", ok)


# ----- (b) sustained replication throughput --------------------------------------------
@dataclass
class Writes:
    """What one region's writers got done."""

    acknowledged: int = 0
    failures: int = 0
    started: float = 0.0
    finished: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


def batch_requests(prefix: str, first: int, stop: int) -> list[dict[str, Any]]:
    return [
        {"PutRequest": {"Item": {**item_key(f"{prefix}-{i}"), "n": {"N": str(i)}}}}
        for i in range(first, stop)
    ]


def write_range(client: Any, prefix: str, first: int, stop: int, writes: Writes) -> None:
    """BatchWriteItem items first..stop-1, 25 a call, resending unprocessed ones a few times."""
    for start in range(first, stop, BATCH):
        pending: dict[str, Any] = {TABLE: batch_requests(prefix, start, min(start + BATCH, stop))}
        sent = len(pending[TABLE])
        for _ in range(RESENDS):
            try:
                response = client.batch_write_item(RequestItems=pending)
            except (BotoCoreError, ClientError):
                break
            pending = response.get("UnprocessedItems") or {}
            if not pending:
                break
        unprocessed = sum(len(requests) for requests in pending.values())
        with writes.lock:
            writes.acknowledged += sent - unprocessed
            writes.failures += unprocessed


def write_region(endpoint: str, region: str, p: Params, writes: Writes) -> list[threading.Thread]:
    """Threads that write `throughput_items` items into `region`, split in even ranges."""
    client = dynamodb(endpoint, region, p.writer_threads + 2)
    share = math.ceil(p.throughput_items / p.writer_threads)
    return [
        threading.Thread(
            target=write_range,
            args=(client, f"tp-{region}", first, min(first + share, p.throughput_items), writes),
            name=f"writer-{region}-{first}",
        )
        for first in range(0, p.throughput_items, share)
    ]


def wait_drained(sim: Simulator, expected: int) -> bool:
    """Wait (bounded) until the simulator has delivered `expected` changes and holds none."""
    deadline = time.perf_counter() + DRAIN_TIMEOUT
    while time.perf_counter() < deadline:
        state = sim.state()
        if state["delivered"] >= expected and not state["pending"]:
            return True
        time.sleep(0.05)
    return False


def deliveries(sim: Simulator, receiving: str) -> list[tuple[float, float]]:
    """(epoch seconds, ReplicationLatency ms) of each change delivered into `receiving`.

    The simulator publishes one ReplicationLatency datum per delivery, stamped with the
    delivery time; reading them back from moto's CloudWatch in process gives exact times
    per direction without adding requests to the run being measured.
    """
    from moto.cloudwatch.models import cloudwatch_backends

    backend = cloudwatch_backends[sim.config.account_id][receiving]
    found = []
    for datum in list(backend.metric_data):
        dims = {d.name: d.value for d in datum.dimensions}
        if (
            datum.name == "ReplicationLatency"
            and dims.get("ReceivingRegion") == receiving
            and dims.get("TableName") == TABLE
        ):
            found.append((datum.timestamp.replace(tzinfo=UTC).timestamp(), float(datum.value)))
    return sorted(found)


def measure_writes(endpoint: str, p: Params) -> dict[str, Writes]:
    """Write into both regions at once, as fast as the writer threads go."""
    writes = {region: Writes() for region in (SOURCE, RECEIVER)}
    threads = {region: write_region(endpoint, region, p, writes[region]) for region in writes}
    for region, group in threads.items():
        writes[region].started = time.perf_counter()
        for thread in group:
            thread.start()
    for region, group in threads.items():
        for thread in group:
            thread.join(timeout=DRAIN_TIMEOUT * 2)
        writes[region].finished = time.perf_counter()
    return writes


def report_direction(report: Report, sim: Simulator, source: str, receiving: str) -> None:
    got = deliveries(sim, receiving)
    direction = f"{source} > {receiving}"
    if len(got) < 2:
        report.bar(f"(b) {direction}: items/s", "n/a", f">= {THROUGHPUT_BAR:.0f}", False)
        return
    window = got[-1][0] - got[0][0]
    rate = (len(got) - 1) / window if window > 0 else float("inf")
    beyond = [(latency / 1000) - THROUGHPUT_LAG for _, latency in got]
    report.row(f"{direction}: delivered, first to last", f"{len(got)} in {window:.2f} s")
    report.row(f"{direction}: ReplicationLatency - lag p50/p95", p50_p95(beyond))
    name = f"(b) {direction}: items/s"
    report.bar(name, f"{rate:.0f}", f">= {THROUGHPUT_BAR:.0f}", rate >= THROUGHPUT_BAR)


def run_throughput(report: Report, p: Params) -> None:
    """(b) items/s delivered into each region while both take batch writes at full speed."""
    report.section(
        f"(b) replication throughput, lag {THROUGHPUT_LAG} s, jitter 0, "
        f"{p.throughput_items} items per direction, {p.writer_threads} writers per region"
    )
    with simulator(THROUGHPUT_LAG) as (sim, server):
        writes = measure_writes(server.endpoint, p)
        drained = wait_drained(sim, 2 * p.throughput_items)
        for region, done in writes.items():
            rate = done.acknowledged / max(done.finished - done.started, 1e-9)
            report.row(
                f"writes into {region}: acknowledged, items/s",
                f"{done.acknowledged} ({done.failures} failed), {rate:.0f}/s",
            )
        report.row("replication drained", str(drained))
        report_direction(report, sim, SOURCE, RECEIVER)
        report_direction(report, sim, RECEIVER, SOURCE)
        delivered = sim.state()["delivered"]
    expected = 2 * p.throughput_items
    report.bar(
        "(b) changes delivered, both ways", str(delivered), f"{expected}", delivered == expected
    )


# ----- (c) GetItem through the simulator against plain moto ----------------------------
SAMPLE_ITEM = {
    **item_key("getitem"),
    "name": {"S": "Ana"},
    "email": {"S": "ana@example.com"},
    "status": {"S": "ACTIVE"},
    "visits": {"N": "42"},
}


def timed_gets(client: Any, table: str, calls: int) -> list[float]:
    """Seconds per GetItem, `calls` in a row; every call must find the item."""
    key = {name: SAMPLE_ITEM[name] for name in ("PK", "SK")}
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        response = client.get_item(TableName=table, Key=key)
        times.append(time.perf_counter() - started)
        if "Item" not in response:
            raise RuntimeError(f"GetItem on {table} did not find the item")
    return times


@dataclass
class GetItemRuns:
    """Per server: every call's seconds and each batch's process CPU per call; per round,
    the sim/moto ratio of the two batch medians measured side by side."""

    times: dict[str, list[float]]
    cpu_per_call: dict[str, list[float]]
    round_ratios: list[float]


def measure_getitem(targets: list[tuple[str, Any, str]], p: Params) -> GetItemRuns:
    """Alternate batches between the servers, order flipped each round, to cancel noise."""
    for _, client, table in targets:
        timed_gets(client, table, p.warmup_calls)
    runs = GetItemRuns({n: [] for n, _, _ in targets}, {n: [] for n, _, _ in targets}, [])
    for round_no in range(p.rounds):
        medians = {}
        for name, client, table in targets if round_no % 2 == 0 else targets[::-1]:
            cpu_started = time.process_time()
            batch = timed_gets(client, table, p.calls_per_round)
            runs.cpu_per_call[name].append((time.process_time() - cpu_started) / len(batch))
            runs.times[name].extend(batch)
            medians[name] = statistics.median(batch)
        runs.round_ratios.append(medians["sim"] / medians["moto"])
    return runs


def run_getitem(report: Report, p: Params) -> None:
    """(c) median GetItem latency through the simulator and through plain moto server."""
    report.section(
        f"(c) GetItem latency, simulator vs plain moto server, {p.rounds} rounds x "
        f"{p.calls_per_round} calls each, interleaved"
    )
    # The Simulator resets moto's backends when created, so it comes first.
    with simulator(GETITEM_LAG) as (_, server), plain_moto() as moto_endpoint:
        sim_client = dynamodb(server.endpoint, SOURCE, 2)
        moto_client = dynamodb(moto_endpoint, SOURCE, 2)
        moto_client.create_table(**create_table_request(PLAIN_TABLE))
        sim_client.put_item(TableName=TABLE, Item=SAMPLE_ITEM)
        moto_client.put_item(TableName=PLAIN_TABLE, Item=SAMPLE_ITEM)
        targets = [("sim", sim_client, TABLE), ("moto", moto_client, PLAIN_TABLE)]
        runs = measure_getitem(targets, p)
    report_getitem(report, runs)


def report_getitem(report: Report, runs: GetItemRuns) -> None:
    """Pooled medians for the record; the bar on the paired per-round ratios.

    Other processes on a small machine make latencies bimodal, and a pooled median can
    then jump between modes; a round's two batches run side by side, so their ratio
    cancels that noise, and the median over rounds is what the bar judges.
    """
    sim_cpu, moto_cpu = (statistics.median(runs.cpu_per_call[n]) for n in ("sim", "moto"))
    ratios = runs.round_ratios
    report.row("plain moto GetItem p50 / p95", p50_p95(runs.times["moto"]))
    report.row("simulator GetItem p50 / p95", p50_p95(runs.times["sim"]))
    pooled = statistics.median(runs.times["sim"]) / statistics.median(runs.times["moto"])
    report.row("ratio sim/moto of the p50s above", f"{pooled:.3f}")
    report.row("process CPU per call moto / sim (context)", f"{ms(moto_cpu)} / {ms(sim_cpu)}")
    report.row("ratio sim/moto of process CPU per call", f"{sim_cpu / moto_cpu:.3f}")
    spread = f"{min(ratios):.3f} / {statistics.median(ratios):.3f} / {max(ratios):.3f}"
    report.row("per-round ratio sim/moto min / median / max", spread)
    ratio = statistics.median(ratios)
    name = "(c) GetItem p50 ratio sim/moto, per round"
    report.bar(name, f"{ratio:.3f}", f"<= {RATIO_BAR}", ratio <= RATIO_BAR)


# ----- the run ---------------------------------------------------------------------------
def print_header(p: Params, quick: bool) -> None:
    print_machine("gtcheck simulator benchmark" + (" (--quick)" if quick else ""))
    print(
        f"  (a) lags {DELAY_LAGS} s, {p.delay_samples} items per lag, one every "
        f"{p.start_every * 1000:.0f} ms, polls every {p.poll_every * 1000:.0f} ms from "
        f"{p.guard * 1000:.0f} ms before due"
    )
    print(
        f"  (b) lag {THROUGHPUT_LAG} s, {p.throughput_items} items per direction, "
        f"BatchWriteItem x{BATCH}, {p.writer_threads} writer threads per region"
    )
    print(
        f"  (c) {p.rounds} rounds x {p.calls_per_round} GetItem per server, "
        f"{p.warmup_calls} warm-up calls each"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small samples, a smoke check")
    args = parser.parse_args(argv)
    p = QUICK if args.quick else FULL
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # plain moto logs every request
    print_header(p, args.quick)
    report = Report(label_width=52)
    started = time.perf_counter()
    for lag in DELAY_LAGS:
        report.guarded(f"(a) lag {lag}", lambda lag=lag: run_delay(report, p, lag))
    report.guarded("(b)", lambda: run_throughput(report, p))
    report.guarded("(c)", lambda: run_getitem(report, p))
    return report.summary(time.perf_counter() - started, value_width=10)


if __name__ == "__main__":
    sys.exit(main())
