"""What every workshop check shares: the participant's keys and the regions' roles.

Expected attributes and judgements live in each exercise's module; this file only names
things: the name as the table stores it (a console may store `Nguyễn` in another Unicode
normal form than the one typed), and the exercise 2 product when its id was not given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from functools import partial
from typing import Any

import pytest

from gtcheck import i18n, names, workshop
from gtcheck.causes import Cause
from gtcheck.config import Settings
from gtcheck.converge import World
from gtcheck.diagnose import PLACEHOLDERS, join
from gtcheck.errors import GtcheckError
from gtcheck.i18n import N_, _
from gtcheck.items import Key, key_of
from gtcheck.plugin import GRADER_KEY
from gtcheck.roster import Entry
from gtcheck.workshop import CATEGORY, PENDING, PRODUCT_PREFIX, ProductLookup, Roles

MIXED_FORMS = N_("mixed normal forms")
# Separate accounts whose first looks are in flight at once. Far from AWS each look waits
# on round trips in a row: at 0.1 s a round trip, 8 at once graded 40 accounts in 11 s,
# all 40 at once in 4 s. On loopback the run is bound by this process's CPU either way.
MAX_CONCURRENT_TABLES = 64


@pytest.fixture(scope="session")
def roles(settings: Settings) -> Roles:
    return Roles.of(settings.target.regions)


def held_keys(world: World, keys: Iterable[Key]) -> set[Key]:
    """The keys the table holds among `keys` and their other normal forms: from the scan a
    small table is read with anyway, else by reading each form (one batch, in the budget)."""
    keys = list(keys)
    if all(world.small(region) for region in world.regions):
        return {key for items in world.scan_all().values() for key in map(key_of, items) if key}
    world.watch(*keys)
    return {key for key in keys if any(copy is not None for copy in world.copies(key).values())}


def _forms_differ(*texts: str) -> bool:
    return any(len(names.forms(text)) > 1 for text in texts)


@pytest.fixture(scope="session")
def participant(world: World, entry: Entry) -> str:
    """The name as the participant's keys store it; NFC-equal to the typed one.

    A name that has one normal form only (plain ASCII) is used as typed, with no read.
    """
    typed = entry.participant
    if not _forms_differ(typed):
        return typed
    try:
        held = held_keys(world, workshop.name_keys(typed))
    except GtcheckError:
        return typed  # the steps that read report the problem themselves
    return workshop.stored_name(typed, held) or typed


@pytest.fixture(scope="session")
def name_note(participant: str, entry: Entry) -> str | None:
    """What to tell a participant whose keys hold their name in another normal form."""
    typed = entry.participant
    if participant == typed:
        return None

    def form(text: str) -> str:
        found = names.normal_form(text)
        return _(MIXED_FORMS) if found in (None, "mixed") else found

    return _(
        "your name is stored as {stored} in Unicode {stored_form} and was typed in "
        "{typed_form}: the letters are the same, so the stored keys were graded. DynamoDB "
        "compares keys byte by byte, so a console query must use the stored form"
    ).format(stored=participant, stored_form=form(participant), typed_form=form(typed))


def _stored(world: World, key: Key) -> Key:
    """`key` in the normal form the table holds it in (itself when it has one form only)."""
    if not _forms_differ(key[0]):
        return key
    variants = [(form, key[1]) for form in names.forms(key[0])]
    try:
        return workshop.stored_key(key, held_keys(world, variants))
    except GtcheckError:
        return key


@pytest.fixture(scope="session")
def user_key(world: World, participant: str) -> Key:
    return _stored(world, workshop.user_key(participant))


@pytest.fixture(scope="session")
def order_key(world: World, participant: str) -> Key:
    return _stored(world, workshop.order_key(participant))


@pytest.fixture(scope="session", autouse=True)
def _read_once(request: pytest.FixtureRequest) -> None:
    """Name every key known up front, for every participant of the run, so the first read
    of each table fetches them all at once (one Scan of a small table, else batches).
    Tables in separate accounts are read concurrently, each inside its own budget. Every
    table's clients are made first, on this thread (a boto3 session wants that): made while
    other tables' looks were answering, each cost twice the CPU, and the run is bound by
    this one process's CPU when the tables answer fast."""
    grader = request.config.stash.get(GRADER_KEY, None)
    if grader is None:
        return
    tables: dict[object, list[Entry]] = {}
    for entry in grader.entries():
        tables.setdefault(grader.table_of(entry), []).append(entry)
    worlds = [(_world_of(grader, entries), entries) for entries in tables.values()]
    looks = [(world, entries) for world, entries in worlds if world is not None]
    if len(looks) <= 1:
        for world, entries in looks:
            _first_look(world, entries)
        return
    with ThreadPoolExecutor(max_workers=min(MAX_CONCURRENT_TABLES, len(looks))) as pool:
        for future in [pool.submit(_first_look, world, entries) for world, entries in looks]:
            future.result()


def _world_of(grader: Any, entries: list[Entry]) -> World | None:
    """The world of `entries`' table, or None when it cannot even be reached (its steps say
    why)."""
    try:
        return grader.world(entries[0])
    except GtcheckError:
        return None


def _first_look(world: World, entries: list[Entry]) -> None:
    """One table's first read, for every participant in it; then what the later steps ask
    of any table (ex4's other index, the streams, CloudWatch), so that separate tables get
    it concurrently. The regions are read side by side (`World.prepare`): far from AWS, a
    look made one request after another was 18 round trips, side by side it is 5. A read
    that fails is left for the step that needs it to report."""
    _quietly(partial(world.prepare, workshop.FIRST_LOOK_INDEXES))
    try:
        for entry in entries:
            world.watch(*workshop.name_keys(entry.participant))
            lookup = find_product(world, entry)  # GSI1, which ex4 reads anyway
            if lookup.key is not None:
                world.watch(lookup.key)
                world.expect_in_index("GSI1", CATEGORY, lookup.key)  # ex4 waits for it
        if all(world.small(region) for region in world.present_regions()):
            found = world.timing_keys()  # the first read itself
            for entry in entries:
                world.watch(*workshop.named(found, entry.participant))
    except GtcheckError:
        return
    later = [
        *(lambda r=region: world.index_keys(r, "GSI2", PENDING) for region in world.regions),
        world.histories,  # who wrote first: streams, no read capacity
        *(lambda r=region: world.replication_latency(r, ahead=True) for region in world.regions),
    ]
    for read in later:  # read by the first look already, unless it met a problem
        _quietly(read)


def _quietly(read: Callable[[], object]) -> None:
    """`read`, its environment problem left for the step that needs what it reads."""
    with suppress(GtcheckError):
        read()


@pytest.fixture(scope="session")
def product(world: World, entry: Entry) -> ProductLookup:
    """The participant's product: --product-id, else GSI1 by name, else sole ownership."""
    return find_product(world, entry)


def find_product(world: World, entry: Entry) -> ProductLookup:
    """The product of `entry`: its product id, else GSI1 by name, else sole ownership
    (index queries are read once per table, so a class costs what one participant does)."""
    if entry.product_id:
        return ProductLookup(_stored(world, workshop.product_key(entry.product_id)))
    found: set[Key] = set()
    for region in world.present_regions():
        found |= {
            key
            for key in world.index_keys(region, "GSI1", CATEGORY)
            if key[0].startswith(PRODUCT_PREFIX)
        }
    mine = sorted(key for key in found if names.contains(key[0], entry.participant))
    if len(mine) == 1:
        return ProductLookup(mine[0])
    only_one = not mine and len(found) == 1
    if only_one and workshop.sole_owner(world.profile_keys(), entry.participant):
        only = next(iter(found))
        left = _placeholder_in(only[0])
        if left is None:
            return ProductLookup(only)
        return ProductLookup(
            None,
            _(
                "the only product under GSI1 {category} is {pk}, and its key still holds "
                "the placeholder {placeholder}: create the product again with an id of your "
                "own in its place, then pass that id with --product-id"
            ).format(category=CATEGORY, pk=only[0], placeholder=left),
            [only[0]],
            Cause.UNREPLACED_PLACEHOLDER,
        )
    if not found:
        return ProductLookup(
            None,
            _(
                "no product is listed under GSI1 {category} in any region: create it in the "
                "replica region as exercise 2 shows (with its GSI1PK and GSI1SK), or pass "
                "--product-id"
            ).format(category=CATEGORY),
            cause=Cause.NOT_FOUND,
        )
    shown = sorted(key[0] for key in (mine or found))
    return ProductLookup(None, _ambiguous(shown), shown, Cause.AMBIGUOUS_PRODUCT)


def _placeholder_in(text: str) -> str | None:
    """The first page placeholder (of any language) left in `text`."""
    return next((marker for marker in PLACEHOLDERS if marker in names.nfc(text)), None)


def _ambiguous(shown: list[str], limit: int = 5) -> str:
    """Several products could be the participant's: name a few and ask for --product-id."""
    # The placeholder as the participant's own page prints it.
    placeholder = workshop.page_placeholders(i18n.language()).product_id
    if len(shown) <= limit:
        return _(
            "cannot tell which product is yours among {candidates}: pass --product-id with "
            "the {placeholder} you used"
        ).format(candidates=join(shown), placeholder=placeholder)
    return _(
        "cannot tell which product is yours among {candidates} and {count} more: pass "
        "--product-id with the {placeholder} you used"
    ).format(candidates=", ".join(shown[:limit]), count=len(shown) - limit, placeholder=placeholder)
