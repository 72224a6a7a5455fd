"""Options every workshop command shares, validated once into a Target and a participant."""

from __future__ import annotations

import argparse
import os
import unicodedata
from pathlib import Path
from typing import Any

from gtcheck import argtypes
from gtcheck.errors import UsageError
from gtcheck.target import Target
from gtcheck.workshop import DEFAULT_REGIONS, WORKSHOP_TABLE

DEFAULT_TIMEOUT = 120.0
MAX_TIMEOUT = 3600.0
# The longest name whose keys (e.g. "USER#global-user-" + name) stay far inside DynamoDB's
# 2048-byte partition key limit, and that a report can still show.
MAX_NAME_BYTES = 200


def participant_name(text: str) -> str:
    """A participant name as typed: non-empty, valid UTF-8, printable, short enough for a
    key. Its normal form is kept: the checks compare names after NFC themselves."""
    if not text or not text.strip():
        raise UsageError("--participant must not be empty")
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in text):
        # Python hands bytes that are not UTF-8 over as lone surrogates: a key made of them
        # could not be stored, and printed back it would be mangled.
        raise UsageError(
            "--participant is not valid UTF-8 (the terminal sent bytes that are not text): "
            "retype the name in a UTF-8 terminal"
        )
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in text):
        raise UsageError("--participant must not contain control or invisible characters")
    if len(text.encode("utf-8")) > MAX_NAME_BYTES:
        raise UsageError(f"--participant is too long (at most {MAX_NAME_BYTES} bytes)")
    return text


def timeout_seconds(text: str) -> float:
    value = float(argtypes._number(text))
    if value < 0 or value > MAX_TIMEOUT:
        raise UsageError(f"--timeout must be between 0 and {MAX_TIMEOUT:.0f} seconds, got {text}")
    return value


participant = argtypes._converter(participant_name)
timeout = argtypes._converter(timeout_seconds)


def add_target_options(parser: argparse.ArgumentParser) -> None:
    """--endpoint-url, --profile, --table, --regions, --timeout: every command's common options."""
    group = parser.add_argument_group("where the workshop table is")
    group.add_argument(
        "--endpoint-url",
        default=None,
        help="an endpoint to use instead of AWS, e.g. a `gtcheck sim` (default $AWS_ENDPOINT_URL)",
    )
    group.add_argument("--profile", default=None, help="AWS profile (default: as the AWS CLI)")
    group.add_argument("--table", default=WORKSHOP_TABLE, help="the workshop table")
    group.add_argument(
        "--regions",
        type=argtypes.regions,
        default=DEFAULT_REGIONS,
        help="comma-separated; the first is the primary (default us-east-1,eu-west-1)",
    )
    group.add_argument(
        "--timeout",
        type=timeout,
        default=DEFAULT_TIMEOUT,
        help="seconds to wait for replication in the whole run (default 120)",
    )


def add_report_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--report-dir",
        type=Path,
        default=Path("reports"),
        help="where N.html and N.json are written (default reports/)",
    )


def add_participant_options(
    parser: argparse.ArgumentParser, *, alternatives: Any = None
) -> None:
    """--participant (required, unless `alternatives`, a required mutually exclusive
    group of the parser, offers another choice) and --product-id."""
    (alternatives or parser).add_argument(
        "--participant",
        type=participant,
        required=alternatives is None,
        help="the participant's name N, as typed in place of [your-name]",
    )
    parser.add_argument(
        "--product-id",
        type=participant,
        default=None,
        help="the [unique-id] P of the exercise 2 product (solve and cleanup: default N)",
    )


def target_from_args(args: Any) -> Target:
    endpoint = args.endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
    return Target(
        table=args.table,
        regions=tuple(args.regions),
        endpoint_url=endpoint,
        profile=args.profile,
    )
