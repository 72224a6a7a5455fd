"""`gtcheck solve` and `gtcheck cleanup`: the command-line doors onto the participant bot.

The bot itself (plans and mistakes, the AWS runner, the exercises, clean-up) is the library
`gtcheck.bot`, the probes' clean-up is `gtcheck.sweep`; this module parses, wires the
clients and prints.
"""

from __future__ import annotations

import argparse
import statistics
from typing import Any

from gtcheck import i18n, marks, options
from gtcheck.aws import Clients, make_session
from gtcheck.bot import MISTAKES, STEPS, SolveResult, cleanup, solve
from gtcheck.errors import EXIT_OK
from gtcheck.sweep import SweepResult, sweep_probes
from gtcheck.templates import Placeholders


# ----- the commands -----------------------------------------------------------------------------
def _choices_epilog(title: str, described: dict[str, str]) -> str:
    width = max(len(name) for name in described)
    return title + "\n" + "\n".join(f"  {n:<{width}}  {d}" for n, d in described.items())


def add_solve_parser(subparsers: Any, help: str | None = None) -> None:
    """`gtcheck solve`: the common target and participant options, mistakes and skips."""
    parser = subparsers.add_parser(
        "solve",
        help=help,
        description="Write the workshop page's items as participant N, wait for each to "
        "replicate, provoke the exercise 3 conflict and time replication. --mistake makes "
        "a typical mistake on purpose, to see the checks catch it.",
        epilog=_choices_epilog("mistakes:", MISTAKES),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    options.add_target_options(parser)
    options.add_participant_options(parser)
    parser.add_argument(
        "--mistake",
        dest="mistakes",
        action="append",
        default=[],
        choices=list(MISTAKES),
        metavar="NAME",
        help="make this mistake on purpose (repeatable; listed below)",
    )
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=STEPS,
        metavar="STEP",
        help=f"leave out this exercise (repeatable; one of {', '.join(STEPS)})",
    )
    parser.add_argument(
        "--lang",
        choices=i18n.LANGUAGES,
        default=None,
        help="whose page's templates to fill in: en or vi (their placeholders differ; "
        "default: from LANGUAGE, LC_ALL, LC_MESSAGES, LANG)",
    )
    parser.set_defaults(run=run_solve)


def add_cleanup_parser(subparsers: Any, help: str | None = None) -> None:
    """`gtcheck cleanup`: the target options, and whose items: N's, or leftover probes."""
    parser = subparsers.add_parser(
        "cleanup",
        help=help,
        description="Delete, in every region, the items `gtcheck solve` writes for "
        "participant N (every mistake variant and every timing item of N), or with "
        "--probes the latency probes earlier runs left (found by their key prefix and "
        "marker attribute). Nothing else is ever touched.",
    )
    options.add_target_options(parser)
    whose = parser.add_mutually_exclusive_group(required=True)
    options.add_participant_options(parser, alternatives=whose)
    whose.add_argument(
        "--probes",
        action="store_true",
        help=f"delete leftover probe items ({marks.PROBE_PREFIX}... with {marks.PROBE_MARKER})",
    )
    parser.set_defaults(run=run_cleanup)


def _placeholders(args: argparse.Namespace) -> Placeholders:
    """N's placeholders; the product id is N unless given, as solve and cleanup must agree."""
    return Placeholders(
        participant=args.participant, product_id=args.product_id or args.participant
    )


def _print(line: str) -> None:
    print(line, flush=True)


def run_solve(args: argparse.Namespace) -> int:
    """Solve against the configured table, printing each action as it happens."""
    target = options.target_from_args(args)
    clients = Clients(target, make_session(target), read_only=False)
    result = solve(
        clients,
        target,
        _placeholders(args),
        mistakes=frozenset(args.mistakes),
        skip=frozenset(args.skip),
        timeout=args.timeout,
        log=_print,
        language=getattr(args, "lang", None) or i18n.default_language(),
    )
    _print(summary_line(args.participant, result))
    return EXIT_OK


def run_cleanup(args: argparse.Namespace) -> int:
    """Clean up after solve (or earlier probes), printing each delete and how many went."""
    target = options.target_from_args(args)
    clients = Clients(target, make_session(target), read_only=False)
    if getattr(args, "probes", False):
        swept = sweep_probes(clients, target, log=_print, timeout=args.timeout)
        _print(sweep_line(swept))
        return EXIT_OK
    deleted = cleanup(clients, target, _placeholders(args), log=_print, timeout=args.timeout)
    _print(f"gtcheck cleanup: deleted {deleted} item copies for {args.participant}")
    return EXIT_OK


def sweep_line(swept: SweepResult) -> str:
    """One line: probe copies deleted in all, per region, and any left for lack of time."""
    regions = ", ".join(f"{region} {count}" for region, count in swept.deleted.items())
    return (
        f"gtcheck cleanup: deleted {swept.total_deleted} probe item copies ({regions}), "
        f"{swept.left} left"
    )


def summary_line(participant: str, result: SolveResult) -> str:
    """One line: the writes and, per direction, the page's fastest, slowest and average."""
    parts = [f"gtcheck solve: {len(result.written)} writes for {participant}"]
    for direction, samples in result.replication_s.items():
        parts.append(
            f"{direction} fastest {min(samples):.2f} s, slowest {max(samples):.2f} s, "
            f"average {statistics.fmean(samples):.2f} s ({len(samples)})"
        )
    return "; ".join(parts)
