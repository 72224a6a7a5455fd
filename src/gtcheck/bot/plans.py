"""What the bot types: the page's templates filled in for a participant, spoiled on purpose.

Plans are plain data, so the mistakes can be listed, tested and offered on the command line
without any AWS call.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from gtcheck import marks, templates
from gtcheck.target import Target
from gtcheck.templates import Placeholders
from gtcheck.workshop import PAGE_LANGUAGE

MISTAKES: dict[str, str] = {
    "wrong-region": "the exercise 1 user is written in the replica region instead of the primary",
    "key-typo": 'the user\'s PK has a typo one edit away: "USER#global-usr-N" instead of '
    '"USER#global-user-N"',
    "price-as-string": 'the product\'s price and stock are stored as strings ("299", "50"), '
    "not numbers",
    "missing-gsi-keys": "the order is written without GSI2PK and GSI2SK "
    "(so a GSI2 query cannot find it)",
    "unreplaced-placeholder": "the user's email and GSI1PK keep the page's placeholder "
    '("[your-name]", or "[tên-của-bạn]" with --lang vi; the key itself is right)',
    "mixed-conflict": "the exercise 3 eu-west-1 update sets total_amount 200 but "
    'last_updated_region "us-east-1" (an incoherent write)',
}
STEPS = ("ex1", "ex2", "ex3", "ex4", "ex5")  # ex4 writes nothing: it is queries

TIMING_STAMP_FORMAT = "%Y%m%dT%H%M%S%f"  # 20261126T150102123456
TIMING_STAMP_PATTERN = "[0-9]{8}T[0-9]{12}"

Item = dict[str, Any]  # plain values, as the page's JSON (numbers as Decimal)
Key = dict[str, str]  # {"PK": ..., "SK": ...}


@dataclass(frozen=True)
class Plan:
    """The items and updates of one participant, mistakes included."""

    user: Item
    product: Item
    order: Item
    update_us: Item
    update_eu: Item
    user_in_replica: bool


def plan(
    placeholders: Placeholders,
    mistakes: Collection[str] = frozenset(),
    language: str = PAGE_LANGUAGE,
) -> Plan:
    """`language`'s page's templates filled in for the participant, then spoiled as asked.

    Every page fills in to the same items; only a left placeholder shows which was read.
    """
    return Plan(
        user=_user(placeholders, mistakes, language),
        product=_product(placeholders, mistakes, language),
        order=_order(placeholders, mistakes, language),
        update_us=filled(templates.ORDER_UPDATE_US, placeholders, language),
        update_eu=_update_eu(placeholders, mistakes, language),
        user_in_replica="wrong-region" in mistakes,
    )


def expiring(chosen: Plan, ttl: int) -> Plan:
    """The plan with every item it puts carrying the TTL `ttl` (the updates keep it)."""
    return replace(
        chosen,
        user=marks.with_ttl(chosen.user, ttl),
        product=marks.with_ttl(chosen.product, ttl),
        order=marks.with_ttl(chosen.order, ttl),
    )


def filled(name: str, placeholders: Placeholders, language: str = PAGE_LANGUAGE) -> Item:
    """One template of `language`'s page with the participant's values in place."""
    return templates.render(templates.load(name, language), placeholders)


def _user(placeholders: Placeholders, mistakes: Collection[str], language: str) -> Item:
    user = filled(templates.USER, placeholders, language)
    if "unreplaced-placeholder" in mistakes:
        page = templates.load(templates.USER, language)
        user["email"], user["GSI1PK"] = page["email"], page["GSI1PK"]
    if "key-typo" in mistakes:
        user["PK"] = user["PK"].replace("global-user-", "global-usr-", 1)
    return user


def _product(placeholders: Placeholders, mistakes: Collection[str], language: str) -> Item:
    product = filled(templates.PRODUCT, placeholders, language)
    if "price-as-string" in mistakes:
        product["price"], product["stock"] = str(product["price"]), str(product["stock"])
    return product


def _order(placeholders: Placeholders, mistakes: Collection[str], language: str) -> Item:
    order = filled(templates.ORDER, placeholders, language)
    if "missing-gsi-keys" in mistakes:
        del order["GSI2PK"], order["GSI2SK"]
    return order


def _update_eu(placeholders: Placeholders, mistakes: Collection[str], language: str) -> Item:
    update = filled(templates.ORDER_UPDATE_EU, placeholders, language)
    if "mixed-conflict" in mistakes:
        update["last_updated_region"] = templates.load(templates.ORDER_UPDATE_US, language)[
            "last_updated_region"
        ]
    return update


def timing_item(placeholders: Placeholders, region: str, at: float) -> Item:
    """The exercise 5 item: stamped with `at` and the participant's name, so it is theirs."""
    moment = datetime.fromtimestamp(at, tz=UTC)
    stamped = replace(
        placeholders,
        timestamp=f"{moment.strftime(TIMING_STAMP_FORMAT)}-{placeholders.participant}",
        exact_timestamp=moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    )
    item = filled(templates.TIMING, stamped)
    item["source_region"] = region
    return item


def timing_key_pattern(participant: str) -> re.Pattern[str]:
    """The PK of every timing item solve writes for `participant`, and of no one else's."""
    prefix = templates.load(templates.TIMING)["PK"].replace("[timestamp]", "")
    return re.compile(
        f"{re.escape(prefix)}{TIMING_STAMP_PATTERN}-{re.escape(participant)}", re.ASCII
    )


def key_of(item: Item) -> Key:
    """An item's primary key, as SolveResult and planned_keys list keys."""
    return {"PK": item["PK"], "SK": item["SK"]}


def planned_keys(target: Target, placeholders: Placeholders) -> list[Key]:
    """Every fixed key solve may write for the participant, whatever the mistakes."""
    keys: list[Key] = []
    for mistakes in (frozenset(), frozenset(MISTAKES)):
        chosen = plan(placeholders, mistakes)
        for item in (chosen.user, chosen.product, chosen.order):
            if key_of(item) not in keys:
                keys.append(key_of(item))
    return keys


def show(key: Key) -> str:
    """A key as the bot's log lines show it: `PK / SK`."""
    return f"{key['PK']} / {key['SK']}"
