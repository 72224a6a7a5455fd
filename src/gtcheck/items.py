"""Items as DynamoDB holds them: keys, typed attribute matchers, and typed diffs.

Attribute values stay in DynamoDB's wire form (`{"S": "x"}`, `{"N": "299"}`), so a number
stored as a string is never mistaken for a number. Participant data is hostile: nothing
here assumes a value has the type it should.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from gtcheck.causes import Cause
from gtcheck.i18n import N_, _

Attributes = dict[str, Any]
Key = tuple[str, str]  # (PK, SK) of the workshop table, both strings

TYPE_NAMES = {
    "S": N_("a string (S)"), "N": N_("a number (N)"), "BOOL": N_("a boolean (BOOL)"),
    "M": N_("a map (M)"), "L": N_("a list (L)"), "SS": N_("a string set (SS)"),
    "NS": N_("a number set (NS)"), "B": N_("binary (B)"), "BS": N_("a binary set (BS)"),
    "NULL": N_("null (NULL)"),
}  # fmt: skip
ISO_8601 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$"
)
SHOWN_CHARS = 120
INDEX_KEY = re.compile(r"^GSI\d+(PK|SK)$")  # an attribute a GSI is keyed by


def type_name(kind: str) -> str:
    """A DynamoDB type in words, in the participant's language ("a number (N)")."""
    return _(TYPE_NAMES[kind]) if kind in TYPE_NAMES else kind


def key_attributes(key: Key) -> Attributes:
    return {"PK": {"S": key[0]}, "SK": {"S": key[1]}}


def key_of(item: Attributes) -> Key | None:
    """The (PK, SK) of an item whose keys are strings; None for anything else."""
    pk, sk = item.get("PK"), item.get("SK")
    if not (_is_typed(pk, "S") and _is_typed(sk, "S")):
        return None
    return pk["S"], sk["S"]


def type_of(value: Any) -> str:
    """The DynamoDB type letter of a wire value, or '?' for something malformed."""
    if isinstance(value, dict) and len(value) == 1:
        return str(next(iter(value)))
    return "?"


def plain(value: Any) -> Any:
    """A wire value's payload (the `"299"` of `{"N": "299"}`), or the value itself."""
    if isinstance(value, dict) and len(value) == 1:
        return next(iter(value.values()))
    return value


def show(value: Any) -> str:
    """A short, typed, printable rendering: `N 299`, `S "abc"`; long text is cut."""
    if value is None:
        return _("(absent)")
    text = (
        f"{type_of(value)} {plain(value)!r}" if type_of(value) != "S" else (f'S "{plain(value)}"')
    )
    text = "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


def _is_typed(value: Any, kind: str) -> bool:
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get(kind), str)


def numbers_equal(left: str, right: str) -> bool:
    try:
        return Decimal(left) == Decimal(right)
    except (InvalidOperation, TypeError, ValueError):
        return left == right


def same_value(left: Any, right: Any) -> bool:
    """Equal with the same DynamoDB type; numbers compare by value (1 == 1.0)."""
    if type_of(left) != type_of(right):
        return False
    if type_of(left) == "N":
        return numbers_equal(plain(left), plain(right))
    return left == right


@dataclass(frozen=True)
class AttributeDiff:
    """One attribute that differs between two copies of an item."""

    name: str
    left: Any
    right: Any

    def describe(self, left_label: str, right_label: str) -> str:
        return _("{name}: {left} in {left_region}, {right} in {right_region}").format(
            name=self.name,
            left=show(self.left),
            left_region=left_label,
            right=show(self.right),
            right_region=right_label,
        )


def diff(left: Attributes, right: Attributes) -> list[AttributeDiff]:
    """Every attribute whose value or type differs, in a stable order."""
    names = sorted(set(left) | set(right))
    return [
        AttributeDiff(name, left.get(name), right.get(name))
        for name in names
        if not same_value(left.get(name), right.get(name))
    ]


def identical(left: Attributes | None, right: Attributes | None) -> bool:
    if left is None or right is None:
        return left is right
    return not diff(left, right)


# ----- matchers: what a check expects of one attribute ----------------------------------


@dataclass(frozen=True)
class Problem:
    """What is wrong with one attribute: its cause as data, and the words for the hint."""

    cause: Cause
    text: str  # `is missing (expected S "x")`, in the participant's language
    attribute: str = ""

    def __str__(self) -> str:
        return f"{self.attribute} {self.text}"


class Matcher:
    """Judges one attribute value; `problem` says what is wrong, or None."""

    def problem(self, value: Any) -> Problem | None:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True)
class Exactly(Matcher):
    """This type and this value."""

    kind: str
    value: Any

    def problem(self, value: Any) -> Problem | None:
        if value is None:
            return _missing(_("is missing (expected {expected})").format(expected=self.describe()))
        if type_of(value) != self.kind:
            return _wrong_type(value, self.kind)
        if not same_value(value, {self.kind: self.value}):
            return _wrong_value(
                value,
                _("is {value}, expected {expected}").format(
                    value=show(value), expected=self.describe()
                ),
            )
        return None

    def describe(self) -> str:
        return show({self.kind: self.value})


@dataclass(frozen=True)
class OfType(Matcher):
    """Any value of this type (strings must not be empty)."""

    kind: str

    def problem(self, value: Any) -> Problem | None:
        if value is None:
            return _missing(
                _("is missing (expected {expected})").format(expected=type_name(self.kind))
            )
        if type_of(value) != self.kind:
            return _wrong_type(value, self.kind)
        if self.kind == "S" and not str(plain(value)).strip():
            return Problem(Cause.WRONG_VALUE, _("is an empty string"))
        return None

    def describe(self) -> str:
        return _("any {type}").format(type=type_name(self.kind))


@dataclass(frozen=True)
class Timestamp(Matcher):
    """An ISO-8601 date and time, as a string."""

    def problem(self, value: Any) -> Problem | None:
        problem = OfType("S").problem(value)
        if problem:
            return problem
        if not ISO_8601.match(str(plain(value)).strip()):
            return _wrong_value(
                value,
                _("is {value}, expected an ISO-8601 time like 2025-08-11T15:30:00Z").format(
                    value=show(value)
                ),
            )
        return None

    def describe(self) -> str:
        return _("an ISO-8601 time (S)")


@dataclass(frozen=True)
class OneOf(Matcher):
    """One of these values, all of one type."""

    kind: str
    values: tuple[Any, ...]

    def problem(self, value: Any) -> Problem | None:
        if value is None:
            return _missing(
                _("is missing (expected one of {expected})").format(expected=self.describe())
            )
        if type_of(value) != self.kind:
            return _wrong_type(value, self.kind)
        if not any(same_value(value, {self.kind: v}) for v in self.values):
            return _wrong_value(
                value,
                _("is {value}, expected one of {expected}").format(
                    value=show(value), expected=self.describe()
                ),
            )
        return None

    def describe(self) -> str:
        return ", ".join(show({self.kind: v}) for v in self.values)


def _missing(text: str) -> Problem:
    return Problem(Cause.MISSING_ATTRIBUTE, text)


def _wrong_value(value: Any, text: str) -> Problem:
    """A value that is not the expected one; a page's placeholder left in it says why."""
    cause = Cause.UNREPLACED_PLACEHOLDER if holds_placeholder(value) else Cause.WRONG_VALUE
    return Problem(cause, text)


def holds_placeholder(value: Any) -> bool:
    """Is `value` a string holding a marker of any language's page, like `[your-name]`?"""
    from gtcheck.workshop import every_marker  # workshop imports this module

    text = plain(value)
    return (
        type_of(value) == "S"
        and isinstance(text, str)
        and any(marker in unicodedata.normalize("NFC", text) for marker in every_marker())
    )


def _wrong_type(value: Any, kind: str) -> Problem:
    """A value of the wrong type; a quoted number gets its own explanation."""
    found = type_name(type_of(value)) if type_of(value) in TYPE_NAMES else _("an unknown type")
    if kind == "N" and type_of(value) == "S":
        cause = Cause.NUMBER_AS_STRING
        message = _(
            "is {value}, {found}, expected {expected} (a number typed in quotes is stored "
            "as a string: remove the quotes)"
        )
    else:
        cause = Cause.WRONG_VALUE
        message = _("is {value}, {found}, expected {expected}")
    return Problem(cause, message.format(value=show(value), found=found, expected=type_name(kind)))


def problems(item: Attributes, expected: dict[str, Matcher]) -> list[Problem]:
    """Every attribute that does not meet its matcher; a missing index key is named as
    such, since it keeps the item out of its GSI."""
    found = []
    for name, matcher in expected.items():
        problem = matcher.problem(item.get(name))
        if problem is None:
            continue
        if problem.cause is Cause.MISSING_ATTRIBUTE and INDEX_KEY.match(name):
            problem = replace(problem, cause=Cause.MISSING_GSI_KEYS)
        found.append(replace(problem, attribute=name))
    return found
