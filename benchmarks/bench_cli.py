"""End-to-end benchmarks of the `gtcheck` command: process start to exit, side by side.

Everything is measured as a participant meets it: real processes against `gtcheck sim`
running in its own process (the ready line gives the endpoint), with test credentials.
Three questions, each against a yardstick run in the same way, interleaved:
  (a) a settled participant: is `gtcheck check` at most 2 times one `aws dynamodb scan`?
  (b) `gtcheck --help`: at most 1.5 times `python -c "import boto3"` (same interpreter)?
  (c) fresh writes, at lags 0.5, 1 and 2 s with jitter 0 and 0.3: a complete participant
      is written just before `gtcheck check` and a naive once-a-second checker
      (benchmarks/naive_checker.py) start together. Is gtcheck's verdict earlier, is its
      detection delay at most 0.2 s, and does it spend at most 25% of the naive reader's
      read units?

Definitions used in (c):
  verdict time      a process's spawn to its exit, on this process's monotonic clock.
  last apply        when the simulator applied the last write of the run in its last region:
                    max over regions of `last_applied` from GET /_gtcheck/state, read once
                    replication is idle again (the simulator's wall clock, this machine's).
  detection delay   last apply -> the moment gtcheck's progress mark for its last
                    replication-waiting step (ex1.user_replicated ... ex5.timing_item, the
                    latest in run order) arrived on its stdout pipe. pytest writes one mark
                    per step as it ends; the marks are checked against the report's
                    statuses, and a run whose marks do not match has no such figure. The
                    delay to the process's exit is shown beside it, and the delay is
                    split in two: last apply -> gtcheck's first GetRecords on that region's
                    stream after it (waiting for the shard's next allowed call: DynamoDB
                    Streams allows 5 a second, so this is set by the phase between the
                    write and the polls, the same in every run of a jitter-0 setting), and
                    that call -> the step's mark.
  read units        every item read a process sent from start to exit, counted by a relay in
                    front of the simulator, one per process; the bar compares the units spent
                    while waiting: re-reads of a key, index partition or scan page the process
                    had read before (a BatchGetItem's share by its keys). Each read is
                    charged 0.5 unit per item read, eventually consistent, per 4 KB of the
                    item's JSON text, rounded up; a key not found costs 0.5 (GetItem,
                    BatchGetItem); a Scan or Query costs 0.5 per item scanned, at least 0.5;
                    strongly consistent reads cost double, transactional ones 4 times.
                    Stream, DescribeTable and CloudWatch requests are counted, not charged.
                    Shown beside it: Scan and Query pages billed as DynamoDB bills them, by
                    their items' total size (as gtcheck's own budget charges them).

Phases in (c): gtcheck reads each stream at most every SHARD_INTERVAL (0.22 s; DynamoDB
Streams allows 5 GetRecords a second per shard), so how long an arrival waits for the next
look depends on where the arrival falls between two looks. With jitter 0 that phase would
be the same in every run of a setting, and the setting's median one sample of it. So run i
of n starts both processes i/n of an interval after the last write (0, 0.015 .. 0.205 s for
the 15 runs of a full run): the runs sample the phases evenly, as participants who start a
check whenever they like do; 15 rather than 5, because the median of a few phases swings by
tens of milliseconds (medians of 9 ranged 0.09 .. 0.21 s over settings whose medians of 15
stay within 0.11 .. 0.16 s). Both processes start together, so the comparison stays fair.

Set-up: (a) one participant written by `gtcheck solve`, settled before the pairs run.
(c) a fresh simulator per setting; before each run the previous participant is deleted
and the deletes replicate, so the table holds one participant, as a workshop account
does. The relays and the writer run on threads of this process; the relay's own time per
request is printed. Pairs and runs alternate which command goes (or is spawned) first.

Run: .venv/bin/python benchmarks/bench_cli.py [--quick] [--runs N]
Exit status: 0 when it ran to the end, whether or not the bars were met (the summary says
which were); 2 when a part crashed. Everything talks only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import re
import selectors
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

# Dummy credentials and no instance metadata for this process's writer and every child.
TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_EC2_METADATA_DISABLED": "true",
    "NO_PROXY": "127.0.0.1,localhost",
    "LANGUAGE": "en",
}
DROPPED_ENV = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_DEFAULT_PROFILE")
os.environ.update(TEST_ENV)
for _variable in DROPPED_ENV:
    os.environ.pop(_variable, None)

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402

import gtcheck  # noqa: E402
from barsheet import Report, print_machine  # noqa: E402
from gtcheck import bot, templates  # noqa: E402
from gtcheck.sim.wsgi import region_and_service  # noqa: E402
from gtcheck.streamwatch import SHARD_INTERVAL  # noqa: E402

HOST = "127.0.0.1"
PRIMARY, REPLICA = "us-east-1", "eu-west-1"
REGIONS = (PRIMARY, REPLICA)
TABLE = "demo-ecommerce-freetier"
BENCH_DIR = Path(__file__).resolve().parent
NAIVE_SCRIPT = BENCH_DIR / "naive_checker.py"
SEED = 20261202

SETTLED_RATIO_BAR = 2.0  # (a) gtcheck check / aws scan, median of per-pair ratios
HELP_RATIO_BAR = 1.5  # (b) gtcheck --help / python -c "import boto3"
DELAY_BAR = 0.2  # (c) seconds, median detection delay
UNITS_RATIO_BAR = 0.25  # (c) gtcheck read units / naive read units, median of per-run ratios

SIM_READY_TIMEOUT = 60.0  # seconds `gtcheck sim` may take to print its ready line
IDLE_TIMEOUT = 30.0  # seconds replication may take to drain between runs
PROCESS_TIMEOUT = 180.0  # a measured process is killed after this long
NAIVE_PERIOD = 1.0
EVENTUAL_READ_UNITS = 0.5  # per 4 KB, what DynamoDB bills an eventually consistent read
READ_UNIT_BYTES = 4096
# The steps that wait for replication; the latest of them in run order ends detection.
REPLICATION_STEPS = (
    "ex1.user_replicated",
    "ex2.product_replicated",
    "ex3.order_converged",
    "ex4.gsi1_category",
    "ex4.gsi2_status",
    "ex5.timing_item",
)
READ_OPERATIONS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"})
# pytest -q's progress marks, and the report status each stands for.
MARKS = {".": "passed", "F": "failed", "s": "skipped", "E": "error", "x": "skipped", "X": "passed"}


@dataclass(frozen=True)
class Params:
    """Sample sizes; `--quick` shrinks them, `--runs` overrides them."""

    settled_pairs: int  # (a) pairs of check and scan
    help_pairs: int  # (b) pairs of --help and import boto3
    settings: tuple[tuple[float, float], ...]  # (c) (lag, jitter)
    fresh_runs: int  # (c) runs per setting, each gtcheck and naive together


FULL = Params(7, 21, ((0.5, 0.0), (0.5, 0.3), (1.0, 0.0), (1.0, 0.3), (2.0, 0.0), (2.0, 0.3)), 15)
QUICK = Params(3, 9, ((1.0, 0.3),), 3)


# ----- small helpers --------------------------------------------------------------------
def secs(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f} s"


def med(values: Iterable[float]) -> float | None:
    listed = list(values)
    return statistics.median(listed) if listed else None


def median_range(values: list[float], unit: str = " s", digits: int = 3) -> str:
    """`median (min .. max)` of a list, or n/a."""
    if not values:
        return "n/a"
    return (
        f"{statistics.median(values):.{digits}f}{unit} "
        f"({min(values):.{digits}f} .. {max(values):.{digits}f})"
    )


def awscli_version() -> str:
    try:
        from awscli import __version__
    except ImportError:
        return "?"
    return __version__


def venv_tool(name: str) -> str:
    """A command beside this interpreter (.venv/bin/NAME), as the brief's commands name it."""
    path = Path(sys.executable).parent / name
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: install the project with '.[test]'")
    return str(path)


def child_env(scratch: Path) -> dict[str, str]:
    """The environment of every measured process: test credentials, no profile or config."""
    env = {k: v for k, v in os.environ.items() if k not in DROPPED_ENV}
    env.update(TEST_ENV)
    env["AWS_CONFIG_FILE"] = str(scratch / "no-aws-config")
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(scratch / "no-aws-credentials")
    return env


def with_options(argv: list[str], options: dict[str, str]) -> list[str]:
    return argv + [word for pair in options.items() for word in pair]


def check_argv(name: str, endpoint: str, report_dir: Path) -> list[str]:
    """`gtcheck check --participant P --endpoint-url URL --report-dir DIR`, nothing more."""
    options = {"--participant": name, "--endpoint-url": endpoint, "--report-dir": str(report_dir)}
    return with_options([venv_tool("gtcheck"), "check"], options)


def fresh_name() -> str:
    """A participant name no other run's name contains (discovery matches by substring)."""
    return f"bench{uuid.uuid4().hex[:10]}"


# ----- one measured process -------------------------------------------------------------
@dataclass
class Finished:
    """A process as this benchmark saw it: when it started and ended, what it printed."""

    code: int
    spawned: float  # time.monotonic() just before the spawn
    exited: float  # time.monotonic() when wait() returned
    exited_wall: float  # time.time() at the same moment
    chunks: list[tuple[float, bytes]]  # (time.time() on arrival, stdout bytes)
    stderr: str

    @property
    def wall_s(self) -> float:
        return self.exited - self.spawned

    @property
    def stdout(self) -> str:
        return b"".join(chunk for _, chunk in self.chunks).decode(errors="replace")


class Watched:
    """A process started now, whose stdout is stamped as it arrives and whose exit is
    stamped the moment it is reaped, on a thread of its own."""

    def __init__(self, argv: list[str], env: dict[str, str], scratch: Path) -> None:
        self._stderr = tempfile.TemporaryFile(dir=scratch)  # noqa: SIM115 (closed at the end)
        self.spawned = time.monotonic()
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._stderr, env=env
        )
        self.result: Finished | None = None
        self._thread = threading.Thread(target=self._follow, daemon=True)
        self._thread.start()

    def _follow(self) -> None:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        chunks: list[tuple[float, bytes]] = []
        while chunk := os.read(fd, 65536):
            chunks.append((time.time(), chunk))
        code = self.proc.wait()
        exited, exited_wall = time.monotonic(), time.time()
        self.proc.stdout.close()
        self._stderr.seek(0)
        stderr = self._stderr.read().decode(errors="replace")
        self._stderr.close()
        self.result = Finished(code, self.spawned, exited, exited_wall, chunks, stderr)

    def finish(self, timeout: float = PROCESS_TIMEOUT) -> Finished:
        self._thread.join(timeout)
        if self._thread.is_alive():
            self.proc.kill()
            self._thread.join(10)
        if self.result is None:
            raise RuntimeError(f"{self.proc.args[:3]} did not end within {timeout:g} s")
        return self.result


def run_once(argv: list[str], env: dict[str, str], scratch: Path) -> Finished:
    return Watched(argv, env, scratch).finish()


def fail_if_bad(what: str, finished: Finished, allowed: Iterable[int] = (0,)) -> None:
    if finished.code not in allowed:
        tail = (finished.stderr or finished.stdout)[-600:]
        raise RuntimeError(f"{what} exited {finished.code}: {tail}")


# ----- the simulator in its own process -------------------------------------------------
class SimProcess:
    """`gtcheck sim --port 0` in a process of its own; its ready line gives the endpoint."""

    def __init__(self, lag: float, jitter: float, seed: int, env: dict[str, str], scratch: Path):
        self._stderr = tempfile.TemporaryFile(dir=scratch)  # noqa: SIM115 (closed at the end)
        self.proc = subprocess.Popen(
            [
                venv_tool("gtcheck"),
                "sim",
                "--port",
                "0",
                "--lag",
                str(lag),
                "--jitter",
                str(jitter),
                "--seed",
                str(seed),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env,
        )
        self.endpoint = self._await_ready()

    def _await_ready(self) -> str:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + SIM_READY_TIMEOUT
        with selectors.DefaultSelector() as selector:
            selector.register(self.proc.stdout, selectors.EVENT_READ)
            while time.monotonic() < deadline:
                if selector.select(timeout=0.5):
                    line = self.proc.stdout.readline().decode(errors="replace")
                    found = re.search(r"ready at (http://\S+)", line)
                    if found:
                        return found.group(1)
                    if not line:
                        break
        self.stop()
        raise RuntimeError(f"gtcheck sim did not get ready: {self.stderr()[-600:]}")

    def stderr(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def state(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.endpoint}/_gtcheck/state", timeout=10) as response:
            return json.loads(response.read())

    def await_idle(self) -> dict[str, Any]:
        """Poll the control endpoint (no DynamoDB request) until nothing is in flight."""
        deadline = time.monotonic() + IDLE_TIMEOUT
        while True:
            state = self.state()
            if not any(state.get("pending", {}).values()):
                return state
            if time.monotonic() > deadline:
                raise RuntimeError(f"replication still pending after {IDLE_TIMEOUT:g} s: {state}")
            time.sleep(0.05)

    def applied(self) -> dict[str, float]:
        """When the simulator last applied a write in each region (its wall clock), once idle."""
        applied = self.await_idle().get("last_applied")
        if not applied:
            raise RuntimeError("the simulator's state has no last_applied (an older gtcheck?)")
        return {region: float(moment) for region, moment in applied.items()}

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._stderr.close()


@contextmanager
def sim_process(
    lag: float, jitter: float, seed: int, env: dict[str, str], scratch: Path
) -> Iterator[SimProcess]:
    sim = SimProcess(lag, jitter, seed, env, scratch)
    try:
        yield sim
    finally:
        sim.stop()


# ----- a counting relay in front of the simulator ----------------------------------------
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection"}
)


@dataclass
class Relayed:
    """One request a measured process sent, as the relay saw it."""

    operation: str
    region: str
    started: float  # time.time()
    units: float  # read units by this benchmark's rule (0 for anything not an item read)
    units_by_size: float  # the same, with Scan and Query billed by their items' total size
    own_s: float  # the relay's own time on it, without the simulator's
    waiting_units: float = 0.0  # the part spent re-reading what this process had read before


def read_targets(operation: str, region: str, request: dict[str, Any]) -> list[str]:
    """What a read asks for, one entry per key, partition or scan page: a second request
    for the same entry is a re-read, i.e. reading while waiting."""
    if operation == "GetItem":
        return [f"{region} {json.dumps(request.get('Key'), sort_keys=True)}"]
    if operation == "BatchGetItem":
        return [
            f"{region} {json.dumps(key, sort_keys=True)}"
            for asked in (request.get("RequestItems") or {}).values()
            for key in asked.get("Keys", [])
        ]
    if operation == "Query":
        values = json.dumps(request.get("ExpressionAttributeValues"), sort_keys=True)
        return [f"{region} query {request.get('IndexName')} {values}"]
    if operation == "Scan":
        return [f"{region} scan {json.dumps(request.get('ExclusiveStartKey'), sort_keys=True)}"]
    return []


def item_units(item: dict[str, Any], per_unit: float) -> float:
    size = len(json.dumps(item, separators=(",", ":")))
    return per_unit * max(1, math.ceil(size / READ_UNIT_BYTES))


def read_units(
    operation: str, request: dict[str, Any], answer: dict[str, Any]
) -> tuple[float, float]:
    """What an item read costs: by this benchmark's rule (see the module's docstring), and
    with a Scan or Query page billed as DynamoDB does, by its items' total size."""
    if operation in ("Scan", "Query"):
        per_unit = EVENTUAL_READ_UNITS * (2 if request.get("ConsistentRead") else 1)
        items = answer.get("Items") or []
        unreturned = max(0, int(answer.get("ScannedCount", len(items))) - len(items))
        units = sum(item_units(item, per_unit) for item in items) + per_unit * unreturned
        size = sum(len(json.dumps(item, separators=(",", ":"))) for item in items)
        return max(per_unit, units), per_unit * max(1, math.ceil(size / READ_UNIT_BYTES))
    units = item_read_units(operation, request, answer)
    return units, units


def item_read_units(operation: str, request: dict[str, Any], answer: dict[str, Any]) -> float:
    """GetItem, BatchGetItem and TransactGetItems: per item, per started 4 KB."""
    per_unit = EVENTUAL_READ_UNITS * (2 if request.get("ConsistentRead") else 1)
    if operation == "GetItem":
        item = answer.get("Item")
        return item_units(item, per_unit) if item else per_unit
    if operation == "BatchGetItem":
        units = 0.0
        for table, asked in (request.get("RequestItems") or {}).items():
            per_key = EVENTUAL_READ_UNITS * (2 if asked.get("ConsistentRead") else 1)
            left = len(((answer.get("UnprocessedKeys") or {}).get(table) or {}).get("Keys", []))
            found = (answer.get("Responses") or {}).get(table, [])
            units += sum(item_units(item, per_key) for item in found)
            units += per_key * max(0, len(asked.get("Keys", [])) - left - len(found))
        return units
    # TransactGetItems: 2 units per 4 KB per item.
    items = [r.get("Item") for r in answer.get("Responses") or []]
    return sum(item_units(i, 4 * EVENTUAL_READ_UNITS) if i else 2.0 for i in items) or 2.0


class Relay:
    """An HTTP relay on 127.0.0.1 that forwards every request to the simulator unchanged and
    records what it was: operation, region, read units. One per measured process, so each
    process's reads are its own even when two run at once. It runs on threads of this
    benchmark process; `own_s` says what it adds per request."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or HOST, parts.port or 80)
        self.records: list[Relayed] = []
        self._seen: set[str] = set()
        self._lock = threading.Lock()
        relay = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body leave in two writes: with Nagle's algorithm on, the client's
            # delayed ACK would hold the body back some 40 ms, a stall the direct path to
            # the simulator does not have.
            disable_nagle_algorithm = True
            connection_upstream: http.client.HTTPConnection | None = None

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                relay.forward(self)

            do_GET = do_POST

            def finish(self) -> None:
                if self.connection_upstream is not None:
                    self.connection_upstream.close()
                super().finish()

        self._server = ThreadingHTTPServer((HOST, 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def take(self) -> list[Relayed]:
        """The records so far, and start again."""
        with self._lock:
            records, self.records = self.records, []
            self._seen = set()
        return records

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _exchange(
        self, handler: Any, body: bytes, headers: list[tuple[str, str]]
    ) -> tuple[http.client.HTTPResponse, bytes]:
        for attempt in (1, 2):  # a kept-alive connection the server closed: once more
            if handler.connection_upstream is None:
                handler.connection_upstream = http.client.HTTPConnection(*self.upstream, timeout=60)
            connection = handler.connection_upstream
            try:
                connection.putrequest(
                    handler.command, handler.path, skip_host=True, skip_accept_encoding=True
                )
                for name, value in headers:
                    connection.putheader(name, value)
                connection.putheader("Content-Length", str(len(body)))
                connection.endheaders(body)
                response = connection.getresponse()
                return response, response.read()
            except (http.client.HTTPException, ConnectionError):
                connection.close()
                handler.connection_upstream = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def forward(self, handler: Any) -> None:
        began, began_wall = time.perf_counter(), time.time()
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        headers = [(k, v) for k, v in handler.headers.items() if k.lower() not in HOP_BY_HOP]
        asked = time.perf_counter()
        response, payload = self._exchange(handler, body, headers)
        answered = time.perf_counter()
        handler.send_response_only(response.status, response.reason)
        for name, value in response.getheaders():
            if name.lower() not in HOP_BY_HOP:
                handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)
        handler.wfile.flush()
        sent = time.perf_counter()
        target = handler.headers.get("X-Amz-Target", "")
        operation = target.split(".", 1)[1] if "." in target else handler.path
        region, _ = region_and_service(handler.headers.get("Authorization", ""))
        units = by_size = waiting = 0.0
        targets: list[str] = []
        if operation in READ_OPERATIONS and response.status == 200:
            request, answer = json.loads(body or b"{}"), json.loads(payload or b"{}")
            units, by_size = read_units(operation, request, answer)
            targets = read_targets(operation, region, request)
        own = (asked - began) + (sent - answered)
        with self._lock:
            if targets:
                again = sum(target in self._seen for target in targets)
                waiting = units * again / len(targets)
                self._seen.update(targets)
            self.records.append(
                Relayed(operation, region, began_wall, units, by_size, own, waiting)
            )


# ----- the participant's writes ---------------------------------------------------------
class Writer:
    """boto3 clients in this process, straight to the simulator (not through a relay)."""

    def __init__(self, endpoint: str) -> None:
        config = Config(retries={"total_max_attempts": 3}, connect_timeout=5, read_timeout=30)
        session = boto3.session.Session()
        self.clients = {
            region: session.client(
                "dynamodb", region_name=region, endpoint_url=endpoint, config=config
            )
            for region in REGIONS
        }

    def put(self, region: str, item: dict[str, Any]) -> tuple[str, str]:
        self.clients[region].put_item(TableName=TABLE, Item=templates.to_attributes(item))
        return item["PK"], item["SK"]

    def complete_participant(self, name: str) -> list[tuple[str, str]]:
        """What `gtcheck solve` leaves, written back to back with no wait between: the user
        and the order with the US update in us-east-1, the product and the order with the
        EU update in eu-west-1 (the later write, so it wins everywhere), the timing item."""
        placeholders = templates.Placeholders(participant=name, product_id=name)
        chosen = bot.plan(placeholders)
        user = self.put(PRIMARY, chosen.user)
        order = self.put(PRIMARY, {**chosen.order, **chosen.update_us})
        product = self.put(REPLICA, chosen.product)
        self.put(REPLICA, {**chosen.order, **chosen.update_eu})
        timing = self.put(PRIMARY, bot.timing_item(placeholders, PRIMARY, time.time()))
        return [user, product, order, timing]

    def delete(self, keys: list[tuple[str, str]]) -> None:
        """Remove a participant (the deletes replicate), so each run's table holds one."""
        for pk, sk in keys:
            self.clients[PRIMARY].delete_item(
                TableName=TABLE, Key={"PK": {"S": pk}, "SK": {"S": sk}}
            )


# ----- (a) a settled participant --------------------------------------------------------
@dataclass
class Pairs:
    """Interleaved runs of A and B; pair i runs A first when i is even, B first when odd."""

    a: list[Finished] = field(default_factory=list)
    b: list[Finished] = field(default_factory=list)

    def ratios(self) -> list[float]:
        return [x.wall_s / y.wall_s for x, y in zip(self.a, self.b, strict=True)]


def interleave(pairs: int, run_a: Callable[[], Finished], run_b: Callable[[], Finished]) -> Pairs:
    result = Pairs()
    for index in range(pairs):
        order = ((run_a, result.a), (run_b, result.b))
        for run, kept in order if index % 2 == 0 else order[::-1]:
            kept.append(run())
    return result


def report_phases(report: Report, runs: list[Finished]) -> None:
    parts = [found for found in (phases(f) for f in runs) if found]
    if not parts:
        report.row("gtcheck check: parts of its time", "n/a (no progress marks)")
        return
    names = ("spawn -> first step", "first -> last step", "last step -> exit")
    shown = ", ".join(f"{n} {med(p[i] for p in parts):.2f} s" for i, n in enumerate(names))
    report.row("gtcheck check: parts of its time, medians", shown)


def report_pairs(report: Report, name: str, a: str, b: str, pairs: Pairs, bar: float) -> None:
    walls_a = [f.wall_s for f in pairs.a]
    walls_b = [f.wall_s for f in pairs.b]
    report.row(f"{a}: wall time, median (min .. max)", median_range(walls_a))
    report.row(f"{b}: wall time, median (min .. max)", median_range(walls_b))
    ratios = pairs.ratios()
    report.row("per-pair ratios", ", ".join(f"{r:.2f}" for r in ratios))
    median_a, median_b = med(walls_a), med(walls_b)
    if median_a is not None and median_b:
        report.row("ratio of the medians", f"{median_a / median_b:.2f}")
    ratio = med(ratios)
    shown = "n/a" if ratio is None else f"{ratio:.2f}"
    report.bar(name, shown, f"<= {bar:g}", ratio is not None and ratio <= bar)


def measure_settled(report: Report, p: Params, env: dict[str, str], scratch: Path) -> None:
    report.section(
        f"(a) settled participant: gtcheck check vs one aws dynamodb scan, {p.settled_pairs} "
        "interleaved pairs (lag 1 s, jitter 0.3)"
    )
    report_dir = scratch / "reports-settled"
    with sim_process(1.0, 0.3, SEED, env, scratch) as sim:
        name = fresh_name()
        solved = run_once(
            [venv_tool("gtcheck"), "solve", "--participant", name, "--endpoint-url", sim.endpoint],
            env,
            scratch,
        )
        fail_if_bad("gtcheck solve", solved)
        sim.await_idle()
        check = check_argv(name, sim.endpoint, report_dir)
        scan = with_options(
            [venv_tool("aws"), "dynamodb", "scan"],
            {"--table-name": TABLE, "--region": PRIMARY, "--endpoint-url": sim.endpoint},
        )
        for warm in (check, scan):  # uncounted: first runs fill caches
            fail_if_bad(warm[1], run_once(warm, env, scratch))
        pairs = interleave(
            p.settled_pairs,
            lambda: run_once(check, env, scratch),
            lambda: run_once(scan, env, scratch),
        )
    for finished in pairs.a:
        fail_if_bad("gtcheck check (settled)", finished)
    for finished in pairs.b:
        fail_if_bad("aws dynamodb scan", finished)
    score = re.findall(r"score (\d+) / (\d+)", pairs.a[-1].stdout) if pairs.a else []
    report.row(
        "gtcheck check: exit codes, score of the last run",
        f"all 0, {' / '.join(score[-1]) if score else 'n/a'}",
    )
    report_pairs(
        report,
        "(a) settled: check / aws scan",
        "gtcheck check",
        "aws dynamodb scan",
        pairs,
        SETTLED_RATIO_BAR,
    )
    report_phases(report, pairs.a)


# ----- (b) help -------------------------------------------------------------------------
def measure_help(report: Report, p: Params, env: dict[str, str], scratch: Path) -> None:
    report.section(
        f'(b) gtcheck --help vs python -c "import boto3", {p.help_pairs} interleaved pairs'
    )
    help_argv = [venv_tool("gtcheck"), "--help"]
    boto_argv = [venv_tool("python"), "-c", "import boto3"]
    for warm in (help_argv, boto_argv):
        fail_if_bad(warm[-1], run_once(warm, env, scratch))
    pairs = interleave(
        p.help_pairs,
        lambda: run_once(help_argv, env, scratch),
        lambda: run_once(boto_argv, env, scratch),
    )
    for finished in pairs.a + pairs.b:
        fail_if_bad("help or import", finished)
    report_pairs(
        report,
        "(b) --help / import boto3",
        "gtcheck --help",
        "python -c 'import boto3'",
        pairs,
        HELP_RATIO_BAR,
    )


# ----- (c) fresh writes -----------------------------------------------------------------
@dataclass
class FreshRun:
    """One run of (c): gtcheck and the naive checker started together on fresh writes."""

    check: Finished
    naive: Finished
    gtcheck_first: bool
    last_apply: float  # wall clock
    last_region: str  # where the last apply happened
    written: float  # wall clock, when the last write was acknowledged
    statuses: dict[str, str]  # step id -> status, from the report
    step_marked: float | None  # wall clock, the last replication step's mark arrived
    mark_problem: str | None
    check_records: list[Relayed]
    naive_records: list[Relayed]
    naive_summary: dict[str, Any]

    @property
    def delay_step(self) -> float | None:
        return None if self.step_marked is None else self.step_marked - self.last_apply

    @property
    def poll_wait(self) -> float | None:
        """Last apply -> the first GetRecords gtcheck sent to that region's stream after it:
        the part of the detection delay spent waiting for the shard's next allowed call."""
        polls = [
            r.started
            for r in self.check_records
            if r.operation == "GetRecords"
            and r.region == self.last_region
            and r.started >= self.last_apply
        ]
        return min(polls) - self.last_apply if polls else None

    @property
    def delay_exit(self) -> float:
        return self.check.exited_wall - self.last_apply

    @property
    def check_units(self) -> float:
        return sum(r.units for r in self.check_records)

    @property
    def naive_units(self) -> float:
        return sum(r.units for r in self.naive_records)

    @property
    def check_waiting_units(self) -> float:
        return sum(r.waiting_units for r in self.check_records)

    @property
    def naive_waiting_units(self) -> float:
        return sum(r.waiting_units for r in self.naive_records)

    @property
    def check_units_by_size(self) -> float:
        return sum(r.units_by_size for r in self.check_records)


def progress_marks(finished: Finished) -> list[tuple[str, float]]:
    """pytest -q's progress marks in order, each with the time its bytes arrived: the
    output's first lines up to the first that does not start with a mark (a long run
    wraps its marks, each line ending in a percentage)."""
    marks: list[tuple[str, float]] = []
    line_start, in_marks = True, True
    for arrived, chunk in finished.chunks:
        for char in chunk.decode(errors="replace"):
            if char == "\n":
                line_start, in_marks = True, True
                continue
            if line_start and char not in MARKS:
                return marks
            line_start = False
            if in_marks and char in MARKS:
                marks.append((char, arrived))
            else:
                in_marks = False  # the rest of the line: spaces and [ nn%]
    return marks


def phases(finished: Finished) -> tuple[float, float, float] | None:
    """gtcheck check's time in three parts: spawn -> first step's mark (start-up and the
    first step), first -> last mark (the other steps), last mark -> exit (report, exit)."""
    marks = progress_marks(finished)
    if not marks:
        return None
    offset = finished.exited_wall - finished.exited  # this process's wall minus monotonic
    first, last = marks[0][1] - offset, marks[-1][1] - offset
    return first - finished.spawned, last - first, finished.exited - last


def last_replication_mark(
    finished: Finished, steps: list[dict[str, Any]]
) -> tuple[float | None, str | None]:
    """When the mark of the last replication-waiting step arrived, if the marks line up
    with the report's steps and every one of those steps passed; else (None, why)."""
    marks = progress_marks(finished)
    if len(marks) != len(steps):
        return None, f"{len(marks)} progress marks for {len(steps)} steps"
    moment = None
    for (mark, arrived), step in zip(marks, steps, strict=True):
        if MARKS[mark] != step.get("status"):
            return None, f"mark {mark!r} but {step.get('id')} {step.get('status')}"
        if step.get("id") in REPLICATION_STEPS:
            if step.get("status") != "passed":
                return None, f"{step.get('id')} {step.get('status')}"
            moment = arrived
    return moment, None if moment is not None else "no replication step ran"


def fresh_run(
    sim: SimProcess,
    writer: Writer,
    relays: tuple[Relay, Relay],
    gtcheck_first: bool,
    env: dict[str, str],
    scratch: Path,
    pause: float = 0.0,
) -> tuple[FreshRun, list[tuple[str, str]]]:
    """Write one participant, start gtcheck and the naive checker together `pause` seconds
    later, wait for both."""
    check_relay, naive_relay = relays
    report_dir = scratch / "reports-fresh"
    name = fresh_name()
    sim.await_idle()
    check_relay.take()
    naive_relay.take()
    keys = writer.complete_participant(name)
    written = time.time()
    time.sleep(pause)
    gtcheck_argv = check_argv(name, check_relay.endpoint, report_dir)
    naive_argv = [venv_tool("python"), str(NAIVE_SCRIPT), "--endpoint-url", naive_relay.endpoint]
    naive_argv += ["--period", str(NAIVE_PERIOD), "--deadline", str(PROCESS_TIMEOUT - 30)]
    for pk, sk in keys:
        naive_argv += ["--key", pk, sk]
    starts = [(gtcheck_argv, "check"), (naive_argv, "naive")]
    watched = {
        kind: Watched(argv, env, scratch)
        for argv, kind in (starts if gtcheck_first else starts[::-1])
    }
    check, naive = watched["check"].finish(), watched["naive"].finish()
    applied = sim.applied()
    last_region = max(applied, key=applied.__getitem__)
    last_apply = applied[last_region]
    report_file = report_dir / f"{name}.json"
    steps = json.loads(report_file.read_text())["steps"] if report_file.exists() else []
    marked, problem = last_replication_mark(check, steps) if steps else (None, "no report")
    lines = [line for line in naive.stdout.splitlines() if line.startswith("{")]
    run = FreshRun(
        check=check,
        naive=naive,
        gtcheck_first=gtcheck_first,
        last_apply=last_apply,
        last_region=last_region,
        written=written,
        statuses={step["id"]: step["status"] for step in steps},
        step_marked=marked,
        mark_problem=problem,
        check_records=check_relay.take(),
        naive_records=naive_relay.take(),
        naive_summary=json.loads(lines[-1]) if lines else {},
    )
    return run, keys


def run_setting(
    lag: float, jitter: float, runs: int, seed: int, env: dict[str, str], scratch: Path
) -> list[FreshRun]:
    """A fresh simulator for one (lag, jitter); runs alternate which process starts first,
    start after the writes by pauses spread evenly over one stream poll interval (see
    docstring's Phases), and each run's participant is deleted before the next is written."""
    results: list[FreshRun] = []
    with sim_process(lag, jitter, seed, env, scratch) as sim:
        writer = Writer(sim.endpoint)
        relays = (Relay(sim.endpoint), Relay(sim.endpoint))
        try:
            for index in range(runs):
                pause = SHARD_INTERVAL * index / runs
                run, keys = fresh_run(sim, writer, relays, index % 2 == 0, env, scratch, pause)
                results.append(run)
                writer.delete(keys)
        finally:
            for relay in relays:
                relay.stop()
    return results


def operations(records: list[Relayed]) -> Counter[str]:
    return Counter(r.operation for r in records)


def report_setting(report: Report, lag: float, jitter: float, runs: list[FreshRun]) -> None:
    """Each figure as a median over runs; ratios per run (gtcheck and naive ran together)."""
    label = f"lag {lag:g}/jitter {jitter:g}"
    report.section(f"(c) fresh writes, {label}: {len(runs)} runs, gtcheck and naive together")
    codes = Counter((r.check.code, r.naive.code) for r in runs)
    report.row(
        "exit codes (gtcheck, naive): count",
        ", ".join(f"{c}: {n}" for c, n in sorted(codes.items())),
    )
    not_passed = Counter(
        f"{step}={status}"
        for r in runs
        for step, status in r.statuses.items()
        if status != "passed"
    )
    report.row(
        "gtcheck steps not passed (count)",
        ", ".join(f"{k} x{n}" for k, n in not_passed.items()) or "none",
    )
    settle = [r.last_apply - r.written for r in runs]
    report.row("last write -> last apply (replication itself)", median_range(settle))
    check_verdicts = [r.check.wall_s for r in runs]
    naive_verdicts = [r.naive.wall_s for r in runs]
    report.row("gtcheck: verdict (start -> exit)", median_range(check_verdicts))
    report_phases(report, [r.check for r in runs])
    report.row("naive: verdict (start -> exit)", median_range(naive_verdicts))
    report.row(
        "naive: rounds, median",
        f"{med(r.naive_summary.get('rounds', 0) for r in runs):g}",
    )
    ratios = [r.check.wall_s / r.naive.wall_s for r in runs]
    report.row("per-run verdict ratios gtcheck/naive", ", ".join(f"{x:.2f}" for x in ratios))
    mine, theirs = med(check_verdicts), med(naive_verdicts)
    wrong = sum(r.check.code != 0 for r in runs)
    if wrong:
        report.row("gtcheck runs whose verdict was not a pass", f"{wrong} (the bar needs none)")
    earlier = mine is not None and theirs is not None and mine < theirs and not wrong
    report.bar(
        f"(c) {label}: verdict earlier than naive",
        "n/a" if mine is None or theirs is None else f"{mine:.2f} vs {theirs:.2f} s",
        "earlier",
        earlier,
    )
    delays = [r.delay_step for r in runs if r.delay_step is not None]
    problems = Counter(r.mark_problem for r in runs if r.mark_problem)
    report.row("detection delay: last apply -> last replication step", median_range(delays))
    if problems:
        report.row(
            "  runs without that figure", ", ".join(f"{k} x{n}" for k, n in problems.items())
        )
    report.row("  negative (step passed before the last apply)", str(sum(d < 0 for d in delays)))
    split = [
        (r.poll_wait, r.delay_step - r.poll_wait)
        for r in runs
        if r.poll_wait is not None and r.delay_step is not None
    ]
    report.row(
        "  of it: last apply -> next GetRecords on that stream",
        f"{median_range([wait for wait, _ in split])} (one per {SHARD_INTERVAL:g} s per shard)",
    )
    report.row(
        "  of it: that GetRecords -> the step's mark",
        median_range([rest for _, rest in split]),
    )
    report.row("last apply -> gtcheck exit", median_range([r.delay_exit for r in runs]))
    report.row(
        "last apply -> naive exit",
        median_range([r.naive.exited_wall - r.last_apply for r in runs if r.naive.code == 0]),
    )
    delay = med(delays)
    report.bar(
        f"(c) {label}: detection delay",
        secs(delay),
        f"<= {DELAY_BAR:g} s",
        delay is not None and delay <= DELAY_BAR,
    )
    report_reads(report, label, runs)


def report_reads(report: Report, label: str, runs: list[FreshRun]) -> None:
    check_units = [r.check_units for r in runs]
    naive_units = [r.naive_units for r in runs]
    report.row("gtcheck: read units, median (min .. max)", median_range(check_units, "", 1))
    report.row("naive: read units, median (min .. max)", median_range(naive_units, "", 1))
    report.row(
        "  gtcheck's with Scan and Query billed by size, median",
        f"{med(r.check_units_by_size for r in runs):g} (naive's: the same, GetItem only)",
    )
    ops = sorted({op for r in runs for op in operations(r.check_records)})
    parts = [f"{op} {med(operations(r.check_records).get(op, 0) for r in runs):g}" for op in ops]
    for start in range(0, len(parts), 4):
        report.row(
            "gtcheck: requests by operation, median" if start == 0 else "",
            ", ".join(parts[start : start + 4]),
        )
    report.row(
        "naive: GetItem requests, median",
        f"{med(operations(r.naive_records).get('GetItem', 0) for r in runs):g}",
    )
    report.row(
        "read units while waiting (re-reads), gtcheck / naive",
        f"{med(r.check_waiting_units for r in runs):g} / "
        f"{med(r.naive_waiting_units for r in runs):g} (median)",
    )
    ratios = [r.check_waiting_units / r.naive_waiting_units for r in runs if r.naive_waiting_units]
    report.row(
        "per-run ratios of units while waiting, gtcheck/naive",
        ", ".join(f"{x:.2f}" for x in ratios) or "n/a (the naive reader never re-read)",
    )
    own = [rec.own_s * 1000 for r in runs for rec in r.check_records + r.naive_records]
    report.row(
        "relay's own time per request, median (max)",
        f"{med(own) or 0:.2f} ms ({max(own, default=0):.2f} ms)",
    )
    ratio = med(ratios)
    report.bar(
        f"(c) {label}: read units while waiting / naive's",
        "n/a" if ratio is None else f"{ratio:.2f}",
        f"<= {UNITS_RATIO_BAR:g}",
        ratio is not None and ratio <= UNITS_RATIO_BAR,
    )


def measure_fresh(
    report: Report,
    lag: float,
    jitter: float,
    p: Params,
    seed: int,
    env: dict[str, str],
    scratch: Path,
    measured: list[tuple[float, float, list[FreshRun]]],
) -> None:
    runs = run_setting(lag, jitter, p.fresh_runs, seed, env, scratch)
    measured.append((lag, jitter, runs))
    report_setting(report, lag, jitter, runs)


def report_overview(report: Report, measured: list[tuple[float, float, list[FreshRun]]]) -> None:
    """(c) side by side: one line per setting, medians over its runs (no new bars)."""
    report.section("(c) overview, medians per setting: verdict gtcheck / naive, delay, units")
    earlier = 0
    for lag, jitter, runs in measured:
        mine = med(r.check.wall_s for r in runs)
        theirs = med(r.naive.wall_s for r in runs)
        delay = med(r.delay_step for r in runs if r.delay_step is not None)
        units = med(
            r.check_waiting_units / r.naive_waiting_units for r in runs if r.naive_waiting_units
        )
        if mine is not None and theirs is not None and mine < theirs:
            earlier += 1
        report.row(
            f"lag {lag:g} s, jitter {jitter:g}",
            f"{secs(mine)} / {secs(theirs)}, delay {secs(delay)}, "
            f"units {'n/a' if units is None else f'{units:.2f}'}x naive's",
        )
    report.row("settings where gtcheck's verdict came earlier", f"{earlier} of {len(measured)}")


# ----- the run ---------------------------------------------------------------------------
def print_header(p: Params, quick: bool) -> None:
    print_machine("gtcheck end-to-end (CLI) benchmark" + (" (--quick)" if quick else ""))
    print(
        f"  gtcheck {gtcheck.__version__}, aws-cli {awscli_version()}; commands from "
        f"{Path(sys.executable).parent}; the simulator in its own process"
    )
    print(
        "  bars: (a), (b) and the read units are medians of per-pair ratios; verdicts and "
        "delays are medians over runs"
    )
    print(
        f"  (a) {p.settled_pairs} pairs; (b) {p.help_pairs} pairs; pairs alternate which runs first"
    )
    settings = ", ".join(f"{lag:g}/{jitter:g}" for lag, jitter in p.settings)
    print(f"  (c) lag/jitter in s: {settings}; a fresh simulator per setting")
    print(
        f"      {p.fresh_runs} runs each, gtcheck and naive started together, alternating which "
        f"is spawned first; naive reads 4 keys x {len(REGIONS)} regions every {NAIVE_PERIOD:g} s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one setting, few runs")
    parser.add_argument(
        "--runs",
        type=int,
        default=None,
        help="pairs in (a), runs per setting in (c); (b) takes three times as many",
    )
    args = parser.parse_args(argv)
    p = QUICK if args.quick else FULL
    if args.runs is not None:
        if args.runs < 1:
            parser.error("--runs must be at least 1")
        p = Params(args.runs, 3 * args.runs, p.settings, args.runs)
    print_header(p, args.quick)
    report = Report(label_width=56)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as folder:
        scratch = Path(folder)
        env = child_env(scratch)
        report.guarded("(a)", lambda: measure_settled(report, p, env, scratch))
        report.guarded("(b)", lambda: measure_help(report, p, env, scratch))
        measured: list[tuple[float, float, list[FreshRun]]] = []
        for index, (lag, jitter) in enumerate(p.settings):
            report.guarded(
                f"(c) lag {lag:g} jitter {jitter:g}",
                lambda lag=lag, jitter=jitter, index=index: measure_fresh(
                    report, lag, jitter, p, SEED + index, env, scratch, measured
                ),
            )
        if measured:
            report_overview(report, measured)
    return report.measured_only(time.perf_counter() - started, value_width=16)


if __name__ == "__main__":
    sys.exit(main())
