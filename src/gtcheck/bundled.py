"""What ships inside the package: the workshop's checks and the page's templates.

Found with importlib.resources, so every command works from an installed wheel in any
folder, and from a checkout (where an editable install maps them to `checks/` and
`fixtures/`).
"""

from __future__ import annotations

import json
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from gtcheck.errors import UsageError

CHECKS_PACKAGE = "gtcheck.checks"
FIXTURES_PACKAGE = "gtcheck.fixtures"


def checks_dir() -> Path:
    """The folder holding the checks, for pytest to collect."""
    folder = resources.files(CHECKS_PACKAGE)
    if not isinstance(folder, Path):  # e.g. a zipped install: pytest needs real files
        raise UsageError(f"the bundled checks are not on the file system ({folder})")
    return folder


def template(name: str, language: str | None = None) -> dict[str, Any]:
    """A template as the page prints it (numbers as Decimal); a bad file is a UsageError."""
    parts = ["templates", *([language] if language else []), f"{name}.json"]
    resource = resources.files(FIXTURES_PACKAGE).joinpath(*parts)
    shown = "/".join(parts)
    try:
        text = resource.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as problem:
        raise UsageError(f"bundled template {shown} cannot be read: {problem}") from None
    try:
        value = json.loads(text, parse_float=Decimal, parse_int=Decimal)
    except json.JSONDecodeError as problem:
        raise UsageError(f"bundled template {shown} is not valid JSON: {problem}") from None
    if not isinstance(value, dict):
        raise UsageError(f"bundled template {shown} is not a JSON object")
    return value
