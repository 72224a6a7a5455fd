"""Exercise 5: a timestamped item, replicated, to time replication."""

from __future__ import annotations

import pytest

from gtcheck.converge import World
from gtcheck.diagnose import regions_holding
from gtcheck.items import Exactly, Key, OfType, OneOf, problems
from gtcheck.judge import copy_evidence, replication_hint
from gtcheck.plugin import Step
from gtcheck.workshop import TIMING_PREFIX, profile_keys


def timing_keys(world: World) -> list[Key]:
    """Every `TEST#timing-*` / REPLICATION key in any region (one bounded scan each)."""
    keys = set()
    for items in world.scan_all().values():
        for item in items:
            pk, sk = item.get("PK", {}).get("S"), item.get("SK", {}).get("S")
            if isinstance(pk, str) and pk.startswith(TIMING_PREFIX) and sk == "REPLICATION":
                keys.add((pk, sk))
    return sorted(keys)


@pytest.mark.rubric(
    id="ex5.timing_item",
    points=10,
    exercise=5,
    requires=("env.replicas",),
    title="A timing item, identical in every region",
)
def test_timing_item(world: World, step: Step, participant: str) -> None:
    """A TEST#timing-* item of yours with its fields, identical everywhere (polled)."""
    found = timing_keys(world)
    if not found:
        step.fail(
            "no TEST#timing-* / REPLICATION item in any region: create one as exercise 5 shows"
        )
    sole_owner = len(profile_keys(world.scan_all())) == 1
    mine = found if sole_owner else [k for k in found if participant.casefold() in k[0].casefold()]
    step.evidence["candidates"] = [k[0] for k in found[:20]]
    if not mine:
        step.fail(
            f"found {len(found)} timing item(s) but none carries your name, and the "
            "table holds several participants' profiles, so they belong to nobody in "
            f"particular: put your name in the key, e.g. {TIMING_PREFIX}<time>-{participant}"
        )
    step.found = True
    expected = {
        "created_at": OfType("S"),
        "source_region": OneOf("S", world.regions),
        "test_purpose": Exactly("S", "timing_analysis"),
    }
    reasons = []
    world.watch(*mine)
    for key in mine:
        copies = world.copies(key)
        holders = regions_holding(copies)
        first = copies[holders[0]]
        assert first is not None
        issues = problems(first, expected)
        if issues:
            reasons.append(f"{key[0]}: " + "; ".join(issues))
            continue
        source_attr = first["source_region"]["S"]
        source = source_attr if copies.get(source_attr) is not None else holders[0]
        result = world.await_identical(key, source)
        step.waited_s += result.waited_s
        if result.converged:
            step.evidence.update(copy_evidence(result, source))
            step.evidence["key"] = key[0]
            return
        reasons.append(replication_hint("the timing item", key, source, result, world))
    step.fail("no timing item of yours is complete and replicated: " + "; ".join(reasons[:3]))
