"""`gtcheck validate`: a thin door onto the validation's own pytest run.

It parses, starts pytest as gtcheck's own tool (`check.own_pytest`) with the validation
plugin, turns SIGTERM into the same interrupt as Ctrl-C so every clean-up runs, and makes
sure the clean-up ran even if pytest never reached its teardown.
"""

from __future__ import annotations

import argparse
import io
import sys
from contextlib import nullcontext, redirect_stdout
from pathlib import Path
from typing import Any

import pytest

from gtcheck import argtypes, check
from gtcheck.config import Runtime
from gtcheck.errors import EXIT_USAGE
from gtcheck.i18n import _
from gtcheck.interrupts import interrupts_on_a_line
from gtcheck.options import add_target_options
from gtcheck.plugin import RUNTIME_KEY
from gtcheck.validation import page
from gtcheck.validation import plugin as validation_plugin
from gtcheck.validation.plugin import RUN_KEY, probe_count
from gtcheck.validation.run import DEFAULT_PROBES, ValidationRun

PACKAGE_DIR = Path(validation_plugin.__file__).resolve().parent
probes = argtypes._converter(probe_count)


class _Inject:
    """Hands the Runtime to the validation plugin, and keeps the run it made."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.run: ValidationRun | None = None

    @pytest.hookimpl(tryfirst=True)
    def pytest_configure(self, config: pytest.Config) -> None:
        config.stash[RUNTIME_KEY] = self.runtime

    @pytest.hookimpl(trylast=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.run = session.config.stash.get(RUN_KEY, None)


def pytest_args(args: argparse.Namespace) -> list[str]:
    """The pytest command line a `gtcheck validate` stands for."""
    argv = [
        str(PACKAGE_DIR / "test_parts.py"),
        "--confcutdir", str(PACKAGE_DIR),  # a checkout's conftest loads the grading plugin
        "--table", args.table,
        "--regions", ",".join(args.regions),
        "--replication-timeout", str(args.timeout),
        "--report-dir", str(args.report_dir),
        "--probes", str(args.probes),
        "-p", "no:cacheprovider",
        "--assert=plain",
        "-q", "--no-header", "-rN", "--tb=no",
    ]  # fmt: skip
    if args.endpoint_url:
        argv += ["--endpoint-url", args.endpoint_url]
    if args.profile:
        argv += ["--aws-profile", args.profile]
    if getattr(args, "junitxml", None):
        argv += ["--junitxml", str(args.junitxml)]
    return argv


def run(
    args: argparse.Namespace, runtime: Runtime | None = None, *, quiet: bool = False
) -> tuple[int, ValidationRun | None]:
    """Validate; the exit code and the run (None when it never started)."""
    inject = _Inject(runtime or Runtime())
    try:
        with (
            interrupts_on_a_line(),
            check.own_pytest(),
            redirect_stdout(io.StringIO()) if quiet else nullcontext(),
        ):
            pytest.main(pytest_args(args), plugins=[validation_plugin, inject])
    finally:
        if inject.run is not None and inject.run.removal is None:
            inject.run.clean_up()  # pytest stopped before its teardown
            page.write(inject.run.settings.report_dir, inject.run.document())
    validation = inject.run
    if validation is None:
        return EXIT_USAGE, None
    code = validation.exit_code()
    if code == 3 and validation.environment_problem:
        print(f"gtcheck validate: error: {validation.environment_problem}", file=sys.stderr)
    return code, validation


def run_command(args: argparse.Namespace) -> int:
    code, validation = run(args)
    if validation is not None and validation.interrupted:
        line = _("interrupted; the clean-up ran (see the report)")
        print(f"gtcheck validate: {line}", file=sys.stderr)
    if validation is not None:
        print(
            "gtcheck validate: "
            + _("the report is {page}").format(page=args.report_dir / page.HTML_NAME)
        )
    return code


def add_parser(subparsers: Any, help: str | None = None) -> None:
    parser = subparsers.add_parser(
        "validate",
        help=help,
        description="Prove an environment works end to end before a workshop: the "
        "environment steps, a bot participant solved and graded, latency probes in each "
        "direction, the page's real-world scenarios, then every item removed. Writes "
        "validation.json and validation.html.",
    )
    add_target_options(parser)
    parser.add_argument(
        "--probes",
        type=probes,
        default=DEFAULT_PROBES,
        help=f"latency probes per direction, 1 to 1000 (default {DEFAULT_PROBES})",
    )
    parser.add_argument(
        "--report-dir",
        type=Path,
        default=Path("reports"),
        help="where validation.json and validation.html are written (default reports/)",
    )
    parser.add_argument(
        "--junitxml", type=Path, default=None, help="also write a JUnit XML file (for CI)"
    )
    parser.set_defaults(run=run_command)
