"""Exercise 3: one order, updated in two regions at once; last writer wins."""

from __future__ import annotations

import pytest

from gtcheck import i18n
from gtcheck.causes import Cause, diagnosis
from gtcheck.converge import World
from gtcheck.diagnose import regions_holding
from gtcheck.i18n import _
from gtcheck.items import Exactly, Key, Matcher, OfType, OneOf, plain, problems, show
from gtcheck.judge import await_replicated, judge_created, problem_diagnoses, source_region
from gtcheck.verdict import Step
from gtcheck.workshop import Roles, lww_claim


def expected_order(participant: str) -> dict[str, Matcher]:
    """The exercise 3 order; total_amount and last_updated_region change with the updates."""
    return {
        "GSI1PK": Exactly("S", "ORDER#conflict-test"),
        "GSI1SK": Exactly("S", "DETAILS"),
        "GSI2PK": Exactly("S", "STATUS#pending"),
        "GSI2SK": Exactly("S", "ORDER#conflict-test"),
        "order_id": Exactly("S", "conflict-test"),
        "user_id": Exactly("S", f"global-user-{participant}"),
        "status": Exactly("S", "pending"),
        "total_amount": OfType("N"),
        "last_updated_region": OfType("S"),
        "conflict_test": Exactly("BOOL", True),
    }


def winners(roles: Roles) -> dict[str, str]:
    """Which region's update each total stands for: 150 from the primary, 200 the replica."""
    return {"150": roles.primary, "200": roles.replica}


@pytest.mark.rubric(
    id="ex3.order_created",
    points=10,
    exercise=3,
    requires=("env.table",),
    primary_only=True,
    title="Conflict-test order created",
)
def test_order_created(
    world: World, step: Step, roles: Roles, order_key: Key, participant: str
) -> None:
    """The order exists with the template's attributes (all or nothing)."""
    judge_created(
        world,
        step,
        order_key,
        roles.primary,
        _("the order"),
        expected_order(participant),
        region_points=None,
    )


@pytest.mark.rubric(
    id="ex3.order_updated",
    points=5,
    exercise=3,
    kind="advanced",
    requires=("ex3.order_created",),
    primary_only=True,
    title="An update landed: total_amount 150 or 200, with update_timestamp",
)
def test_order_updated(world: World, step: Step, roles: Roles, order_key: Key) -> None:
    """One of the two updates of step 2 was applied."""
    order = world.copies(order_key)[source_region(world, order_key, roles.primary)]
    assert order is not None
    issues = problems(
        order, {"total_amount": OneOf("N", ("150", "200")), "update_timestamp": OfType("S")}
    )
    step.evidence = {
        "total_amount": show(order.get("total_amount")),
        "update_timestamp": show(order.get("update_timestamp")),
    }
    if issues:
        step.fail(
            _(
                "the order has not been updated as step 2 shows: {problems}. Apply the US "
                "update (150) in the primary and the EU update (200) in the replica, within "
                "a few seconds of each other"
            ).format(problems="; ".join(map(str, issues))),
            cause=problem_diagnoses(issues),
        )


@pytest.mark.rubric(
    id="ex3.order_converged",
    points=10,
    exercise=3,
    requires=("ex3.order_created", "env.replicas"),
    title="Every region holds an identical copy of the order",
)
def test_order_converged(world: World, step: Step, roles: Roles, order_key: Key) -> None:
    """After the conflict, the regions settle on one copy (polled)."""
    await_replicated(world, step, order_key, roles.primary, _("the order"))


@pytest.mark.rubric(
    id="ex3.lww_coherent",
    points=5,
    exercise=3,
    kind="advanced",
    requires=("ex3.order_converged", "ex3.order_updated"),
    title="Last writer wins: the settled order is one whole write",
)
def test_lww_coherent(world: World, step: Step, roles: Roles, order_key: Key) -> None:
    """150 goes with the primary's update and 200 with the replica's: never a mix."""
    copies = world.copies(order_key)
    order = copies[regions_holding(copies)[0]]
    assert order is not None
    total = str(plain(order.get("total_amount")))
    region = str(plain(order.get("last_updated_region")))
    expected = winners(roles).get(_canonical(total))
    step.evidence = {
        "total_amount": show(order.get("total_amount")),
        "last_updated_region": show(order.get("last_updated_region")),
        "winner": expected,
    }
    if expected is None or region != expected:
        step.fail(
            _(
                "the settled order mixes two writes: total_amount {total} with "
                "last_updated_region {region!r} (150 belongs with {primary}, 200 with "
                "{replica}). Each update must set both attributes together"
            ).format(total=total, region=region, primary=roles.primary, replica=roles.replica),
            cause=diagnosis(Cause.MIXED_WRITE, total_amount=total, last_updated_region=region)
            if expected is not None
            else diagnosis(Cause.WRONG_VALUE, attribute="total_amount"),
        )
    step.note(
        _(
            "{region}'s update won (total_amount {total}). The workshop page says "
            "\u201c{claim}\u201d, but DynamoDB does not decide that way: under last writer "
            "wins, the winner is the write DynamoDB applied last, whatever its "
            "update_timestamp attribute says, so either update may win"
        ).format(region=expected, total=total, claim=lww_claim(i18n.language()))
    )


def _canonical(number: str) -> str:
    try:
        return str(int(float(number)))
    except ValueError:
        return number
