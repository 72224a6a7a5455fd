"""Exercise 1: write the global user in the primary region, read it in the replica."""

from __future__ import annotations

import pytest

from gtcheck.converge import World
from gtcheck.i18n import _
from gtcheck.items import Exactly, Key, Matcher, OfType, Timestamp
from gtcheck.judge import await_replicated, judge_created
from gtcheck.verdict import Step
from gtcheck.workshop import Roles


def expected_user(participant: str, primary: str) -> dict[str, Matcher]:
    """The exercise 1 template's attributes, as the rubric grades them."""
    return {
        "GSI1PK": Exactly("S", f"USER#{participant}@global.com"),
        "GSI1SK": Exactly("S", "PROFILE"),
        "user_id": Exactly("S", f"global-user-{participant}"),
        "name": OfType("S"),
        "email": Exactly("S", f"{participant}@global.com"),
        "region_created": Exactly("S", primary),
        "created_timestamp": Timestamp(),
        "test_type": Exactly("S", "global_replication"),
        "workshop_session": Exactly("S", "module3"),
    }


@pytest.mark.rubric(
    id="ex1.user_created",
    points=10,
    exercise=1,
    requires=("env.table",),
    primary_only=True,
    title="Global user created in the primary region",
)
def test_user_created(
    world: World,
    step: Step,
    roles: Roles,
    user_key: Key,
    participant: str,
    name_note: str | None,
) -> None:
    """5 points for the user in the primary region, 5 for its attributes; a name stored in
    another Unicode normal form than typed passes, with a note."""
    if name_note:
        step.note(name_note)
        step.evidence["participant_stored_as"] = participant
    expected = expected_user(participant, roles.primary)
    judge_created(world, step, user_key, roles.primary, _("the user"), expected)


@pytest.mark.rubric(
    id="ex1.user_replicated",
    points=10,
    exercise=1,
    requires=("ex1.user_created", "env.replicas"),
    title="Global user replicated, identical, to every other region",
)
def test_user_replicated(world: World, step: Step, roles: Roles, user_key: Key) -> None:
    """Every other region holds an identical copy (polled until the run's deadline)."""
    await_replicated(world, step, user_key, roles.primary, _("the user"))
