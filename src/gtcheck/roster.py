"""The class roster: one CSV row per participant, validated whole before anything is read.

Columns: `participant` (required), and optionally `product_id`, `endpoint_url`, `profile`,
`role_arn` (a role gtcheck assumes, read-only, to read that participant's own account) and
`table`. Rows without an endpoint, profile or role share the command's target. Blank lines
and lines starting with `#` are ignored. Every problem names the file and line.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from gtcheck.errors import UsageError
from gtcheck.options import participant_name

COLUMNS = ("participant", "product_id", "endpoint_url", "profile", "role_arn", "table")
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
TABLE_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
MAX_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class Entry:
    """One participant of the class and where their table is."""

    participant: str
    line: int
    product_id: str | None = None
    endpoint_url: str | None = None
    profile: str | None = None
    role_arn: str | None = None
    table: str | None = None

    @property
    def own_account(self) -> bool:
        """Read in the participant's own account (or endpoint), not the shared table."""
        return bool(self.endpoint_url or self.profile or self.role_arn)


def read(path: Path) -> list[Entry]:
    """The roster at `path`; a UsageError naming the file and line for anything wrong."""
    try:
        raw = path.read_bytes()
    except OSError as problem:
        raise UsageError(f"roster {path}: cannot be read ({problem.strerror})") from None
    if len(raw) > MAX_BYTES:
        raise UsageError(f"roster {path}: larger than {MAX_BYTES // 1024 // 1024} MiB")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as problem:
        raise UsageError(
            f"roster {path}: not UTF-8 text (byte {problem.start}); save it as UTF-8 CSV"
        ) from None
    return parse(text, str(path))


def parse(text: str, source: str) -> list[Entry]:
    """Roster rows from CSV text; `source` names it in errors."""
    if "\x00" in text:
        raise UsageError(f"roster {source}: not a CSV file (it holds NUL bytes)")
    lines = [
        (number, line)
        for number, line in enumerate(text.splitlines(), 1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not lines:
        raise UsageError(f"roster {source}: no header row (expected a participant column)")
    header_line, header_text = lines[0]
    header = [name.strip().lower() for name in _row(header_text, source, header_line)]
    if "participant" not in header:
        raise UsageError(
            f"roster {source}:{header_line}: no participant column in the header "
            f"(columns: {', '.join(COLUMNS)})"
        )
    unknown = [name for name in header if name not in COLUMNS]
    if unknown:
        raise UsageError(
            f"roster {source}:{header_line}: unknown column {unknown[0]!r} "
            f"(known: {', '.join(COLUMNS)})"
        )
    if len(set(header)) != len(header):
        raise UsageError(f"roster {source}:{header_line}: a column is named twice")
    entries: list[Entry] = []
    seen: dict[str, int] = {}
    for number, line in lines[1:]:
        cells = _row(line, source, number)
        if len(cells) != len(header):
            raise UsageError(
                f"roster {source}:{number}: {len(cells)} cells where the header has "
                f"{len(header)}"
            )
        values = {name: cell.strip() or None for name, cell in zip(header, cells, strict=True)}
        entry = _entry(values, source, number)
        if entry.participant in seen:
            raise UsageError(
                f"roster {source}:{number}: participant {entry.participant!r} is already on "
                f"line {seen[entry.participant]}"
            )
        seen[entry.participant] = number
        entries.append(entry)
    if not entries:
        raise UsageError(f"roster {source}: no participant rows under the header")
    return entries


def _row(line: str, source: str, number: int) -> list[str]:
    try:
        rows = list(csv.reader(io.StringIO(line), strict=True))
    except csv.Error as problem:
        raise UsageError(f"roster {source}:{number}: not CSV ({problem})") from None
    return rows[0] if rows else []


def _entry(values: dict[str, str | None], source: str, number: int) -> Entry:
    where = f"roster {source}:{number}"
    try:
        name = participant_name(values.get("participant") or "")
        product_id = values.get("product_id")
        if product_id is not None:
            participant_name(product_id)
    except UsageError as problem:
        raise UsageError(f"{where}: {problem}") from None
    endpoint = values.get("endpoint_url")
    if endpoint is not None and not endpoint.startswith(("http://", "https://")):
        raise UsageError(f"{where}: endpoint_url must start with http:// or https://")
    role = values.get("role_arn")
    if role is not None and not ROLE_ARN.match(role):
        raise UsageError(f"{where}: role_arn {role!r} is not an IAM role ARN")
    table = values.get("table")
    if table is not None and not TABLE_NAME.match(table):
        raise UsageError(f"{where}: table {table!r} is not a DynamoDB table name")
    return Entry(
        participant=name,
        line=number,
        product_id=product_id,
        endpoint_url=endpoint,
        profile=values.get("profile"),
        role_arn=role,
        table=table,
    )
