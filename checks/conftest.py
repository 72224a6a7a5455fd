"""What every workshop check shares: the participant's keys and the regions' roles.

Expected attributes and judgements live in each exercise's module; this file only names
things, and finds the exercise 2 product when its id was not given.
"""

from __future__ import annotations

import pytest

from gtcheck import workshop
from gtcheck.config import Settings
from gtcheck.converge import World
from gtcheck.diagnose import join
from gtcheck.errors import GtcheckError
from gtcheck.i18n import _
from gtcheck.items import Key
from gtcheck.plugin import GRADER_KEY
from gtcheck.workshop import CATEGORY, PRODUCT_PREFIX, ProductLookup, Roles


@pytest.fixture(scope="session")
def roles(settings: Settings) -> Roles:
    return Roles.of(settings.target.regions)


@pytest.fixture(scope="session")
def participant(settings: Settings) -> str:
    return settings.participant


@pytest.fixture(scope="session")
def user_key(participant: str) -> Key:
    return workshop.user_key(participant)


@pytest.fixture(scope="session")
def order_key(participant: str) -> Key:
    return workshop.order_key(participant)


@pytest.fixture(scope="session", autouse=True)
def _read_once(request: pytest.FixtureRequest) -> None:
    """Name every key known up front, so the first read fetches them all in one batch."""
    grader = request.config.stash.get(GRADER_KEY, None)
    if grader is None:
        return
    settings: Settings = grader.settings
    world = grader.world()
    world.watch(workshop.user_key(settings.participant), workshop.order_key(settings.participant))
    try:
        lookup = request.getfixturevalue("product")  # GSI1, which ex4 reads anyway
        if lookup.key is not None:
            world.watch(lookup.key)
        if all(world.small(region) for region in world.regions):
            found = workshop.timing_keys_in(world.scan_all())  # the first read itself
            world.watch(*workshop.named(found, settings.participant))
    except GtcheckError:
        pass  # the steps that need these reads report why they failed


@pytest.fixture(scope="session")
def product(world: World, settings: Settings) -> ProductLookup:
    """The participant's product: --product-id, else GSI1 by name, else sole ownership."""
    if settings.product_id:
        return ProductLookup(workshop.product_key(settings.product_id))
    found: set[Key] = set()
    for region in world.regions:
        found |= {
            key
            for key in world.index_keys(region, "GSI1", CATEGORY)
            if key[0].startswith(PRODUCT_PREFIX)
        }
    name = settings.participant.casefold()
    mine = sorted(key for key in found if name in key[0].casefold())
    if len(mine) == 1:
        return ProductLookup(mine[0])
    if not mine and len(found) == 1 and len(workshop.profile_keys(world.scan_all())) == 1:
        return ProductLookup(next(iter(found)))
    if not found:
        return ProductLookup(
            None,
            _(
                "no product is listed under GSI1 {category} in any region: create it in the "
                "replica region as exercise 2 shows (with its GSI1PK and GSI1SK), or pass "
                "--product-id"
            ).format(category=CATEGORY),
        )
    shown = sorted(key[0] for key in (mine or found))
    return ProductLookup(None, _ambiguous(shown), shown)


def _ambiguous(shown: list[str], limit: int = 5) -> str:
    """Several products could be the participant's: name a few and ask for --product-id."""
    if len(shown) <= limit:
        return _(
            "cannot tell which product is yours among {candidates}: pass --product-id with "
            "the [unique-id] you used"
        ).format(candidates=join(shown))
    return _(
        "cannot tell which product is yours among {candidates} and {count} more: pass "
        "--product-id with the [unique-id] you used"
    ).format(candidates=", ".join(shown[:limit]), count=len(shown) - limit)
