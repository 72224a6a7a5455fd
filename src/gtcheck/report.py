"""The participant report (docs/reports.md): its JSON and where it is written."""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

SCHEMA = "gtcheck.report/1"
SAFE_NAME = re.compile(r"^[A-Za-z0-9._-]+$")
MAX_FILE_STEM = 96
# The class's own files share the folder: a participant so named gets a hashed stem.
RESERVED_STEMS = frozenset({"gradebook", "validation"})


def safe_stem(participant: str) -> str:
    """A file name stem for a participant: unchanged when it is plainly safe.

    Anything else (slashes, NUL, spaces, unicode, a leading dot) becomes `_`, plus a short
    hash of the name as typed so that two different names never share a report.
    """
    if (
        SAFE_NAME.match(participant)
        and not participant.startswith(".")
        and (len(participant) <= MAX_FILE_STEM)
        and participant.casefold() not in RESERVED_STEMS
    ):
        return participant
    cleaned = re.sub(r"[^A-Za-z0-9_-]", "_", participant).strip("_")[: MAX_FILE_STEM - 9]
    digest = hashlib.sha256(participant.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{cleaned or 'participant'}-{digest}"


def report_path(report_dir: Path, participant: str, suffix: str) -> Path:
    path = (report_dir / f"{safe_stem(participant)}{suffix}").resolve()
    if path.parent != report_dir.resolve():  # defence in depth: never outside the folder
        raise ValueError(f"report path {path} escapes {report_dir}")
    return path


def write_atomically(path: Path, text: str) -> None:
    """Write a whole file or nothing: a reader never sees half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temporary, 0o644)  # a report is for reading: not the temp file's 0600
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_json(report_dir: Path, data: dict[str, Any]) -> Path:
    path = report_path(report_dir, data["participant"], ".json")
    write_atomically(path, json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    return path
