"""`gtcheck check`: a thin door onto `pytest checks` with the grading plugin on."""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext, redirect_stdout
from typing import Any

import pytest

from gtcheck import bundled, citizen, plugin
from gtcheck.check_command import add_language_option as add_language_option  # for grade, demo
from gtcheck.config import Runtime
from gtcheck.errors import EXIT_ENVIRONMENT, EXIT_OK, EXIT_USAGE
from gtcheck.heap import collection_paused
from gtcheck.i18n import _
from gtcheck.plugin import GRADER_KEY, RUNTIME_KEY
from gtcheck.rubric import StepSpec

ISOLATED_VARIABLES = ("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "PYTEST_ADDOPTS")


class Inject:
    """Hands a Runtime (session, clock) to the grading plugin before it configures."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.grader: Any = None

    @pytest.hookimpl(tryfirst=True)
    def pytest_configure(self, config: pytest.Config) -> None:
        config.stash[RUNTIME_KEY] = self.runtime

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self.grader = session.config.stash.get(GRADER_KEY, None)


def pytest_args(args: argparse.Namespace) -> list[str]:
    """The pytest command line a `gtcheck check` stands for."""
    argv = [
        str(bundled.checks_dir()),
        "--participant",
        args.participant,
        "--table",
        args.table,
        "--regions",
        ",".join(args.regions),
        "--replication-timeout",
        str(args.timeout),
        "--report-dir",
        str(args.report_dir),
        "-p",
        "no:cacheprovider",
        "--assert=plain",  # checks judge with step.fail; rewriting them costs a second
        "-p",
        "no:unraisableexception",  # its collections at exit cost a tenth of a second
        "-q",
        "--no-header",
        "-rN",
        "--tb=no",
    ]
    if args.product_id:
        argv += ["--product-id", args.product_id]
    if args.endpoint_url:
        argv += ["--endpoint-url", args.endpoint_url]
    if args.profile:
        argv += ["--aws-profile", args.profile]
    if not getattr(args, "no_html", False):
        argv += ["-p", "pytest_metadata.plugin", "-p", "pytest_html.plugin"]
    if getattr(args, "lang", None):
        argv += ["--lang", args.lang]
    return argv


def run(
    args: argparse.Namespace, runtime: Runtime | None = None, *, quiet: bool = False
) -> tuple[int, Any]:
    """Run the checks; returns the exit code and the grader (None if it never started).
    One participant's run is short and bounded: the garbage collector waits until it ends."""
    with collection_paused():
        return run_pytest(pytest_args(args), runtime, command="check", quiet=quiet)


def run_pytest(
    argv: list[str], runtime: Runtime | None, *, command: str, quiet: bool = False
) -> tuple[int, Any]:
    """pytest with the grading plugin, as gtcheck's own tool; the grader's exit code (an
    environment problem also as one line) and the grader, None if it never started."""
    inject = Inject(runtime or Runtime())
    with own_pytest(), redirect_stdout(io.StringIO()) if quiet else nullcontext():
        pytest.main(argv, plugins=[plugin, inject])
    grader = inject.grader
    if grader is None:
        return EXIT_USAGE, None
    code = grader.exit_code()
    if code == EXIT_ENVIRONMENT and grader.environment_problem:
        print(f"gtcheck {command}: error: {grader.environment_problem}", file=sys.stderr)
    return code, grader


@contextmanager
def own_pytest() -> Iterator[None]:
    """pytest as a tool of gtcheck's, not the user's test run: only the plugins a check
    needs (the user's xdist, cov, randomly or hypothesis would only slow it or change it),
    and none of the user's PYTEST_ADDOPTS. Plain `pytest` runs of the checks still load
    whatever the user has."""
    saved = {name: os.environ.get(name) for name in ISOLATED_VARIABLES}
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    os.environ.pop("PYTEST_ADDOPTS", None)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def watch(
    args: argparse.Namespace,
    check_once: Callable[[], int],
    *,
    sleep: Callable[[float], None] = time.sleep,
    redraw: Callable[[], None] | None = None,
    max_rounds: int | None = None,
    command: str = "check",
) -> int:
    """Re-run the check until every graded step passes, redrawing in place on a terminal.

    Returns the last check's exit code; Ctrl-C stops watching and returns it too.
    """
    clear = redraw or (_clear_screen if sys.stdout.isatty() else lambda: None)
    code = EXIT_USAGE
    rounds = 0
    try:
        while True:
            clear()
            code = check_once()
            rounds += 1
            if code in (EXIT_OK, EXIT_USAGE) or (max_rounds and rounds >= max_rounds):
                return code
            print(
                f"gtcheck {command} --watch: "
                + _(
                    "not all steps pass yet; checking again in {seconds:g} s (Ctrl-C stops)"
                ).format(seconds=args.every),
                flush=True,
            )
            sleep(args.every)
    except KeyboardInterrupt:
        print(f"\ngtcheck {command} --watch: " + _("stopped"), file=sys.stderr)
        return code


def _clear_screen() -> None:
    print("\x1b[H\x1b[2J", end="", flush=True)


class _Collector:
    """Keeps the rubric steps pytest collects from the checks."""

    def __init__(self) -> None:
        self.specs: list[StepSpec] = []

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        self.specs = citizen.rubric_specs(items)


def collect_rubric() -> list[StepSpec]:
    """The rubric as the checks declare it, in rubric order (even if a plugin shuffles)."""
    collector = _Collector()
    argv = [
        str(bundled.checks_dir()),
        "--collect-only",
        "-q",
        "-p",
        "no:cacheprovider",
        "--assert=plain",
    ]
    with own_pytest(), redirect_stdout(io.StringIO()):
        pytest.main(argv, plugins=[plugin, collector])
    return collector.specs


def print_rubric(args: argparse.Namespace) -> int:
    specs = collect_rubric()
    if args.json:
        rows = [
            {
                "id": s.id,
                "points": s.points,
                "exercise": s.exercise,
                "kind": str(s.kind),
                "title": s.title,
                "requires": list(s.requires),
            }
            for s in specs
        ]
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    print(f"{'id':26} {'points':>6}  {'ex':>2}  {'kind':8}  title")
    for spec in specs:
        print(
            f"{spec.id:26} {spec.points:>6}  {spec.exercise:>2}  {spec.kind.value:8}  {spec.title}"
        )
    print(f"{'total':26} {sum(s.points for s in specs):>6}")
    return EXIT_OK


def add_rubric_parser(subparsers: Any, help: str | None = None) -> None:
    parser = subparsers.add_parser(
        "rubric",
        help=help,
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(run=print_rubric)
