"""The workshop's facts: its table and regions, the participant's keys, the regions' roles,
the product's lookup, and what each language's page prints in place of the participant's
values. Light to import: the checker and the simulator both start here."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache

from gtcheck import names
from gtcheck.causes import Cause
from gtcheck.errors import UsageError
from gtcheck.items import Attributes, Key, key_of

WORKSHOP_TABLE = "demo-ecommerce-freetier"
DEFAULT_REGIONS = ("us-east-1", "eu-west-1")
CATEGORY = "CATEGORY#eu-electronics"
PENDING = "STATUS#pending"
# The index partitions a check reads in every region whatever the participant did: the
# product by its category (exercise 2's lookup and exercise 4), the order by its status.
FIRST_LOOK_INDEXES = (("GSI1", CATEGORY), ("GSI2", PENDING))
PRODUCT_PREFIX = "PRODUCT#eu-product-"
PROFILE_PREFIX = "USER#global-user-"
TIMING_PREFIX = "TEST#timing-"
PAGE_LANGUAGE = "en"  # the page the rubric quotes; the others are its translations
TTL_ATTRIBUTE = "ttl"  # the table's Time to Live attribute, as the workshop's stack sets it


@dataclass(frozen=True)
class PagePlaceholders:
    """The `[...]` markers one language's page prints where a participant types a value."""

    participant: str  # N, in keys and attributes
    display_name: str  # free text, in `name`
    product_id: str  # P, in the exercise 2 product
    timestamp: str = "[timestamp]"  # in TEST#timing-[timestamp]
    exact_timestamp: str = "[exact-timestamp]"  # in created_at

    def markers(self) -> tuple[str, ...]:
        return (
            self.participant,
            self.display_name,
            self.product_id,
            self.timestamp,
            self.exact_timestamp,
        )


# Each page's own markers, as its JSON templates print them (the Vietnamese page:
# content/3-global-tables-setup/3.3-multi-region-operations/_index.vi.md).
PAGE_PLACEHOLDERS: dict[str, PagePlaceholders] = {
    "en": PagePlaceholders("[your-name]", "[Your Name]", "[unique-id]"),
    "vi": PagePlaceholders("[tên-của-bạn]", "[Tên Của Bạn]", "[id-duy-nhat]"),
}

# Exercise 3's explanation, as each page words it; gtcheck quotes it where it corrects it.
PAGE_LWW_CLAIM: dict[str, str] = {
    "en": "Later timestamp wins",
    "vi": "Cập nhật có dấu thời gian sau cùng sẽ thắng",
}


def page_placeholders(language: str) -> PagePlaceholders:
    """The markers of `language`'s page (the English page's for a language without one)."""
    return PAGE_PLACEHOLDERS.get(language, PAGE_PLACEHOLDERS[PAGE_LANGUAGE])


def lww_claim(language: str) -> str:
    """How `language`'s page explains exercise 3's winner."""
    return PAGE_LWW_CLAIM.get(language, PAGE_LWW_CLAIM[PAGE_LANGUAGE])


def every_marker() -> tuple[str, ...]:
    """Every page's markers, longest first: diagnosis recognises all of them, whatever the
    participant's --lang (a Vietnamese participant may well read the English page)."""
    found = {marker for page in PAGE_PLACEHOLDERS.values() for marker in page.markers()}
    return tuple(sorted(found, key=lambda marker: (-len(marker), marker)))


@cache
def known_regions() -> frozenset[str]:
    """Every region botocore knows DynamoDB in, across partitions."""
    import boto3

    session = boto3.session.Session()
    regions: set[str] = set()
    for partition in session.get_available_partitions():
        regions.update(session.get_available_regions("dynamodb", partition_name=partition))
    return frozenset(regions)


def parse_regions(text: str) -> tuple[str, ...]:
    """Turn `us-east-1,eu-west-1` into a validated tuple of distinct regions."""
    regions = tuple(part.strip() for part in text.split(",") if part.strip())
    return validate_regions(regions)


def validate_regions(regions: tuple[str, ...]) -> tuple[str, ...]:
    """Refuse unknown, duplicated or fewer than two regions: a global table needs two."""
    unknown = [region for region in regions if region not in known_regions()]
    if unknown:
        raise UsageError(f"unknown region {unknown[0]!r} (expected names like us-east-1)")
    if len(set(regions)) != len(regions):
        raise UsageError(f"region listed twice in {','.join(regions)}")
    if len(regions) < 2:
        raise UsageError("a global table needs at least two regions, e.g. us-east-1,eu-west-1")
    return regions


def user_key(participant: str) -> Key:
    return (f"{PROFILE_PREFIX}{participant}", "PROFILE")


def order_key(participant: str) -> Key:
    return (f"{PROFILE_PREFIX}{participant}", "ORDER#conflict-test")


def product_key(product_id: str) -> Key:
    return (f"{PRODUCT_PREFIX}{product_id}", "DETAILS")


@dataclass(frozen=True)
class Roles:
    """Primary = first configured region, replica = second; further ones like the replica."""

    primary: str
    replica: str
    regions: tuple[str, ...]

    @classmethod
    def of(cls, regions: tuple[str, ...]) -> Roles:
        return cls(primary=regions[0], replica=regions[1], regions=regions)


@dataclass(frozen=True)
class ProductLookup:
    """The participant's exercise 2 product, or why it could not be told apart."""

    key: Key | None
    hint: str | None = None
    candidates: list[str] = field(default_factory=list)
    cause: Cause = Cause.NOT_FOUND  # why `key` is None


def is_timing(key: Key) -> bool:
    """A key of exercise 5's timing items: `TEST#timing-*` / REPLICATION."""
    return key[0].startswith(TIMING_PREFIX) and key[1] == "REPLICATION"


def timing_keys_in(scans: dict[str, list[Attributes]]) -> set[Key]:
    """Every timing item key seen in any region's scan."""
    keys: set[Key] = set()
    for items in scans.values():
        keys |= {key for key in map(key_of, items) if key is not None and is_timing(key)}
    return keys


def named(keys: Iterable[Key], participant: str) -> list[Key]:
    """The keys that carry the participant's name (whatever the case and normal form)."""
    return sorted(key for key in keys if names.contains(key[0], participant))


def name_keys(participant: str) -> list[Key]:
    """The user and order keys of every normal form of the name, as a console may store them."""
    forms = names.forms(participant)
    return [user_key(form) for form in forms] + [order_key(form) for form in forms]


def stored_name(typed: str, held: Iterable[Key]) -> str | None:
    """The name as the participant's own keys store it: the profile's (else the order's)
    name whose NFC is the typed name's; the typed form when it is stored itself."""
    keys = set(held)
    for sort_key in ("PROFILE", "ORDER#conflict-test"):
        found = sorted(
            pk.removeprefix(PROFILE_PREFIX)
            for pk, sk in keys
            if sk == sort_key
            and pk.startswith(PROFILE_PREFIX)
            and names.same_name(pk.removeprefix(PROFILE_PREFIX), typed)
        )
        if typed in found:
            return typed
        if found:
            return found[0]
    return None


def stored_key(wanted: Key, held: Iterable[Key]) -> Key:
    """`wanted` as stored: itself when held, else a held key equal to it after NFC."""
    keys = set(held)
    if wanted in keys:
        return wanted
    same = sorted(key for key in keys if key[1] == wanted[1] and names.same_name(key[0], wanted[0]))
    return same[0] if same else wanted


def profile_keys(scans: dict[str, list[Attributes]]) -> set[Key]:
    """Every participant profile (`USER#global-user-*` / PROFILE) seen in any region."""
    keys: set[Key] = set()
    for items in scans.values():
        for item in items:
            pk, sk = item.get("PK", {}).get("S"), item.get("SK", {}).get("S")
            if isinstance(pk, str) and pk.startswith(PROFILE_PREFIX) and sk == "PROFILE":
                keys.add((pk, sk))
    return keys


def sole_owner(profiles: set[Key], participant: str) -> bool:
    """Does the table belong to `participant` alone? Exactly one profile, and it is theirs:
    then every workshop item in it is theirs, named or not (one account per participant)."""
    return len(profiles) == 1 and names.same_name(
        next(iter(profiles))[0].removeprefix(PROFILE_PREFIX), participant
    )


NEAR_PROFILE = re.compile(r"^\s*user\s*#\s*global[-_ ]?user[-_ ]?(?P<name>.+?)\s*$", re.IGNORECASE)


def participants_in(items: Iterable[Attributes]) -> list[str]:
    """The participants a table holds, from their profiles, near misses included: a key
    like `user#Global-user-ana ` / `profile` is graded under the name it carries (`ana `
    would not match the workshop's key, and the check says so). Sorted, each once."""
    found: set[str] = set()
    for item in items:
        pk, sk = item.get("PK", {}).get("S"), item.get("SK", {}).get("S")
        if not (isinstance(pk, str) and isinstance(sk, str)):
            continue
        if sk.strip().casefold() != "profile":
            continue
        if pk.startswith(PROFILE_PREFIX) and pk != PROFILE_PREFIX:
            found.add(pk.removeprefix(PROFILE_PREFIX))
        elif (near := NEAR_PROFILE.match(pk)) is not None and near.group("name").strip("-_ "):
            found.add(near.group("name"))
    return sorted(found)
