"""End-to-end benchmark of `gtcheck grade --roster FILE`: a whole class, as an instructor runs it.

Everything is measured as an instructor meets it: `gtcheck grade` in its own process, from
spawn to exit, against `gtcheck sim --no-capacity` running in processes of their own (the
ready line gives each endpoint), with test credentials. The requirement, as quoted:

  "On the simulator in server mode, for complete classes of 1, 10, 100 and 500 on a shared
  table, measured in one run: requests made and wall time: requests(100) <= 3 x
  requests(10), and wall(100) <= 5 x wall(1); peak memory for 500 under 1 GiB. For 40
  participants on 40 separate endpoints, the wall time is at most 3 x one participant's.
  Also report the read units per participant."

Two parts:
  (a) shared table: one simulator per class size, each holding exactly its class, complete
      and settled; the sizes are graded in rounds, one run of each size per round, the
      order reversed every other round (side by side, so load from elsewhere on the
      machine falls on every size alike). Bars: requests(100) / requests(10) <= 3 (medians
      over runs), wall(100) / wall(1) <= 5 (median of per-round ratios), peak RSS of the
      class of 500 < 1 GiB. The class of 500 is graded in the first round only: one
      grading takes minutes.
  (b) separate endpoints: 40 simulators (10 with --quick), one complete participant each;
      a roster with each row's own endpoint_url, against a roster of one row on the first
      of them, in interleaved pairs. Bar: wall(40) / wall(1) <= 3 (median of per-pair
      ratios).
      Then the same pairs again with every simulator --round-trip 0.1 (--round-trip S;
      0 skips it): a classroom far from AWS, where each look waits on the network. Its
      ratio is reported beside the bar, not judged. Each part also prints the floor its
      CPU sets: gtcheck's CPU for the class over one participant's wall time.

Definitions:
  wall time     spawn -> exit of the `gtcheck grade` process, on this process's monotonic
                clock.
  CPU           user + system time: the grading process's from os.wait4, the simulators'
                from /proc/PID/stat before and after the run. Their sum over this machine's
                cores is a floor under the wall time, whatever the concurrency.
  peak RSS      ru_maxrss of that process as os.wait4 returns it for that one child (the
                grading runs in one process: pytest in process, no workers).
  requests      every HTTP request the process sent, counted by operation by a relay in
                front of each simulator (benchmarks/bench_cli.py's Relay, imported), one
                relay per simulator; the relay's own time per request is printed. In (b)
                the timed pairs go straight to the simulators (40 relays on this machine's
                two cores would slow the very run they count), and the requests and read
                units come from one more run of each kind through the relays, not timed.
  read units    benchmarks/bench_cli.py's rule (its docstring): 0.5 per item read per 4 KB,
                eventually consistent; a Scan or Query 0.5 per item scanned. Beside it, Scan
                and Query pages billed by their items' total size, as DynamoDB bills them.
                Per participant: a run's units divided by the class size.

Set-up: every participant is written complete, as `gtcheck solve` leaves it, by boto3 in
this process straight to the simulator (no relay): BatchWriteItem, 25 items a request,
each item in its own region as the workshop page says (user, order with the US update and
the timing item in us-east-1, then product and order with the EU update in eu-west-1, the
later write, so it wins everywhere; the updates as whole items); then this process waits
until GET /_gtcheck/state shows nothing pending. One uncounted grading first fills caches.

Run: .venv/bin/python benchmarks/bench_grade.py [--quick] [--runs N] [--part a|b]
     [--round-trip S]
Exit status: 0 when it ran to the end, whether or not the bars were met (the summary says
which were); 2 when a part crashed. Everything talks only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gtcheck
from barsheet import Report, print_machine
from bench_cli import (  # on import, sets the test credentials of this process and children
    PRIMARY,
    REPLICA,
    TABLE,
    Relay,
    Relayed,
    SimProcess,
    Writer,
    child_env,
    med,
    median_range,
    venv_tool,
)
from gtcheck import bot, templates

SEED = 20261203
LAG, JITTER = 0.2, 0.1  # the simulators' replication; the classes are graded settled
GRADE_TIMEOUT = 60  # gtcheck grade --timeout
PROCESS_TIMEOUT = 900.0  # a grading still running after this long is killed
SETTLE_TIMEOUT = 300.0  # seconds the simulators may take to replicate a written class
BATCH = 25  # items per BatchWriteItem, DynamoDB's limit
START_WAVE = 8  # simulators started at once for (b)

REQUESTS_RATIO_BAR = 3.0  # requests(100) / requests(10)
WALL_RATIO_BAR = 5.0  # wall(100) / wall(1), shared table
PEAK_RSS_BAR_MIB = 1024.0  # largest class
ENDPOINTS_RATIO_BAR = 3.0  # wall(N endpoints) / wall(1 endpoint)
# (b) is also timed with simulators this far: a request's answer 0.1 s after it left, about
# CloudShell in us-east-1 to eu-west-1 (0.2 is a laptop in Vietnam to either region).
FAR_ROUND_TRIP = 0.1


@dataclass(frozen=True)
class Params:
    sizes: tuple[int, ...]  # (a) class sizes on a shared table
    endpoints: int  # (b) separate endpoints
    runs: int  # (a) rounds, (b) pairs
    big: int = 500  # (a) a class this large or larger is graded in the first round only


FULL = Params((1, 10, 100, 500), 40, 3)
QUICK = Params((1, 10, 100), 10, 1)


def in_round(p: Params, size: int, index: int) -> bool:
    """Whether class `size` is graded in round `index` (0-based): a big class once."""
    return size < p.big or index == 0


# ----- the simulator, without capacity -----------------------------------------------------
class ClassSim(SimProcess):
    """`gtcheck sim --port 0 --no-capacity` in its own process; spawned at once, ready later
    (so that many can start together)."""

    def __init__(
        self, env: dict[str, str], scratch: Path, seed: int, round_trip: float = 0.0
    ) -> None:
        self._stderr = tempfile.TemporaryFile(dir=scratch)  # noqa: SIM115 (closed in stop)
        argv = [venv_tool("gtcheck"), "sim", "--port", "0", "--no-capacity"]
        argv += ["--lag", str(LAG), "--jitter", str(JITTER), "--seed", str(seed)]
        if round_trip:
            argv += ["--round-trip", str(round_trip)]
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._stderr, env=env
        )
        self.endpoint = ""

    def ready(self) -> str:
        self.endpoint = self._await_ready()
        return self.endpoint

    def cpu_s(self) -> float:
        """The simulator's user + system time so far (0 if it cannot be read)."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mib(self) -> float:
        """The simulator's resident memory now (VmRSS), MiB; 0 if it cannot be read."""
        try:
            status = Path(f"/proc/{self.proc.pid}/status").read_text()
        except OSError:
            return 0.0
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def await_settled(self) -> None:
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while any(self.state().get("pending", {}).values()):
            if time.monotonic() > deadline:
                raise RuntimeError(f"replication still pending after {SETTLE_TIMEOUT:g} s")
            time.sleep(0.1)


@contextmanager
def simulators(
    count: int, env: dict[str, str], scratch: Path, round_trip: float = 0.0
) -> Iterator[list[ClassSim]]:
    """`count` simulators, started START_WAVE at a time, all stopped at the end."""
    started: list[ClassSim] = []
    try:
        for first in range(0, count, START_WAVE):
            wave = [
                ClassSim(env, scratch, SEED + index, round_trip)
                for index in range(first, min(count, first + START_WAVE))
            ]
            started.extend(wave)
            for sim in wave:
                sim.ready()
        yield started
    finally:
        for sim in started:  # all told at once, then each waited for
            if sim.proc.poll() is None:
                sim.proc.send_signal(signal.SIGTERM)
        for sim in started:
            sim.stop()


# ----- a complete class, written fast --------------------------------------------------
def participant_names(count: int) -> list[str]:
    """Fixed-width names: none contains another (the checks match names by substring)."""
    return [f"student{index:04d}" for index in range(1, count + 1)]


class ClassWriter(Writer):
    """boto3 in this process, straight to one simulator: whole classes in batches."""

    def batch(self, region: str, items: list[dict[str, Any]]) -> int:
        """BatchWriteItem, BATCH items a request, unprocessed items sent again; requests."""
        client, sent = self.clients[region], 0
        for start in range(0, len(items), BATCH):
            requests = [
                {"PutRequest": {"Item": templates.to_attributes(item)}}
                for item in items[start : start + BATCH]
            ]
            pending: dict[str, Any] = {TABLE: requests}
            while pending:
                answer = client.batch_write_item(RequestItems=pending)
                sent += 1
                pending = answer.get("UnprocessedItems") or {}
        return sent

    def complete_class(self, names: list[str]) -> tuple[int, int]:
        """Every participant as `gtcheck solve` leaves them (bench_cli's Writer's sequence,
        class-wide): us-east-1 first, eu-west-1 after. (items, requests)."""
        primary: list[dict[str, Any]] = []
        replica: list[dict[str, Any]] = []
        now = time.time()
        for name in names:
            placeholders = templates.Placeholders(participant=name, product_id=name)
            chosen = bot.plan(placeholders)
            primary += [chosen.user, {**chosen.order, **chosen.update_us}]
            primary.append(bot.timing_item(placeholders, PRIMARY, now))
            replica += [chosen.product, {**chosen.order, **chosen.update_eu}]
        requests = self.batch(PRIMARY, primary) + self.batch(REPLICA, replica)
        return len(primary) + len(replica), requests


def write_class(sim: ClassSim, size: int) -> tuple[float, int, int]:
    """Write a complete class of `size` and wait until it has replicated:
    (seconds, items, requests)."""
    began = time.monotonic()
    items, requests = ClassWriter(sim.endpoint).complete_class(participant_names(size))
    sim.await_settled()
    return time.monotonic() - began, items, requests


def write_roster(path: Path, names: list[str], endpoints: list[str] | None = None) -> Path:
    lines = ["participant" + (",endpoint_url" if endpoints else "")]
    for index, name in enumerate(names):
        lines.append(name + (f",{endpoints[index]}" if endpoints else ""))
    path.write_text("\n".join(lines) + "\n")
    return path


# ----- one measured grading ------------------------------------------------------------
@dataclass
class Graded:
    """One `gtcheck grade` run: its process, the gradebook, and its requests."""

    size: int
    code: int
    wall_s: float
    peak_rss_mib: float
    records: list[Relayed]
    book: dict[str, Any]
    stdout: str
    stderr: str
    cpu_s: float = 0.0  # the grading process's user + system time
    sims_cpu_s: float = 0.0  # the simulators' user + system time during the run

    @property
    def requests(self) -> int:
        return len(self.records)

    @property
    def operations(self) -> Counter[str]:
        return Counter(r.operation for r in self.records)

    @property
    def units(self) -> float:
        return sum(r.units for r in self.records)

    @property
    def units_by_size(self) -> float:
        return sum(r.units_by_size for r in self.records)

    @property
    def relay_own_s(self) -> float:
        return sum(r.own_s for r in self.records)

    @property
    def requests_without_metrics(self) -> int:
        return sum(r.operation != "GetMetricStatistics" for r in self.records)

    @property
    def scan_span_s(self) -> float:
        """First Scan page's arrival -> last one's (0 for fewer than two pages): how long
        the class's whole-table reads took, pacing on the read budget included."""
        moments = [r.started for r in self.records if r.operation == "Scan"]
        return max(moments) - min(moments) if len(moments) > 1 else 0.0

    @property
    def longest_pause_s(self) -> float:
        """The longest time between two requests' arrivals at the relays (0 for fewer
        than two): where the process read nothing, e.g. pacing itself on its budget."""
        moments = sorted(r.started for r in self.records)
        return max((b - a for a, b in itertools.pairwise(moments)), default=0.0)

    @property
    def perfect(self) -> int:
        """Participants the gradebook gives every point."""
        return sum(1 for row in self.book.get("participants", []) if row.get("score") == 100)

    @property
    def rows(self) -> int:
        return len(self.book.get("participants", []))


def grade_argv(roster: Path, report_dir: Path, endpoint: str | None) -> list[str]:
    argv = [venv_tool("gtcheck"), "grade", "--roster", str(roster)]
    if endpoint:
        argv += ["--endpoint-url", endpoint]
    return [*argv, "--report-dir", str(report_dir), "--timeout", str(GRADE_TIMEOUT)]


def run_grade(
    size: int, roster: Path, endpoint: str | None, relays: list[Relay], env: dict[str, str],
    scratch: Path, sims: Sequence[ClassSim] = (),
) -> Graded:  # fmt: skip
    """Spawn `gtcheck grade`, reap it with os.wait4 (its own rusage), collect what it sent."""
    report_dir = Path(tempfile.mkdtemp(prefix="reports-", dir=scratch))
    for relay in relays:
        relay.take()
    with (
        tempfile.TemporaryFile(dir=scratch) as out,
        tempfile.TemporaryFile(dir=scratch) as err,
    ):
        sims_before = sum(sim.cpu_s() for sim in sims)
        spawned = time.monotonic()
        proc = subprocess.Popen(
            grade_argv(roster, report_dir, endpoint),
            stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env, cwd=scratch,
        )  # fmt: skip
        killer = threading.Timer(PROCESS_TIMEOUT, lambda: os.kill(proc.pid, signal.SIGKILL))
        killer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            killer.cancel()
        wall = time.monotonic() - spawned
        sims_cpu = sum(sim.cpu_s() for sim in sims) - sims_before
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
    records = [record for relay in relays for record in relay.take()]
    book_file = report_dir / "gradebook.json"
    book = json.loads(book_file.read_text()) if book_file.exists() else {}
    shutil.rmtree(report_dir, ignore_errors=True)
    return Graded(
        size=size,
        code=proc.returncode,
        wall_s=wall,
        peak_rss_mib=usage.ru_maxrss / 1024,
        records=records,
        book=book,
        stdout=stdout,
        stderr=stderr,
        cpu_s=usage.ru_utime + usage.ru_stime,
        sims_cpu_s=sims_cpu,
    )


# ----- reporting helpers -----------------------------------------------------------------
def operations_text(runs: list[Graded]) -> str:
    ops = sorted({op for run in runs for op in run.operations})
    return ", ".join(f"{op} {med(run.operations.get(op, 0) for run in runs):g}" for op in ops)


def report_runs(
    report: Report, label: str, runs: list[Graded], counted: list[Graded] | None = None
) -> None:
    """A class size's figures: medians over its runs. With `counted`, the requests and read
    units come from those runs (made through the relays, untimed) and `runs` went straight
    to the simulators, so the relays' own CPU did not slow them."""
    size = runs[0].size
    codes = Counter(run.code for run in runs)
    report.row(
        f"{label}: exit codes (count); rows, all points",
        ", ".join(f"{c}: {n}" for c, n in sorted(codes.items()))
        + f"; {med(r.rows for r in runs):g} rows, {med(r.perfect for r in runs):g} at 100",
    )
    report.row(f"{label}: wall time, median (min .. max)", median_range([r.wall_s for r in runs]))
    report.row(
        f"{label}: peak RSS, median (max)",
        f"{med(r.peak_rss_mib for r in runs):.0f} MiB ({max(r.peak_rss_mib for r in runs):.0f})",
    )
    runs_counted = runs if counted is None else counted
    if counted is not None:
        report.row(f"{label}: counted in a separate run", "through the relays, not timed")
    report.row(
        f"{label}: requests, median (min .. max)",
        median_range([float(r.requests) for r in runs_counted], "", 0),
    )
    parts = operations_text(runs_counted).split(", ")
    for start in range(0, len(parts), 3):
        report.row(
            f"{label}: by operation, median" if start == 0 else "",
            ", ".join(parts[start : start + 3]),
        )
    units = med(r.units for r in runs_counted) or 0.0
    by_size = med(r.units_by_size for r in runs_counted) or 0.0
    report.row(
        f"{label}: read units, median; per participant",
        f"{units:g}; {units / size:.2f}  (pages by size: {by_size:g}; {by_size / size:.2f})",
    )
    report.row(
        f"{label}: longest pause; Scan first to last page",
        f"{med(r.longest_pause_s for r in runs_counted):.2f} s; "
        f"{med(r.scan_span_s for r in runs_counted):.2f} s (medians)",
    )
    own = med(r.relay_own_s for r in runs_counted) or 0.0
    report.row(f"{label}: relay's own time in a run, median", f"{own:.3f} s")
    bad = [run for run in runs + (counted or []) if run.code != 0 or run.perfect != size]
    for run in bad[:1]:
        tail = (run.stderr or run.stdout).strip().splitlines()[-3:]
        report.row(f"{label}: a run not all at 100, its last lines", " | ".join(tail)[:300])


# ----- (a) classes on a shared table -----------------------------------------------------
def measure_shared(
    report: Report, p: Params, env: dict[str, str], scratch: Path,
    results: dict[int, list[Graded]],
) -> None:  # fmt: skip
    report.section(
        f"(a) classes of {', '.join(map(str, p.sizes))} on a shared table, one simulator "
        f"each; {p.runs} round(s), order reversed every other round"
    )
    with ExitStack() as stack:
        sims = stack.enter_context(simulators(len(p.sizes), env, scratch))
        relays = {size: Relay(sim.endpoint) for size, sim in zip(p.sizes, sims, strict=True)}
        for relay in relays.values():
            stack.callback(relay.stop)
        rosters: dict[int, Path] = {}
        for size, sim in zip(p.sizes, sims, strict=True):
            took, items, requests = write_class(sim, size)
            rosters[size] = write_roster(scratch / f"class-{size}.csv", participant_names(size))
            report.row(
                f"class of {size}: written and settled",
                f"{took:.2f} s ({items} items, {requests} BatchWriteItem)",
            )
        first = p.sizes[0]
        warm = run_grade(first, rosters[first], relays[first].endpoint, [], env, scratch)
        report.row(
            "warm-up grading (class of 1, uncounted)", f"{warm.wall_s:.2f} s, exit {warm.code}"
        )
        for index in range(p.runs):
            order = p.sizes if index % 2 == 0 else p.sizes[::-1]
            for size in [size for size in order if in_round(p, size, index)]:
                relay = relays[size]
                graded = run_grade(size, rosters[size], relay.endpoint, [relay], env, scratch)
                results.setdefault(size, []).append(graded)
                print(
                    f"    round {index + 1}: class of {size}: {graded.wall_s:.2f} s, "
                    f"exit {graded.code}, {graded.requests} requests",
                    flush=True,
                )
        rss = ", ".join(
            f"{size}: {sim.rss_mib():.0f}" for size, sim in zip(p.sizes, sims, strict=True)
        )
        report.row("simulators' RSS at the end, MiB", rss)
    for size in p.sizes:
        report_runs(report, f"class of {size}", results[size])
    judge_shared(report, p, results)


def judge_shared(report: Report, p: Params, results: dict[int, list[Graded]]) -> None:
    report.section("(a) side by side: medians per class size (runs in brackets)")
    print(
        f"  {'class':>7} {'wall s':>8} {'x of 1':>7} {'ms each':>8} {'requests':>9} "
        f"{'w/o CW':>7} {'units/p':>8} {'by size':>8} {'RSS MiB':>8} {'pause s':>8}"
    )
    base = med(r.wall_s for r in results.get(p.sizes[0], [])) or 0.0
    for size in p.sizes:
        runs = results[size]
        wall = med(r.wall_s for r in runs) or 0.0
        print(
            f"  {size:>7} {wall:>8.2f} {wall / base if base else 0:>7.1f} "
            f"{1000 * wall / size:>8.0f} {med(r.requests for r in runs):>9g} "
            f"{med(r.requests_without_metrics for r in runs):>7g} "
            f"{(med(r.units for r in runs) or 0) / size:>8.2f} "
            f"{(med(r.units_by_size for r in runs) or 0) / size:>8.2f} "
            f"{max(r.peak_rss_mib for r in runs):>8.0f} "
            f"{med(r.longest_pause_s for r in runs):>8.2f}  ({len(runs)})"
        )
    print(
        "  (x of 1: wall / wall of the smallest class; ms each: wall per participant; w/o CW:"
        " requests other\n   than CloudWatch GetMetricStatistics; units/p: read units per"
        " participant, by the relay's rule,\n   by size: Scan and Query pages billed by size;"
        " RSS: the largest over runs; pause: longest\n   time between two requests)"
    )
    if 10 in results and 100 in results:
        r10, r100 = med(r.requests for r in results[10]), med(r.requests for r in results[100])
        ratio = r100 / r10 if r10 else None
        report.bar(
            "(a) requests(100) / requests(10)",
            "n/a" if ratio is None else f"{ratio:.2f}",
            f"<= {REQUESTS_RATIO_BAR:g}",
            ratio is not None and ratio <= REQUESTS_RATIO_BAR,
        )
        w10 = med(r.requests_without_metrics for r in results[10])
        w100 = med(r.requests_without_metrics for r in results[100])
        report.row(
            "  the same without GetMetricStatistics (no bar)",
            f"{w100:g} / {w10:g} = {w100 / w10:.2f}" if w10 else "n/a",
        )
    if 1 in results and 100 in results:
        per_round = [
            big.wall_s / one.wall_s for big, one in zip(results[100], results[1], strict=True)
        ]
        report.row("per-round ratios wall(100)/wall(1)", ", ".join(f"{x:.2f}" for x in per_round))
        ratio = med(per_round)
        report.bar(
            "(a) wall(100) / wall(1)",
            "n/a" if ratio is None else f"{ratio:.2f}",
            f"<= {WALL_RATIO_BAR:g}",
            ratio is not None and ratio <= WALL_RATIO_BAR,
        )
    largest = max(p.sizes)
    if largest >= 500:
        peak = max(r.peak_rss_mib for r in results[largest])
        report.bar(
            f"(a) peak RSS, class of {largest}",
            f"{peak:.0f} MiB",
            f"< {PEAK_RSS_BAR_MIB:g} MiB",
            peak < PEAK_RSS_BAR_MIB,
        )
    else:
        report.row(
            "peak RSS bar (class of 500)",
            f"not measured with --quick (largest class {largest}: "
            f"{max(r.peak_rss_mib for r in results[largest]):.0f} MiB)",
        )
    all_correct = all(
        run.code == 0 and run.perfect == size for size in p.sizes for run in results[size]
    )
    report.row("every run exit 0, every participant at 100", "yes" if all_correct else "NO")


# ----- (b) separate endpoints ------------------------------------------------------------
def measure_endpoints(
    report: Report, p: Params, env: dict[str, str], scratch: Path, round_trip: float = 0.0
) -> None:
    """Part (b). On loopback (`round_trip` 0) the bar is judged and the requests counted;
    with a round trip, as from a classroom far from AWS, the same pairs are timed and their
    ratio reported beside it, not judged."""
    count = p.endpoints
    where = f"round trip {round_trip:g} s" if round_trip else "loopback"
    report.section(
        f"(b) {count} participants on {count} separate endpoints (one simulator process "
        f"each) vs one participant on its own endpoint; {where}; {p.runs} interleaved pair(s)"
    )
    with ExitStack() as stack:
        began = time.monotonic()
        sims = stack.enter_context(simulators(count, env, scratch, round_trip))
        report.row(f"{count} simulators started", f"{time.monotonic() - began:.1f} s")
        relays = [] if round_trip else [Relay(sim.endpoint) for sim in sims]
        for relay in relays:
            stack.callback(relay.stop)
        names = participant_names(count)
        began = time.monotonic()
        for sim, name in zip(sims, names, strict=True):
            ClassWriter(sim.endpoint).complete_class([name])
        for sim in sims:
            sim.await_settled()
        report.row(f"{count} participants written and settled", f"{time.monotonic() - began:.2f} s")
        direct = [sim.endpoint for sim in sims]
        many = write_roster(scratch / f"endpoints-{count}.csv", names, direct)
        one = write_roster(scratch / "endpoints-1.csv", names[:1], direct[:1])
        warm = run_grade(1, one, None, [], env, scratch)
        report.row(
            "warm-up grading (one endpoint, uncounted)", f"{warm.wall_s:.2f} s, exit {warm.code}"
        )
        singles: list[Graded] = []
        classes: list[Graded] = []
        for index in range(p.runs):
            order = [("one", one), ("many", many)]
            for kind, roster in order if index % 2 == 0 else order[::-1]:
                if kind == "one":
                    graded = run_grade(1, roster, None, [], env, scratch, sims[:1])
                    singles.append(graded)
                else:
                    graded = run_grade(count, roster, None, [], env, scratch, sims)
                    classes.append(graded)
                print(
                    f"    pair {index + 1}: {graded.size} endpoint(s): {graded.wall_s:.2f} s, "
                    f"exit {graded.code}",
                    flush=True,
                )
        counted = [
            run_grade(size, write_roster(scratch / f"relayed-{size}.csv", names[:size],
                      [relay.endpoint for relay in relays[:size]]), None, relays[:size], env,
                      scratch)
            for size in ((1, count) if relays else ())
        ]  # fmt: skip
        if counted:
            print(
                "    counted through relays (not timed): "
                + ", ".join(f"{g.size} endpoint(s): {g.requests} requests" for g in counted),
                flush=True,
            )
        rss = [sim.rss_mib() for sim in sims]
        report.row(
            "simulators' RSS at the end: each, median (total)",
            f"{statistics.median(rss):.0f} MiB ({sum(rss) / 1024:.1f} GiB)",
        )
    if counted:
        report_runs(report, "1 endpoint", singles, counted=counted[:1])
        report_runs(report, f"{count} endpoints", classes, counted=counted[1:])
    else:
        for label, runs in (("1 endpoint", singles), (f"{count} endpoints", classes)):
            report.row(
                f"{label}: wall time, median (min .. max)", median_range([r.wall_s for r in runs])
            )
    per_pair = [m.wall_s / o.wall_s for m, o in zip(classes, singles, strict=True)]
    report.row(f"per-pair ratios wall({count})/wall(1)", ", ".join(f"{x:.2f}" for x in per_pair))
    if count != 40:
        report.row("  (the requirement names 40 endpoints)", f"{count} with --quick")
    extra = (med(m.wall_s for m in classes) or 0.0) - (med(o.wall_s for o in singles) or 0.0)
    report.row(
        "each endpoint beyond the first adds, median",
        f"{1000 * extra / max(count - 1, 1):.0f} ms",
    )
    cores = os.cpu_count() or 1
    for label, runs in (("1 endpoint", singles), (f"{count} endpoints", classes)):
        grader = med(r.cpu_s for r in runs) or 0.0
        served = med(r.sims_cpu_s for r in runs) or 0.0
        report.row(
            f"{label}: CPU of gtcheck; of the simulators",
            f"{grader:.2f} s; {served:.2f} s (medians); their sum over {cores} cores: "
            f"{(grader + served) / cores:.2f} s",
        )
    ratio = med(per_pair)
    single = med(o.wall_s for o in singles) or 0.0
    grader_cpu = med(m.cpu_s for m in classes) or 0.0
    if single:
        report.row(
            f"floor of the ratio: gtcheck's CPU for {count} / wall(1)",
            f"{grader_cpu / single:.2f}  (one process; no schedule of its requests beats it)",
        )
    label = f"(b) wall({count} endpoints) / wall(1)"
    if round_trip:
        report.row(
            f"{label}, {where}",
            "n/a" if ratio is None else f"{ratio:.2f}  (reported beside the bar, not judged)",
        )
    else:
        report.bar(
            label,
            "n/a" if ratio is None else f"{ratio:.2f}",
            f"<= {ENDPOINTS_RATIO_BAR:g}",
            ratio is not None and ratio <= ENDPOINTS_RATIO_BAR,
        )
    all_correct = all(
        run.code == 0 and run.perfect == run.size for run in singles + classes + counted
    )
    report.row("every run exit 0, every participant at 100", "yes" if all_correct else "NO")


# ----- the run ---------------------------------------------------------------------------
def print_header(p: Params, quick: bool) -> None:
    print_machine("gtcheck grade (a whole class) benchmark" + (" (--quick)" if quick else ""))
    print(
        f"  gtcheck {gtcheck.__version__}; commands from {Path(sys.executable).parent}; "
        f"each simulator in its own process: gtcheck sim --no-capacity --lag {LAG:g} "
        f"--jitter {JITTER:g} (no throttling; read units counted by the relay's rule)"
    )
    print(
        f"  measured: gtcheck grade --roster FILE --endpoint-url URL --report-dir DIR "
        f"--timeout {GRADE_TIMEOUT}, spawn to exit; peak RSS from os.wait4"
    )
    print(
        f"  (a) class sizes {', '.join(map(str, p.sizes))}, {p.runs} round(s); "
        f"(b) {p.endpoints} endpoints vs 1, {p.runs} pair(s)"
    )
    if any(size >= p.big for size in p.sizes) and p.runs > 1:
        print(
            f"  a class of {p.big} or more is graded in the first round only (it takes minutes);"
            " its figures are that one run's"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="sizes 1, 10, 100; 10 endpoints; 1 run"
    )
    parser.add_argument("--runs", type=int, default=None, help="rounds in (a), pairs in (b)")
    parser.add_argument(
        "--part", choices=("a", "b"), default=None, help="measure only (a) or only (b)"
    )
    parser.add_argument(
        "--round-trip",
        type=float,
        default=FAR_ROUND_TRIP,
        help=f"(b) again with simulators this far (gtcheck sim --round-trip; default "
        f"{FAR_ROUND_TRIP:g} s, 0 skips it)",
    )
    args = parser.parse_args(argv)
    # Ended by SIGTERM: unwind, so that every simulator this benchmark started is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    p = QUICK if args.quick else FULL
    if args.runs is not None:
        if args.runs < 1:
            parser.error("--runs must be at least 1")
        p = Params(p.sizes, p.endpoints, args.runs)
    print_header(p, args.quick)
    report = Report(label_width=58)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-grade-") as folder:
        scratch = Path(folder)
        env = child_env(scratch)
        results: dict[int, list[Graded]] = {}
        if args.part in (None, "a"):
            report.guarded("(a)", lambda: measure_shared(report, p, env, scratch, results))
        if args.part in (None, "b"):
            report.guarded("(b)", lambda: measure_endpoints(report, p, env, scratch))
            if args.round_trip > 0:
                report.guarded(
                    "(b) far",
                    lambda: measure_endpoints(report, p, env, scratch, args.round_trip),
                )
    return report.measured_only(time.perf_counter() - started, value_width=12)


if __name__ == "__main__":
    sys.exit(main())
