"""Exercise 2: write a product in the replica region, read it in the primary."""

from __future__ import annotations

import pytest

from gtcheck.converge import World
from gtcheck.i18n import _
from gtcheck.items import Exactly, Matcher, OfType, Timestamp
from gtcheck.judge import await_replicated, judge_created
from gtcheck.verdict import Step
from gtcheck.workshop import PRODUCT_PREFIX, ProductLookup, Roles


def expected_product(product_id: str, replica: str) -> dict[str, Matcher]:
    """The exercise 2 template's attributes; price and stock must be numbers."""
    sort_key = f"PRODUCT#eu-product-{product_id}"
    return {
        "GSI1PK": Exactly("S", "CATEGORY#eu-electronics"),
        "GSI1SK": Exactly("S", sort_key),
        "GSI2PK": Exactly("S", "PRICE#200-500"),
        "GSI2SK": Exactly("S", sort_key),
        "product_id": Exactly("S", f"eu-product-{product_id}"),
        "name": OfType("S"),
        "description": OfType("S"),
        "category": Exactly("S", "eu-electronics"),
        "price": OfType("N"),
        "stock": OfType("N"),
        "region_created": Exactly("S", replica),
        "created_timestamp": Timestamp(),
        "test_type": Exactly("S", "reverse_replication"),
    }


@pytest.mark.rubric(
    id="ex2.product_created",
    points=10,
    exercise=2,
    requires=("env.table",),
    title="Product created in the replica region",
)
def test_product_created(world: World, step: Step, roles: Roles, product: ProductLookup) -> None:
    """5 points for the product in the replica region, 5 for its attributes."""
    if product.key is None:
        step.evidence["candidates"] = product.candidates
        step.fail(product.hint or _("the product could not be found"), cause=product.cause)
    product_id = product.key[0].removeprefix(PRODUCT_PREFIX)
    expected = expected_product(product_id, roles.replica)
    judge_created(world, step, product.key, roles.replica, _("the product"), expected)


@pytest.mark.rubric(
    id="ex2.product_replicated",
    points=10,
    exercise=2,
    requires=("ex2.product_created", "env.replicas"),
    title="Product replicated, identical, to the primary and every other region",
)
def test_product_replicated(world: World, step: Step, roles: Roles, product: ProductLookup) -> None:
    """The primary and every other region hold an identical copy (polled)."""
    assert product.key is not None
    await_replicated(world, step, product.key, roles.replica, _("the product"))
