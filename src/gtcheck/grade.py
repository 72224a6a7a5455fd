"""`gtcheck grade`: a whole class in one gradebook. A thin door: read, call the pure
gradebook, write, exit code.

`--collect DIR` builds it from the reports participants sent (their N.json, as
`gtcheck check` wrote it): nothing is read from AWS, and never the simulator.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gtcheck import gradebook, gradebook_render, i18n
from gtcheck.check import add_language_option, collect_rubric
from gtcheck.errors import EXIT_FAILED, EXIT_OK, UsageError
from gtcheck.i18n import _
from gtcheck.report import safe_stem, write_atomically
from gtcheck.rubric import StepSpec
from gtcheck.workshop import DEFAULT_REGIONS, WORKSHOP_TABLE

MAX_REPORT_BYTES = 10 * 1024 * 1024
OUTPUTS = ("gradebook.json", "gradebook.csv", "gradebook.html")
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


def write(report_dir: Path, document: dict[str, Any]) -> list[Path]:
    """gradebook.json, .csv and .html, each written whole or not at all."""
    texts = (
        json.dumps(document, indent=2, ensure_ascii=False) + "\n",
        gradebook_render.csv_text(document),
        gradebook_render.page(document),
    )
    paths = [report_dir / name for name in OUTPUTS]
    for path, content in zip(paths, texts, strict=True):
        write_atomically(path, content)
    return paths


def run(args: argparse.Namespace) -> int:
    """Grade the class; 0 when every participant passed every graded step, else 1."""
    previous = i18n.chosen_language()
    if args.lang:
        i18n.set_language(args.lang)
    try:
        return grade_collected(args)
    finally:
        i18n.set_language(previous)


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
    paths = write(args.report_dir, document)
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
        "--collect",
        metavar="DIR",
        type=Path,
        help="build the gradebook from the N.json files in DIR that participants sent "
        "(rows are self-reported; a report that does not add up is rejected)",
    )
    parser.add_argument(
        "--report-dir",
        type=Path,
        default=Path("reports"),
        help="where gradebook.json, .csv and .html are written (default reports/)",
    )
    add_language_option(parser)
    parser.set_defaults(run=run)
