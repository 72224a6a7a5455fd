"""Typed argparse converters: a bad value becomes one clear line and exit code 2."""

from __future__ import annotations

import argparse
import math
import sys
from typing import NoReturn

from gtcheck.errors import EXIT_USAGE, UsageError


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr, exit 2, no usage dump."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: error: {message} (see --help)", file=sys.stderr)
        sys.exit(EXIT_USAGE)


def _converter(convert: object) -> object:
    """Turn a UsageError raised by a converter into argparse's own error."""

    def wrapped(text: str) -> object:
        try:
            return convert(text)  # type: ignore[operator]
        except UsageError as problem:
            raise argparse.ArgumentTypeError(str(problem)) from None

    wrapped.__name__ = getattr(convert, "__name__", "value")
    return wrapped


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise UsageError(f"expected a finite number, got {text!r}")
    return value


def _seconds(text: str) -> float:
    value = _number(text)
    if value < 0:
        raise UsageError(f"expected seconds >= 0, got {text}")
    return value


def _fraction(text: str) -> float:
    value = _number(text)
    if not 0.0 <= value <= 1.0:
        raise UsageError(f"expected a fraction between 0 and 1, got {text}")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise UsageError(f"expected a port number, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise UsageError(f"a port is between 0 and 65535, got {value}")
    return value


def _regions(text: str) -> tuple[str, ...]:
    from gtcheck.workshop import parse_regions

    return parse_regions(text)


def _region(text: str) -> str:
    from gtcheck.workshop import known_regions

    if text not in known_regions():
        raise UsageError(f"unknown region {text!r} (expected names like us-east-1)")
    return text


number = _converter(_number)
seconds = _converter(_seconds)
fraction = _converter(_fraction)
port = _converter(_port)
regions = _converter(_regions)
region = _converter(_region)
