"""Hints that teach: what is wrong, where, and what to do about it.

Everything here reads what the run already fetched (copies, scans, descriptions); it
never reads AWS itself, so diagnosing costs no read capacity beyond one bounded scan.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from gtcheck.i18n import _, ngettext
from gtcheck.items import Attributes, Key, key_of, show

PLACEHOLDERS = ("[your-name]", "[Your Name]", "[unique-id]", "[timestamp]")
MAX_EDITS = 2


@dataclass(frozen=True)
class NearMiss:
    region: str
    key: Key
    reason: str

    def describe(self) -> str:
        return _("{pk} / {sk} in {region} ({reason})").format(
            pk=self.key[0], sk=self.key[1], region=self.region, reason=self.reason
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


def why_near(wanted: str, found: str) -> str | None:
    """How `found` misses `wanted`, if it is a near miss at all."""
    if found == wanted:
        return None
    if found.strip() == wanted.strip():
        return _("stray whitespace")
    if found.casefold() == wanted.casefold():
        return _("letters in a different case")
    if any(marker in found for marker in PLACEHOLDERS):
        template = found
        for marker in PLACEHOLDERS:
            template = template.replace(marker, "\0")
        prefix, _marker, suffix = template.partition("\0")
        if wanted.startswith(prefix) and wanted.endswith(suffix.replace("\0", "")):
            return _("the placeholder was not replaced")
    edits = edit_distance(found.casefold().strip(), wanted.casefold().strip())
    if edits <= MAX_EDITS:
        return ngettext(
            "a typo: {count} character off", "a typo: {count} characters off", edits
        ).format(count=edits)
    return None


def near_misses(wanted: Key, scans: dict[str, list[Attributes]]) -> list[NearMiss]:
    """Items whose key almost is `wanted`: case, whitespace, placeholder or a small typo."""
    found: list[NearMiss] = []
    for region, items in scans.items():
        for item in items:
            key = _loose_key(item)
            if key is None or key == wanted:
                continue
            pk_reason = why_near(wanted[0], key[0]) if key[0] != wanted[0] else None
            sk_reason = why_near(wanted[1], key[1]) if key[1] != wanted[1] else None
            pk_ok = key[0] == wanted[0] or pk_reason
            sk_ok = key[1] == wanted[1] or sk_reason
            if pk_ok and sk_ok:
                reason = "; ".join(
                    f"{name}: {why}" for name, why in (("PK", pk_reason), ("SK", sk_reason)) if why
                )
                found.append(NearMiss(region, key, reason))
    return sorted(found, key=lambda miss: (miss.key, miss.region))


def _loose_key(item: Attributes) -> Key | None:
    """An item's key even when a participant typed odd values; None if not strings."""
    return key_of(item)


def not_found_hint(
    what: str, wanted: Key, region: str, scans: dict[str, list[Attributes]] | None
) -> str:
    """`what` is absent: say which key was looked for, where, and any near miss."""
    misses = near_misses(wanted, scans or {})
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
