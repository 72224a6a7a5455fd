"""`gtcheck validate` end to end: its wall time, its latency figures against the truth, and
the capacity it spends, on `gtcheck sim` running in its own process.

Each run is `gtcheck validate --endpoint-url URL --probes 20 --report-dir DIR`, a process
timed from spawn to exit, as an instructor starts it before a session. Two settings, a
simulator each, capacity enforced with the default burst: lag 1 s with jitter 0, and lag
1 s with jitter 0.3 s (seeded). The bars, per setting unless said:

  run time   the median run takes at most 30 s of wall time, and the probes are in flight
             together: at some moment at least a direction's worth of probes (20) had been
             written and not yet delivered, by the simulator's own record of them.
  accuracy   jitter 0: the measured p50 of each direction is within 30 ms of the configured
             lag (1000 ms). jitter 0.3: the measured p95 of each direction is within 10% of
             the true p95, median over runs of each run's error.
  budget     per region and per table or index, the read units and the write units the run
             spent, divided by the run's wall time, are at most half the provisioned rate
             (DescribeTable's, 5 RCU and 5 WCU for the workshop table: 2.5 units/s); the
             median over runs of each run's rate.

Definitions:
  true latency   what the simulator really took to deliver a write: its
                 GET /_gtcheck/state `recent_deliveries`, the same milliseconds it publishes
                 as CloudWatch's ReplicationLatency. The true p50 and p95 of a run are those
                 of its own probes only (PK `GTCHECK#probe-<run id>-`, SK `PROBE`): half a
                 direction's probes are puts, the other half delete those items again in
                 the same region, so both the puts and the deletions of those keys count;
                 the bot's and the scenarios' items are left out. Per direction, by the
                 percentile rule validate uses (linear between ranks).
  in flight      a probe from its write (delivery time minus its latency) to its delivery.
  units spent    the simulator's capacity usage (`capacity.usage` in the same state, every
                 client read and write plus replicated writes, charged to the receiving
                 table) after the run, once replication is idle, minus the same before it.

Run: .venv/bin/python benchmarks/bench_validate.py [--quick] [--runs N]
(--quick: one run per setting, about a minute and a half.)
Exit status: 0 when it ran to the end, whether or not the bars were met (the summary says
which were); 2 when a part crashed. Everything talks only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

import gtcheck
from barsheet import Report, print_machine
from bench_cli import (  # on import, sets the test credentials of this process and children
    Finished,
    SimProcess,
    child_env,
    median_range,
    run_once,
    sim_process,
    venv_tool,
)
from gtcheck.latency import percentile
from gtcheck.marks import PROBE_PREFIX, PROBE_SORT_KEY

TABLE = "demo-ecommerce-freetier"
REGIONS = ("us-east-1", "eu-west-1")
DIRECTIONS = tuple(f"{a}->{b}" for a in REGIONS for b in REGIONS if a != b)
SEED = 20261202
LAG = 1.0
PROBES = 20

WALL_BAR = 30.0  # seconds, median run
P50_BAR_MS = 30.0  # jitter 0: |measured p50 - lag|
P95_BAR = 0.10  # jitter 0.3: |measured p95 - true p95| / true p95
BUDGET_SHARE = 0.5  # of the provisioned rate


@dataclass(frozen=True)
class Params:
    runs: int  # validate runs per setting
    settings: tuple[float, ...] = (0.0, 0.3)  # jitter, at lag LAG


FULL = Params(3)
QUICK = Params(1)


@dataclass
class Run:
    """One `gtcheck validate` as measured."""

    finished: Finished
    document: dict[str, Any]
    true_ms: dict[str, list[float]]  # per direction, the probes' true latencies, sorted
    peak_in_flight: int
    spent: dict[tuple[str, str, str], float]  # (region, resource, read/write) -> units

    @property
    def wall_s(self) -> float:
        return self.finished.wall_s

    def measured(self, direction: str, figure: str) -> float | None:
        entry = (self.document.get("latency_ms") or {}).get(direction) or {}
        value = entry.get(figure)
        return None if value is None else float(value)

    def true(self, direction: str, q: float) -> float | None:
        return percentile(self.true_ms.get(direction, []), q)

    def rate(self, key: tuple[str, str, str]) -> float:
        return self.spent.get(key, 0.0) / self.wall_s


@dataclass
class Setting:
    jitter: float
    provisioned: dict[tuple[str, str, str], float] = field(default_factory=dict)
    runs: list[Run] = field(default_factory=list)


# ----- what the simulator knows ----------------------------------------------------------
def usage(state: dict[str, Any]) -> dict[tuple[str, str, str], float]:
    """(region, table or table/index/NAME, read|write) -> units consumed so far."""
    out: dict[tuple[str, str, str], float] = {}
    for region, resources in (state.get("capacity", {}).get("usage") or {}).items():
        for label, figures in resources.items():
            out[(region, label, "read")] = float(figures.get("read_units", 0.0))
            out[(region, label, "write")] = float(figures.get("write_units", 0.0))
            out[(region, label, "refused")] = float(
                figures.get("refused_reads", 0) + figures.get("refused_writes", 0)
            )
    return out


def provisioned(endpoint: str) -> dict[tuple[str, str, str], float]:
    """The provisioned units per second of every table and index, as DescribeTable says."""
    out: dict[tuple[str, str, str], float] = {}
    for region in REGIONS:
        client = boto3.client(
            "dynamodb",
            region_name=region,
            endpoint_url=endpoint,
            config=Config(retries={"max_attempts": 2}),
        )
        table = client.describe_table(TableName=TABLE)["Table"]
        throughputs = [(TABLE, table.get("ProvisionedThroughput") or {})]
        for index in table.get("GlobalSecondaryIndexes") or []:
            label = f"{TABLE}/index/{index['IndexName']}"
            throughputs.append((label, index.get("ProvisionedThroughput") or {}))
        for label, throughput in throughputs:
            out[(region, label, "read")] = float(throughput.get("ReadCapacityUnits") or 0)
            out[(region, label, "write")] = float(throughput.get("WriteCapacityUnits") or 0)
    return out


def probe_deliveries(state: dict[str, Any], run_id: str) -> list[dict[str, Any]]:
    """The run's probes as the simulator delivered them: the first put and the first
    deletion of each probe key in each region."""
    prefix = f"{PROBE_PREFIX}{run_id}-"
    seen: set[tuple[str, str, str]] = set()
    out = []
    for delivery in state.get("recent_deliveries") or []:
        pk, sk = delivery["key"]
        if sk != PROBE_SORT_KEY or not str(pk).startswith(prefix):
            continue
        once = (pk, delivery["target"], delivery["kind"])
        if once in seen:
            continue
        seen.add(once)
        out.append(delivery)
    return out


def peak_in_flight(deliveries: list[dict[str, Any]]) -> int:
    """The most probes written and not yet delivered at one moment."""
    events = []
    for delivery in deliveries:
        delivered = float(delivery["at"])
        events.append((delivered - float(delivery["latency_ms"]) / 1000, 1))
        events.append((delivered, -1))
    peak = current = 0
    for _, step in sorted(events, key=lambda e: (e[0], e[1])):
        current += step
        peak = max(peak, current)
    return peak


# ----- measuring -------------------------------------------------------------------------
def validate_once(
    sim: SimProcess, runs: int, index: int, env: dict[str, str], scratch: Path
) -> Run:
    before = usage(sim.await_idle())
    report_dir = scratch / f"validate-{index}"
    argv = [
        venv_tool("gtcheck"),
        "validate",
        "--endpoint-url",
        sim.endpoint,
        "--probes",
        str(PROBES),
        "--report-dir",
        str(report_dir),
    ]
    finished = run_once(argv, env, scratch)
    path = report_dir / "validation.json"
    if not path.exists():
        tail = (finished.stderr or finished.stdout)[-600:]
        raise RuntimeError(f"gtcheck validate exited {finished.code} without a report: {tail}")
    document = json.loads(path.read_text())
    state = sim.await_idle()
    after = usage(state)
    spent = {key: after[key] - before.get(key, 0.0) for key in after}
    deliveries = probe_deliveries(state, document["run_id"])
    true_ms: dict[str, list[float]] = {direction: [] for direction in DIRECTIONS}
    for delivery in deliveries:
        direction = f"{delivery['source']}->{delivery['target']}"
        true_ms.setdefault(direction, []).append(float(delivery["latency_ms"]))
    for values in true_ms.values():
        values.sort()
    run = Run(finished, document, true_ms, peak_in_flight(deliveries), spent)
    print(
        f"    run {index + 1}/{runs}: exit {finished.code}, ok {document.get('ok')}, "
        f"{finished.wall_s:.1f} s, {len(deliveries)} probe deliveries seen",
        flush=True,
    )
    return run


def measure_setting(
    report: Report, setting: Setting, p: Params, seed: int, env: dict[str, str], scratch: Path
) -> None:
    report.section(f"lag {LAG:g} s, jitter {setting.jitter:g} s (seed {seed}), {p.runs} run(s)")
    with sim_process(LAG, setting.jitter, seed, env, scratch) as sim:
        setting.provisioned = provisioned(sim.endpoint)
        for index in range(p.runs):
            setting.runs.append(validate_once(sim, p.runs, index, env, scratch))
    report_setting(report, setting)


def fmt_ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} ms"


def report_setting(report: Report, setting: Setting) -> None:
    runs = setting.runs
    jitter = setting.jitter
    label = f"j{jitter:g}"
    walls = [run.wall_s for run in runs]
    report.row("wall time, spawn to exit", median_range(walls))
    report.row(
        "validate's own duration_s", median_range([run.document["duration_s"] for run in runs])
    )
    report.row("exit codes", ", ".join(str(run.finished.code) for run in runs))
    for name in runs[0].document.get("phases_s") or {}:
        spans = [run.document.get("phases_s", {}).get(name) for run in runs]
        spans = [span for span in spans if span]
        start = statistics.median(span[0] for span in spans)
        end = statistics.median(span[1] for span in spans)
        report.row(f"phase {name} (median, s from the start)", f"{start:.1f} .. {end:.1f}")
    wall = statistics.median(walls)
    report.bar(
        f"{label} run time (median)", f"{wall:.1f} s", f"<= {WALL_BAR:g} s", wall <= WALL_BAR
    )
    peaks = [run.peak_in_flight for run in runs]
    sent = [sum(len(v) for v in run.true_ms.values()) for run in runs]
    report.row("probes delivered per run (both directions)", ", ".join(map(str, sent)))
    report.row("peak probes in flight at once", ", ".join(map(str, peaks)))
    report.bar(
        f"{label} probes in flight together (min peak)",
        str(min(peaks)),
        f">= {PROBES}",
        min(peaks) >= PROBES,
    )
    for direction in DIRECTIONS:
        report.section(f"  {direction}")
        for figure, q in (("p50", 50), ("p95", 95)):
            measured = [run.measured(direction, figure) for run in runs]
            true = [run.true(direction, q) for run in runs]
            report.row(
                f"{figure} measured / true",
                "; ".join(
                    f"{fmt_ms(m)} / {fmt_ms(t)}" for m, t in zip(measured, true, strict=True)
                ),
            )
        samples = [run.measured(direction, "samples") for run in runs]
        resolution = [run.measured(direction, "resolution_ms") for run in runs]
        cloudwatch = [run.measured(direction, "cloudwatch_avg") for run in runs]
        report.row("samples", ", ".join("n/a" if s is None else f"{s:.0f}" for s in samples))
        report.row("resolution (widest interval)", "; ".join(fmt_ms(r) for r in resolution))
        report.row("CloudWatch average", "; ".join(fmt_ms(c) for c in cloudwatch))
        if jitter == 0:
            errors = [
                abs(m - LAG * 1000)
                for run in runs
                if (m := run.measured(direction, "p50")) is not None
            ]
            error = statistics.median(errors) if errors else None
            report.bar(
                f"{label} {direction} |p50 - lag|",
                fmt_ms(error),
                f"<= {P50_BAR_MS:g} ms",
                error is not None and error <= P50_BAR_MS and len(errors) == len(runs),
            )
        else:
            shares = [
                abs(m - t) / t
                for run in runs
                if (m := run.measured(direction, "p95")) is not None
                and (t := run.true(direction, 95))
            ]
            share = statistics.median(shares) if shares else None
            report.bar(
                f"{label} {direction} |p95 - true p95|",
                "n/a" if share is None else f"{share:.1%}",
                f"<= {P95_BAR:.0%}",
                share is not None and share <= P95_BAR and len(shares) == len(runs),
            )
    refused = [sum(v for k, v in run.spent.items() if k[2] == "refused") for run in runs]
    report.row("requests refused for capacity, per run", ", ".join(f"{n:.0f}" for n in refused))
    report.section("  units spent per second of the run (median over runs; max)")
    for key, rate in sorted(setting.provisioned.items()):
        region, resource, kind = key
        if rate <= 0:
            continue
        rates = [run.rate(key) for run in runs]
        totals = [run.spent.get(key, 0.0) for run in runs]
        limit = BUDGET_SHARE * rate
        middle = statistics.median(rates)
        short = resource.replace(f"{TABLE}/index/", "").replace(TABLE, "table")
        report.row(
            f"{region} {short} {kind}",
            f"{middle:.2f}/s (max {max(rates):.2f}), {statistics.median(totals):.1f} units "
            f"of {rate:g}/s provisioned",
        )
        report.bar(
            f"{label} {region} {short} {kind} units/s",
            f"{middle:.2f}",
            f"<= {limit:g}",
            middle <= limit,
        )


def print_header(p: Params, quick: bool) -> None:
    print_machine("gtcheck validate benchmark" + (" (--quick)" if quick else ""))
    print(
        f"  gtcheck {gtcheck.__version__}; commands from {Path(sys.executable).parent}; "
        "the simulator in its own process, capacity enforced, default burst"
    )
    settings = ", ".join(f"{jitter:g}" for jitter in p.settings)
    print(
        f"  lag {LAG:g} s, jitter {settings} s, a fresh simulator per setting; "
        f"{p.runs} validate run(s) each, --probes {PROBES}, one after another"
    )
    print("  bars: medians over runs; true latencies are the simulator's own per delivery")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one run per setting")
    parser.add_argument("--runs", type=int, default=None, help="validate runs per setting")
    args = parser.parse_args(argv)
    p = QUICK if args.quick else FULL
    if args.runs is not None:
        if args.runs < 1:
            parser.error("--runs must be at least 1")
        p = Params(args.runs, p.settings)
    print_header(p, args.quick)
    report = Report(label_width=56)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-validate-") as folder:
        scratch = Path(folder)
        env = child_env(scratch)
        for index, jitter in enumerate(p.settings):
            setting = Setting(jitter)
            report.guarded(
                f"jitter {jitter:g}",
                lambda setting=setting, index=index: measure_setting(
                    report, setting, p, SEED + index, env, scratch
                ),
            )
    return report.measured_only(time.perf_counter() - started, value_width=10)


if __name__ == "__main__":
    sys.exit(main())
