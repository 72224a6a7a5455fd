"""Exercise 4: the GSIs answer the same queries in every region."""

from __future__ import annotations

import pytest

from gtcheck.causes import Cause, diagnosis
from gtcheck.converge import World
from gtcheck.diagnose import join, missing_index_keys, regions_holding
from gtcheck.i18n import _
from gtcheck.items import Key, plain
from gtcheck.verdict import Step
from gtcheck.workshop import CATEGORY, PENDING, ProductLookup


def judge_index(world: World, step: Step, index: str, partition: str, key: Key, what: str) -> None:
    """Wait until `key` is listed under `partition` in `index` everywhere; say why not."""
    copies = world.copies(key)
    holding = [copies[r] for r in regions_holding(copies)]
    listed = [c for c in holding if plain(c.get(f"{index}PK")) == partition]  # type: ignore[union-attr]
    if not listed:
        lacking = missing_index_keys(holding[0], index) if holding else []
        found = plain(holding[0].get(f"{index}PK")) if holding else None  # type: ignore[union-attr]
        reason = (
            _("it has no {attributes}").format(attributes=join(lacking))
            if lacking
            else _("its {index}PK is {found!r}, not {partition!r}").format(
                index=index, found=found, partition=partition
            )
        )
        if not holding:
            cause = diagnosis(Cause.NOT_FOUND)
        elif lacking:
            cause = diagnosis(Cause.MISSING_GSI_KEYS, index=index)
        else:
            cause = diagnosis(Cause.WRONG_VALUE, attribute=f"{index}PK")
        step.fail(
            _(
                "{what} cannot appear in a {index} query for {partition}: {reason}. Add "
                "{index}PK and {index}SK as the template shows"
            ).format(what=what, index=index, partition=partition, reason=reason),
            cause=cause,
        )
    result = world.await_in_index(index, partition, key)
    step.waited_s = result.waited_s
    step.evidence = {
        "index": index,
        "partition": partition,
        "key": list(key),
        "found_in": result.found_in,
        "missing_in": result.missing_in,
    }
    if not result.converged:
        step.fail(
            _(
                "a {index} query for {partition} does not return {what} in {regions} yet "
                "(still pending after {seconds:.0f} s): index propagation follows "
                "replication; check again shortly"
            ).format(
                index=index,
                partition=partition,
                what=what,
                regions=join(result.missing_in),
                seconds=world.elapsed(),
            ),
            cause=diagnosis(Cause.PENDING, index=index, regions=result.missing_in),
        )


@pytest.mark.rubric(
    id="ex4.gsi1_category",
    points=10,
    exercise=4,
    requires=("ex2.product_created", "env.indexes"),
    title="GSI1 category query finds your product in every region",
)
def test_gsi1_category(world: World, step: Step, product: ProductLookup) -> None:
    """Querying GSI1 for CATEGORY#eu-electronics returns the product's key everywhere."""
    assert product.key is not None
    judge_index(world, step, "GSI1", CATEGORY, product.key, _("your product"))


@pytest.mark.rubric(
    id="ex4.gsi2_status",
    points=10,
    exercise=4,
    requires=("ex3.order_created", "env.indexes"),
    title="GSI2 status query finds your order in every region",
)
def test_gsi2_status(world: World, step: Step, order_key: Key) -> None:
    """Querying GSI2 for STATUS#pending returns the order's key everywhere."""
    judge_index(world, step, "GSI2", PENDING, order_key, _("your order"))
