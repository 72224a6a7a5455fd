"""Hints that teach: what is wrong, where, and what to do about it.

Everything here reads what the run already fetched (copies, scans, descriptions); it
never reads AWS itself, so diagnosing costs no read capacity beyond one bounded scan.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from gtcheck import names
from gtcheck.causes import Cause, Diagnosis, diagnosis
from gtcheck.i18n import N_, _, ngettext
from gtcheck.items import Attributes, Key, key_of, show
from gtcheck.workshop import every_marker

PLACEHOLDERS = every_marker()  # every page's markers, English and Vietnamese alike
MAX_EDITS = 2

# Why a key almost is the wanted one; each kind reads as a sentence only in `Reason.describe`.
WHITESPACE = "whitespace"
CASE = "case"
NORMAL_FORM = "normal-form"
PLACEHOLDER = "placeholder"
DIACRITICS = "diacritics"
WORD_ORDER = "word-order"
TYPO = "typo"


@dataclass(frozen=True)
class Reason:
    """How one key attribute misses: a kind, and what it needs to say so."""

    kind: str
    placeholder: str = ""  # PLACEHOLDER: the marker left in the key
    replacement: str = ""  # PLACEHOLDER: what belongs in its place
    edits: int = 0  # TYPO

    def describe(self) -> str:
        if self.kind == PLACEHOLDER:
            return _(
                "the placeholder {placeholder} is still there: type {value} in its place"
            ).format(placeholder=self.placeholder, value=self.replacement)
        if self.kind == TYPO:
            return ngettext(
                "a typo: {count} character off", "a typo: {count} characters off", self.edits
            ).format(count=self.edits)
        return _(REASONS[self.kind])


REASONS = {
    WHITESPACE: N_("stray whitespace"),
    CASE: N_("letters in a different case"),
    NORMAL_FORM: N_("the same letters in another Unicode normal form"),
    DIACRITICS: N_("the same letters with other diacritics"),
    WORD_ORDER: N_("the same words in another order"),
}


@dataclass(frozen=True)
class NearMiss:
    """A key in `region` that almost is the wanted one, and why, per key attribute."""

    region: str
    key: Key
    reasons: tuple[tuple[str, Reason], ...]  # ("PK", reason), ("SK", reason)

    @property
    def cause(self) -> Cause:
        """The cause id of a step that fails on this near miss."""
        if any(reason.kind == PLACEHOLDER for _name, reason in self.reasons):
            return Cause.UNREPLACED_PLACEHOLDER
        return Cause.NEAR_MISS_KEY

    def describe(self) -> str:
        reason = "; ".join(f"{name}: {why.describe()}" for name, why in self.reasons)
        return _("{pk} / {sk} in {region} ({reason})").format(
            pk=self.key[0], sk=self.key[1], region=self.region, reason=reason
        )


def edit_distance(left: str, right: str, limit: int = MAX_EDITS) -> int:
    """Levenshtein distance, giving up (limit + 1) once it must exceed `limit`."""
    if abs(len(left) - len(right)) > limit:
        return limit + 1
    previous = list(range(len(right) + 1))
    for i, a in enumerate(left, 1):
        current = [i]
        for j, b in enumerate(right, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a != b)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def why_near(wanted: str, found: str) -> Reason | None:
    """How `found` misses `wanted`, if it is a near miss at all.

    The mildest explanation wins: a normal form, whitespace or case before a placeholder,
    diacritics or word order, and those before a typo (counted without marks or case).
    """
    if found == wanted:
        return None
    if names.same_name(found, wanted):
        return Reason(NORMAL_FORM)
    if found.strip() == wanted.strip():
        return Reason(WHITESPACE)
    if names.fold(found) == names.fold(wanted):
        return Reason(CASE)
    placeholder = unreplaced(wanted, found)
    if placeholder is not None:
        return placeholder
    if names.bare(found) == names.bare(wanted):
        return Reason(DIACRITICS)
    if names.words(found) == names.words(wanted):
        return Reason(WORD_ORDER)
    edits = edit_distance(names.bare(found).strip(), names.bare(wanted).strip())
    if edits <= MAX_EDITS:
        return Reason(TYPO, edits=edits)
    return None


def unreplaced(wanted: str, found: str) -> Reason | None:
    """`found` is `wanted` with a page's placeholder left where a value belongs."""
    text = names.nfc(found)
    markers = [marker for marker in PLACEHOLDERS if marker in text]
    if not markers:
        return None
    pieces = re.split("(" + "|".join(map(re.escape, markers)) + ")", text)
    pattern = "".join("(.+?)" if piece in markers else re.escape(piece) for piece in pieces)
    match = re.fullmatch(pattern, names.nfc(wanted), re.DOTALL)
    if match is None:
        return None
    left = [piece for piece in pieces if piece in markers]
    return Reason(PLACEHOLDER, placeholder=left[0], replacement=match.group(1))


def near_misses(wanted: Key, scans: dict[str, list[Attributes]]) -> list[NearMiss]:
    """Items whose key almost is `wanted`: normal form, case, whitespace, placeholder,
    diacritics, word order or a small typo."""
    found: list[NearMiss] = []
    for region, items in scans.items():
        for item in items:
            key = _loose_key(item)
            if key is None or key == wanted:
                continue
            reasons = []
            for name, want, have in (("PK", wanted[0], key[0]), ("SK", wanted[1], key[1])):
                if have == want:
                    continue
                reason = why_near(want, have)
                if reason is None:
                    break
                reasons.append((name, reason))
            else:
                found.append(NearMiss(region, key, tuple(reasons)))
    return sorted(found, key=lambda miss: (miss.key, miss.region))


def _loose_key(item: Attributes) -> Key | None:
    """An item's key even when a participant typed odd values; None if not strings."""
    return key_of(item)


def not_found_diagnosis(misses: list[NearMiss]) -> Diagnosis:
    """Why an item is absent: the first near miss names the cause, else not found at all."""
    if not misses:
        return diagnosis(Cause.NOT_FOUND)
    miss = misses[0]
    return diagnosis(
        miss.cause, near_miss={"PK": miss.key[0], "SK": miss.key[1]}, region=miss.region
    )


def not_found_hint(what: str, wanted: Key, region: str, misses: list[NearMiss]) -> str:
    """`what` is absent: say which key was looked for, where, and any near miss."""
    if misses:
        hint = _(
            "{what} {pk} / {sk} is not in {region}. Found a near miss: {misses}. Keys must "
            "match exactly: fix the key"
        )
    else:
        hint = _(
            "{what} {pk} / {sk} is not in {region}. Create it as the workshop page shows "
            "(keys must match exactly)"
        )
    shown = "; ".join(miss.describe() for miss in misses[:3])
    return hint.format(what=what, pk=wanted[0], sk=wanted[1], region=region, misses=shown)


def missing_index_keys(item: Attributes, index: str) -> list[str]:
    """The index key attributes an item lacks or holds with a non-string type."""
    missing = []
    for name in (f"{index}PK", f"{index}SK"):
        value = item.get(name)
        if not (isinstance(value, dict) and isinstance(value.get("S"), str)):
            missing.append(
                name
                if value is None
                else _("{name} (is {value})").format(name=name, value=show(value))
            )
    return missing


def regions_holding(copies: dict[str, Attributes | None]) -> list[str]:
    return [region for region, copy in copies.items() if copy is not None]


def join(words: Iterable[str]) -> str:
    """`a, b and c`, in the participant's language."""
    words = list(words)
    if len(words) <= 1:
        return "".join(words)
    return _("{items} and {last}").format(items=", ".join(words[:-1]), last=words[-1])


def missing_table_hint(table: str, region: str, primary: str) -> str:
    """The table is not in `region`: the stack's job in the primary, a replica elsewhere."""
    if region == primary:
        return _(
            "table {table} does not exist in {region}: deploy the workshop's stack there first"
        ).format(table=table, region=region)
    return _(
        "table {table} does not exist in {region}: the workshop's stack creates it only in "
        "{primary}; add the {region} replica (DynamoDB console, Global tables tab, Create "
        "replica) and wait until it is ACTIVE"
    ).format(table=table, region=region, primary=primary)
