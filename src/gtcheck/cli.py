"""The `gtcheck` command: one parser, a subcommand per job, errors as one line.

Only the chosen command's module is imported: `gtcheck --help` loads no AWS SDK, and
`check`, `grade` and `rubric` never load the simulator (moto, werkzeug, `gtcheck.sim`).
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Sequence
from importlib import import_module

from gtcheck import __version__, argtypes
from gtcheck.errors import EXIT_USAGE, GtcheckError

# name: (module, function that adds the command's parser, one-line summary for --help)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "demo": (
        "gtcheck.demo",
        "add_parser",
        "offline: start the simulator, solve the workshop as `demo`, grade it",
    ),
    "check": (
        "gtcheck.check_command",
        "add_parser",
        "read-only self-check of one participant; writes <dir>/N.json",
    ),
    "grade": (
        "gtcheck.grade",
        "add_parser",
        "a whole class in one gradebook; --collect DIR: from the N.json participants sent",
    ),
    "validate": (
        "gtcheck.validate",
        "add_parser",
        "prove an environment works end to end: bot, latency probes, scenarios, clean-up",
    ),
    "solve": (
        "gtcheck.solve",
        "add_solve_parser",
        "perform every workshop step as participant N would (real writes, real waits)",
    ),
    "cleanup": (
        "gtcheck.solve",
        "add_cleanup_parser",
        "delete what `gtcheck solve` wrote for participant N, or leftover probes; nothing else",
    ),
    "rubric": (
        "gtcheck.check",
        "add_rubric_parser",
        "print the rubric (ids, points, exercise, title) from the checks",
    ),
    "sim": (
        "gtcheck.sim.command",
        "add_sim_parser",
        "serve the offline two-region global table on 127.0.0.1 until stopped",
    ),
    "fault": (
        "gtcheck.sim.command",
        "add_fault_parser",
        "pause, resume, slow down or throttle a running `gtcheck sim`",
    ),
}


def chosen_command(argv: Sequence[str]) -> str | None:
    """The subcommand named on the command line (top-level options take no values)."""
    for word in argv:
        if not word.startswith("-"):
            return word if word in COMMANDS else None
    return None


def build_parser(argv: Sequence[str] | None = None) -> argtypes.Parser:
    """The full parser of the chosen command; the others only as names and summaries.

    With `argv` None every command is built in full (for tests and documentation).
    """
    chosen = chosen_command(argv) if argv is not None else None
    parser = argtypes.Parser(
        prog="gtcheck",
        description="Check and grade the DynamoDB Global Tables workshop "
        "(3.3 Multi-Region Operations).",
    )
    parser.add_argument("--version", action="version", version=f"gtcheck {__version__}")
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=argtypes.Parser
    )
    for name, (module, function, summary) in COMMANDS.items():
        if argv is None or name == chosen:
            add = getattr(import_module(module), function)
            add(commands, help=summary)
        else:
            commands.add_parser(name, help=summary, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; every GtcheckError ends as one line and its contract exit code."""
    words = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(words).parse_args(words)
    try:
        return int(args.run(args))
    except GtcheckError as problem:
        print(f"gtcheck {args.command}: error: {problem}", file=sys.stderr)
        return problem.exit_code
    except KeyboardInterrupt:
        print(f"gtcheck {args.command}: interrupted", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        # The reader went away (`gtcheck check | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_USAGE


def entry() -> None:
    """The `gtcheck` command itself: run, then exit without collecting the heap again.

    A finished command has written and closed everything; the interpreter's teardown
    would still walk every object boto3 and pytest made (a tenth of a second of each
    `gtcheck check`). Frozen, they are left to the operating system; exit handlers run.
    """
    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    entry()
