"""`gtcheck demo`: the whole product in one command, offline.

It starts the offline global table in process, performs the workshop as participant
`demo` (with real replication waits), grades it and writes the report: what a session
looks like, with no AWS account and no network.
"""

from __future__ import annotations

import argparse
from typing import Any

from gtcheck import argtypes, check, i18n
from gtcheck.aws import Clients, Target
from gtcheck.bot import solve
from gtcheck.config import Runtime
from gtcheck.options import DEFAULT_TIMEOUT, add_report_dir_option, participant
from gtcheck.sim import SimConfig, Simulator
from gtcheck.sim.command import add_replication_options
from gtcheck.templates import Placeholders
from gtcheck.workshop import DEFAULT_REGIONS, WORKSHOP_TABLE


def run_demo(args: argparse.Namespace) -> int:
    config = SimConfig(
        regions=tuple(args.regions), lag=args.lag, jitter=args.jitter, seed=args.seed
    )
    print(
        f"gtcheck demo: offline global table {config.table} in {','.join(config.regions)}, "
        f"lag {config.lag}s +-{config.jitter}s",
        flush=True,
    )
    sim = Simulator(config)
    sim.start()
    try:
        session = sim.session()
        target = Target(table=config.table, regions=config.regions)
        solve(
            Clients(target, session, read_only=False),
            target,
            Placeholders(participant=args.participant, product_id=args.participant),
            timeout=DEFAULT_TIMEOUT,
            log=lambda line: print(line, flush=True),
            language=args.lang or i18n.default_language(),
        )
        print(f"gtcheck demo: grading {args.participant}", flush=True)
        check_args = argparse.Namespace(
            participant=args.participant,
            product_id=args.participant,
            endpoint_url=None,
            profile=None,
            table=config.table,
            regions=config.regions,
            timeout=DEFAULT_TIMEOUT,
            report_dir=args.report_dir,
            lang=args.lang,
        )
        shown = {"endpoint": "gtcheck demo: the offline global table, in process"}
        code, _ = check.run(check_args, Runtime(session=session, extra=shown))
    finally:
        sim.stop()
    return code


def add_parser(subparsers: Any, help: str | None = None) -> None:
    parser = subparsers.add_parser(
        "demo",
        help=help,
        description="Run the whole workshop offline: the simulator in process, a participant "
        "bot solving every step, then the graded check and its report.",
    )
    parser.add_argument(
        "--participant", type=participant, default="demo", help="the bot's name (default demo)"
    )
    parser.add_argument(
        "--regions",
        type=argtypes.regions,
        default=DEFAULT_REGIONS,
        help="comma-separated regions (default us-east-1,eu-west-1)",
    )
    add_replication_options(parser)
    add_report_dir_option(parser)
    check.add_language_option(parser)
    parser.set_defaults(run=run_demo, table=WORKSHOP_TABLE)
