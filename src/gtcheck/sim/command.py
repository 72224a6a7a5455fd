"""`gtcheck sim` (serve the offline global table) and `gtcheck fault` (change a running one)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import urllib.error
import urllib.request
from typing import Any

from gtcheck import argtypes
from gtcheck.errors import EXIT_OK, EnvironmentProblem, UsageError
from gtcheck.sim.config import SimConfig, TableSetup
from gtcheck.workshop import DEFAULT_REGIONS, WORKSHOP_TABLE

DEFAULT_PORT = 4566
DEFAULT_ENDPOINT = f"http://127.0.0.1:{DEFAULT_PORT}"


def add_sim_parser(subparsers: Any, help: str | None = None) -> None:
    parser = subparsers.add_parser(
        "sim",
        help=help,
        description="Serve the workshop table as a global table over HTTP, for the AWS CLI, "
        "boto3 and gtcheck itself. Stops cleanly on Ctrl-C or SIGTERM.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument(
        "--port", type=argtypes.port, default=DEFAULT_PORT, help="port (0 picks a free one)"
    )
    parser.add_argument(
        "--regions",
        type=argtypes.regions,
        default=DEFAULT_REGIONS,
        help="comma-separated regions; the first is the primary",
    )
    parser.add_argument("--table", default=WORKSHOP_TABLE, help="the workshop table's name")
    add_replication_options(parser)
    parser.add_argument(
        "--throttle",
        type=argtypes.fraction,
        default=0.0,
        help="fraction of reads answered with ProvisionedThroughputExceeded",
    )
    parser.add_argument(
        "--replica-create-seconds",
        type=argtypes.seconds,
        default=0.0,
        help="a replica added with update-table --replica-updates stays CREATING this many "
        "seconds before it is ACTIVE (default 0: ACTIVE at once)",
    )
    parser.add_argument(
        "--burst-seconds",
        type=argtypes.seconds,
        default=300.0,
        help="unused provisioned capacity is kept for bursts up to this many seconds' worth "
        "(default 300, as DynamoDB; 0: strict, at most one second's worth)",
    )
    parser.add_argument(
        "--round-trip",
        type=argtypes.seconds,
        default=0.0,
        help="every AWS answer reaches its client this many seconds after the request left "
        "it, as from a region across an ocean (default 0: loopback)",
    )
    parser.add_argument(
        "--no-capacity",
        dest="capacity",
        action="store_false",
        help="do not enforce the tables' provisioned capacity (for throughput benchmarks)",
    )
    parser.add_argument(
        "--setup",
        choices=[s.value for s in TableSetup],
        default="global",
        help="global: the table in every region; primary: only in the first "
        "(as the workshop stack leaves it); none: no table",
    )
    parser.set_defaults(run=run_sim)


def add_replication_options(parser: argparse.ArgumentParser) -> None:
    """--lag, --jitter and --seed: how the offline global table replicates."""
    parser.add_argument(
        "--lag",
        type=argtypes.seconds,
        default=1.0,
        help="replication delay in seconds (default 1.0)",
    )
    parser.add_argument(
        "--jitter",
        type=argtypes.seconds,
        default=0.3,
        help="replication delay varies by up to this many seconds (default 0.3)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for jitter and throttling")


def add_fault_parser(subparsers: Any, help: str | None = None) -> None:
    parser = subparsers.add_parser(
        "fault",
        help=help,
        description="Change the faults of a running simulator through its control endpoint.",
    )
    parser.add_argument(
        "--endpoint-url",
        default=None,
        help=f"the simulator (default $AWS_ENDPOINT_URL or {DEFAULT_ENDPOINT})",
    )
    actions = parser.add_subparsers(dest="action", required=True, parser_class=argtypes.Parser)
    for name, verb in (("pause", "stop"), ("resume", "restart")):
        action = actions.add_parser(name, help=f"{verb} replication in one direction")
        action.add_argument("--from", dest="source", type=argtypes.region, required=True)
        action.add_argument("--to", dest="target", type=argtypes.region, required=True)
    lag = actions.add_parser("lag", help="change the replication delay")
    lag.add_argument("seconds", type=argtypes.seconds)
    lag.add_argument("--jitter", type=argtypes.seconds, default=None)
    throttle = actions.add_parser("throttle", help="throttle a fraction of reads")
    throttle.add_argument("fraction", type=argtypes.fraction)
    actions.add_parser("status", help="print the simulator's state as JSON")
    parser.set_defaults(run=run_fault)


def run_sim(args: argparse.Namespace) -> int:
    from gtcheck.sim.engine import Simulator

    config = SimConfig(
        regions=tuple(args.regions),
        table=args.table,
        lag=args.lag,
        jitter=args.jitter,
        seed=args.seed,
        throttle=args.throttle,
        setup=TableSetup(args.setup),
        replica_create_seconds=args.replica_create_seconds,
        capacity=args.capacity,
        burst_seconds=args.burst_seconds,
        round_trip=args.round_trip,
    )
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    server = Simulator(config).serve(args.host, args.port)
    try:
        print(ready_line(server.endpoint, config), flush=True)
        while not stop.wait(0.2):
            pass
    finally:
        server.stop()
    print("gtcheck sim: stopped", file=sys.stderr, flush=True)
    return EXIT_OK


def ready_line(endpoint: str, config: SimConfig) -> str:
    """One line: where it listens, what it serves, and an AWS CLI command to paste."""
    replica = config.regions[1]
    return (
        f"gtcheck sim ready at {endpoint} (table {config.table}, regions "
        f"{','.join(config.regions)}, lag {config.lag}s +-{config.jitter}s"
        f"{f', round trip {config.round_trip}s' if config.round_trip else ''}) try: "
        f"AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test aws dynamodb describe-table "
        f"--table-name {config.table} --region {replica} --endpoint-url {endpoint}"
    )


def run_fault(args: argparse.Namespace) -> int:
    endpoint = args.endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or DEFAULT_ENDPOINT
    request: dict[str, Any] = {}
    if args.action in ("pause", "resume"):
        request[args.action] = [f"{args.source}>{args.target}"]
    elif args.action == "lag":
        request["lag"] = args.seconds
        if args.jitter is not None:
            request["jitter"] = args.jitter
    elif args.action == "throttle":
        request["throttle"] = args.fraction
    state = control(endpoint, request if args.action != "status" else None)
    print(json.dumps(state, indent=2 if args.action == "status" else None, sort_keys=True))
    return EXIT_OK


def control(endpoint: str, request: dict[str, Any] | None) -> dict[str, Any]:
    """GET the state, or POST fault changes, to a simulator's control endpoint."""
    base = endpoint.rstrip("/")
    if request is None:
        http = urllib.request.Request(f"{base}/_gtcheck/state")
    else:
        http = urllib.request.Request(
            f"{base}/_gtcheck/faults",
            data=json.dumps(request).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
    try:
        with urllib.request.urlopen(http, timeout=10) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as problem:
        if problem.code != 400:  # not our control endpoint: something else listens there
            raise EnvironmentProblem(
                f"no gtcheck simulator answers at {endpoint} (HTTP {problem.code})"
            ) from None
        raise UsageError(f"the simulator refused the change: {_error_text(problem)}") from None
    except (urllib.error.URLError, OSError, ValueError) as problem:
        reason = getattr(problem, "reason", problem)
        raise EnvironmentProblem(f"no gtcheck simulator answers at {endpoint}: {reason}") from None


def _error_text(problem: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(problem.read()).get("error", problem.reason))
    except ValueError:
        return str(problem.reason)
