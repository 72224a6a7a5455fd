"""`gtcheck grade`: a whole class in one gradebook. A thin door: read, call the pure
gradebook, write, exit code.

`--roster FILE` and `--all` grade the class live: one pytest run of the checks with every
step parametrized by participant (the plugin writes each N.json, N.html and the
gradebook). `--watch` repeats it every `--every` seconds for the projector, the page
reloading itself; a board runs for long, so it spends no burst capacity (one second's share
at most, `budget.py`) and its budget carries from round to round. `--collect DIR` builds
the gradebook from the reports participants sent (their N.json, as `gtcheck check` wrote
it): nothing is read from AWS. None of them loads the simulator.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gtcheck import argtypes, check, gradebook, gradebook_render, i18n, roster
from gtcheck.budget import STRICT_BURST_SECONDS
from gtcheck.check import add_language_option, collect_rubric
from gtcheck.config import Runtime
from gtcheck.errors import EXIT_FAILED, EXIT_OK, UsageError
from gtcheck.i18n import _
from gtcheck.options import add_target_options
from gtcheck.report import safe_stem
from gtcheck.rubric import StepSpec
from gtcheck.workshop import DEFAULT_REGIONS, WORKSHOP_TABLE

MAX_REPORT_BYTES = 10 * 1024 * 1024
OUTPUTS = gradebook_render.OUTPUTS
# Files of gtcheck's own that may share a folder with reports; never a submission.
OWN_SCHEMAS = frozenset({gradebook.SCHEMA, "gtcheck.validation/1"})


def submitted_files(folder: Path) -> list[Path]:
    """The `*.json` files directly in `folder` (not hidden), by name; one line if none."""
    if not folder.is_dir():
        raise UsageError(f"--collect {folder}: no such folder")
    try:
        files = sorted(
            path
            for path in folder.iterdir()
            if path.suffix == ".json" and not path.name.startswith(".") and not path.is_dir()
        )
    except OSError as problem:
        raise UsageError(f"--collect {folder}: cannot be read ({problem.strerror})") from None
    if not files:
        raise UsageError(f"--collect {folder}: holds no report (no N.json from gtcheck check)")
    return files


def read_submission(path: Path, report_dir: Path) -> gradebook.Submission:
    """One submitted file, parsed; any problem is a rejection, never an exception."""
    link = Path(os.path.relpath(path.resolve(), report_dir.resolve())).as_posix()

    def rejected(code: str, problem: str) -> gradebook.Submission:
        return gradebook.Submission(
            path.name, link, problem=gradebook.Rejection(code, {"problem": problem})
        )

    try:
        with path.open("rb") as stream:
            raw = stream.read(MAX_REPORT_BYTES + 1)
    except OSError as problem:
        return rejected("unreadable", problem.strerror or type(problem).__name__)
    if len(raw) > MAX_REPORT_BYTES:
        return rejected("not-json", f"larger than {MAX_REPORT_BYTES // 1024 // 1024} MiB")
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError as problem:
        return rejected("not-json", f"not UTF-8 at byte {problem.start}")
    except (ValueError, RecursionError) as problem:
        return rejected("not-json", str(problem).splitlines()[0][:120] or "invalid JSON")
    return gradebook.Submission(path.name, link, data=data)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def collect(
    folder: Path, report_dir: Path, specs: Sequence[StepSpec]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Rows for every report submitted in `folder`, and the reports accepted."""
    submissions = [read_submission(path, report_dir) for path in submitted_files(folder)]
    ours = [s for s in submissions if _schema(s.data) in OWN_SCHEMAS]
    outputs = {(report_dir / name).resolve() for name in OUTPUTS}
    if any((folder / s.file).resolve() in outputs for s in submissions if s not in ours):
        raise UsageError(
            f"--collect {folder}: a submitted file would be overwritten by the gradebook; "
            "choose another --report-dir"
        )
    kept = [s for s in submissions if s not in ours]
    if not kept:
        raise UsageError(f"--collect {folder}: holds no report (no N.json from gtcheck check)")
    return gradebook.collect_rows(kept, specs, lambda name: f"{safe_stem(name)}.json")


def _schema(data: Any) -> Any:
    return data.get("schema") if isinstance(data, dict) else None


def run(args: argparse.Namespace) -> int:
    """Grade the class; 0 when every participant passed every graded step, 1 when one did
    not, 3 when a table could not be read."""
    previous = i18n.chosen_language()
    if args.lang:
        i18n.set_language(args.lang)
    try:
        if args.collect:
            return grade_collected(args)
        if args.watch:
            return watch_live(args, Runtime())
        return grade_live(args)[0]
    finally:
        i18n.set_language(previous)


def watch_live(
    args: argparse.Namespace,
    runtime: Runtime,
    *,
    sleep: Callable[[float], None] = time.sleep,
    max_rounds: int | None = None,
) -> int:
    """The class board: grade every `--every` seconds through one runtime, so each table's
    read budget carries from round to round."""
    return check.watch(
        args,
        lambda: grade_live(args, runtime)[0],
        sleep=sleep,
        max_rounds=max_rounds,
        command="grade",
    )


def pytest_args(args: argparse.Namespace) -> list[str]:
    """The pytest command line a live `gtcheck grade` stands for."""
    single = argparse.Namespace(**{**vars(args), "participant": "", "product_id": None})
    argv = [word for word in check.pytest_args(single) if word not in ("--participant", "")]
    if getattr(args, "watch", False):  # a board runs for an hour: no burst the class may need
        argv += ["--read-burst", f"{STRICT_BURST_SECONDS:g}"]
    return [*argv, *(["--roster", str(args.roster)] if args.roster else ["--all"])]


def grade_live(args: argparse.Namespace, runtime: Runtime | None = None) -> tuple[int, Any]:
    """One live grading of the class; the exit code and the grader."""
    if args.roster:
        roster.read(args.roster)  # a bad roster is one line before pytest starts
    runtime = runtime or Runtime()
    if args.watch:
        runtime.extra["refresh_s"] = args.every
    code, grader = check.run_pytest(pytest_args(args), runtime, command="grade")
    if grader is not None and grader.gradebook_files:
        print("gtcheck grade: " + _("the gradebook is {page}").format(
            page=grader.gradebook_files[-1]
        ))
    return code, grader


def grade_collected(args: argparse.Namespace) -> int:
    started_at = datetime.now(UTC)
    started = time.monotonic()
    folder = Path(args.collect)
    submitted_files(folder)  # a bad folder is one line before the rubric is collected
    specs = collect_rubric()
    rows, accepted = collect(folder, args.report_dir, specs)
    table, regions = gradebook.common_target(accepted, WORKSHOP_TABLE, DEFAULT_REGIONS)
    document = gradebook.document(
        rows,
        specs,
        table=table,
        regions=regions,
        started_at=started_at.isoformat(timespec="seconds"),
        duration_s=round(time.monotonic() - started, 3),
        lang=i18n.language(),
    )
    paths = gradebook_render.write(args.report_dir, document)
    _print_summary(document, args.report_dir, paths[-1])
    return EXIT_OK if gradebook.all_passed(document, specs) else EXIT_FAILED


def _print_summary(document: dict[str, Any], report_dir: Path, page: Path) -> None:
    rows = document["participants"]
    for row in rows:
        if row["source"] == gradebook.REJECTED:
            where = os.path.normpath(report_dir / row["report"])
            print(
                "gtcheck grade: "
                + _("rejected {file}: {reason}").format(file=where, reason=row["reason"])
            )
    print(
        "gtcheck grade: "
        + _("{count} participants, {rejected} rejected; the gradebook is {page}").format(
            count=len(rows),
            rejected=sum(row["source"] == gradebook.REJECTED for row in rows),
            page=page,
        )
    )


def add_parser(subparsers: Any, help: str | None = None) -> None:
    parser = subparsers.add_parser(
        "grade",
        help=help,
        description="Grade a whole class into one gradebook (gradebook.json, .csv, .html). "
        "With --collect DIR, from the N.json reports participants sent.",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--roster",
        metavar="FILE",
        type=Path,
        help="grade the participants of a CSV roster (a participant column; optional "
        "product_id, endpoint_url, profile, role_arn, table)",
    )
    source.add_argument(
        "--all",
        action="store_true",
        help="grade every participant profile found in the primary region",
    )
    source.add_argument(
        "--collect",
        metavar="DIR",
        type=Path,
        help="build the gradebook from the N.json files in DIR that participants sent "
        "(rows are self-reported; a report that does not add up is rejected)",
    )
    add_target_options(parser)
    parser.add_argument(
        "--report-dir",
        type=Path,
        default=Path("reports"),
        help="where gradebook.json, .csv and .html are written (default reports/)",
    )
    parser.add_argument(
        "--watch",
        action="store_true",
        help="a live class board: grade again every --every seconds, gradebook.html "
        "reloading itself (Ctrl-C stops); not with --collect",
    )
    parser.add_argument(
        "--every",
        type=argtypes.seconds,
        default=30.0,
        help="seconds between gradings with --watch (default 30)",
    )
    add_language_option(parser)
    parser.set_defaults(run=run, no_html=True)
