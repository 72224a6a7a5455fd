"""The `gtcheck` command: one parser, a subcommand per job, errors as one line."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from gtcheck import __version__, argtypes
from gtcheck.errors import EXIT_USAGE, GtcheckError


def build_parser() -> argtypes.Parser:
    from gtcheck import check, demo, solve
    from gtcheck.sim.command import add_fault_parser, add_sim_parser

    parser = argtypes.Parser(
        prog="gtcheck",
        description="Check and grade the DynamoDB Global Tables workshop "
        "(3.3 Multi-Region Operations).",
    )
    parser.add_argument("--version", action="version", version=f"gtcheck {__version__}")
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=argtypes.Parser
    )
    demo.add_parser(commands)
    check.add_parser(commands)
    solve.add_solve_parser(commands)
    solve.add_cleanup_parser(commands)
    check.add_rubric_parser(commands)
    add_sim_parser(commands)
    add_fault_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; every GtcheckError ends as one line and its contract exit code."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except GtcheckError as problem:
        print(f"gtcheck {args.command}: error: {problem}", file=sys.stderr)
        return problem.exit_code
    except KeyboardInterrupt:
        print(f"gtcheck {args.command}: interrupted", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
