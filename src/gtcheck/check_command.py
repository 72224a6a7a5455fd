"""`gtcheck check` on the command line: its options, and a run whose first look at AWS
begins before pytest is even loaded.

This module stays light (no pytest, no AWS SDK at import): `gtcheck check` starts the
first look on a thread (gtcheck.headstart) and only then loads pytest and the checks
(gtcheck.check), so the two overlap.
"""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING, Any

from gtcheck import argtypes, i18n
from gtcheck.config import Runtime
from gtcheck.options import (
    add_participant_options,
    add_report_dir_option,
    add_target_options,
    target_from_args,
)

if TYPE_CHECKING:
    from gtcheck.headstart import HeadStart


def add_parser(subparsers: Any, help: str | None = None) -> None:
    parser = subparsers.add_parser(
        "check",
        help=help,
        description="Check every workshop step for participant N, waiting for replication "
        "where needed, and write the graded report. Never writes to the table.",
    )
    add_participant_options(parser)
    add_target_options(parser)
    add_report_dir_option(parser)
    add_language_option(parser)
    parser.add_argument(
        "--no-html",
        action="store_true",
        help="write only N.json, not the HTML report (a little faster)",
    )
    parser.add_argument(
        "--watch",
        action="store_true",
        help="check again and again until every graded step passes (Ctrl-C stops)",
    )
    parser.add_argument(
        "--every",
        type=argtypes.seconds,
        default=10.0,
        help="seconds between checks with --watch (default 10)",
    )
    parser.set_defaults(run=run_command)


def add_language_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lang",
        choices=i18n.LANGUAGES,
        default=None,
        help="language of titles, hints and reports (default: from LANGUAGE, LC_ALL, "
        "LC_MESSAGES or LANG; Vietnamese when it starts with vi, else English)",
    )


def run_command(args: argparse.Namespace) -> int:
    if args.lang:
        i18n.set_language(args.lang)  # also for what --watch prints between runs
    if args.profile:  # a profile that is not configured is the user's to fix: exit 2
        from gtcheck import aws

        aws.make_session(target_from_args(args))
    if args.watch:
        from gtcheck import check

        return check.watch(args, lambda: run_started(args))
    return run_started(args)


def run_started(args: argparse.Namespace) -> int:
    """One check whose first look at AWS begins at once, before pytest is loaded."""
    from gtcheck import headstart

    runtime = Runtime()
    runtime.extra[headstart.RUNTIME_KEY] = head_start(args, runtime)
    from gtcheck import check  # pytest, the plugin and the checks: while the thread reads

    return check.run(args, runtime)[0]


def head_start(args: argparse.Namespace, runtime: Runtime) -> HeadStart:
    """The world the grading plugin would make for this check, given its first look on a
    thread (the plugin takes it only for the same target)."""
    from gtcheck import aws, workshop
    from gtcheck.converge import World
    from gtcheck.headstart import HeadStart

    world = World(
        aws.Clients(target_from_args(args), runtime.session, read_only=True),
        timeout=args.timeout,
        monotonic=runtime.monotonic or time.monotonic,
        sleep=runtime.sleep or time.sleep,
    )
    return HeadStart(world, workshop.FIRST_LOOK_INDEXES)
