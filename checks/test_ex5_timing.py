"""Exercise 5: a timestamped item, replicated, to time replication."""

from __future__ import annotations

import pytest

from gtcheck import i18n
from gtcheck.causes import Cause, Diagnosis, diagnosis
from gtcheck.converge import World
from gtcheck.diagnose import regions_holding
from gtcheck.i18n import _, ngettext
from gtcheck.items import Exactly, Key, OfType, OneOf, problems
from gtcheck.judge import (
    copy_evidence,
    problem_diagnoses,
    replication_diagnoses,
    replication_hint,
)
from gtcheck.verdict import Step
from gtcheck.workshop import (
    TIMING_PREFIX,
    is_timing,
    named,
    page_placeholders,
    sole_owner,
)


def timing_keys(world: World) -> list[Key]:
    """Timing item keys: from the scans a small table was read with, else from the streams
    (no read capacity), else from one bounded scan per region."""
    if world.scanned_everywhere():
        return sorted(world.timing_keys())
    keys = {key for key in (world.stream_keys() or ()) if is_timing(key)}
    return sorted(keys or world.timing_keys())


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
    world.watch(*found)
    found = [key for key in found if regions_holding(world.copies(key))]
    if not found:
        step.fail(
            _("no TEST#timing-* / REPLICATION item in any region: create one as exercise 5 shows"),
            cause=Cause.NOT_FOUND,
        )
    carrying_name = named(found, participant)
    alone = len(carrying_name) == len(found) or sole_owner(world.profile_keys(), participant)
    mine = found if alone else carrying_name
    step.evidence["candidates"] = [k[0] for k in found[:20]]
    if not mine:
        step.fail(
            ngettext(
                "found {count} timing item but it does not carry your name; the table holds "
                "several participants' profiles, so items without a name belong to nobody in "
                "particular: put your name in the key, e.g. {prefix}{timestamp}-{name}",
                "found {count} timing items but none carries your name; the table holds "
                "several participants' profiles, so items without a name belong to nobody in "
                "particular: put your name in the key, e.g. {prefix}{timestamp}-{name}",
                len(found),
            ).format(
                count=len(found),
                prefix=TIMING_PREFIX,
                timestamp=page_placeholders(i18n.language()).timestamp,
                name=participant,
            ),
            cause=diagnosis(Cause.NOT_FOUND, unnamed=len(found)),
        )
    step.found = True
    expected = {
        "created_at": OfType("S"),
        "source_region": OneOf("S", world.regions),
        "test_purpose": Exactly("S", "timing_analysis"),
    }
    reasons = []
    causes: list[Diagnosis] = []
    world.watch(*mine)
    for key in mine:
        copies = world.copies(key)
        holders = regions_holding(copies)
        if not holders:
            reasons.append(_("{key} was deleted").format(key=key[0]))
            causes.append(diagnosis(Cause.NOT_FOUND, key=key[0]))
            continue
        first = copies[holders[0]]
        assert first is not None
        issues = problems(first, expected)
        if issues:
            reasons.append(f"{key[0]}: " + "; ".join(map(str, issues)))
            causes.extend(problem_diagnoses(issues))
            continue
        source_attr = first["source_region"]["S"]
        source = source_attr if copies.get(source_attr) is not None else holders[0]
        result = world.await_identical(key, source)
        step.waited_s += result.waited_s
        if result.converged:
            step.evidence.update(copy_evidence(result, source))
            step.evidence["key"] = key[0]
            return
        reasons.append(replication_hint(_("the timing item"), key, source, result, world))
        causes.extend(replication_diagnoses(result))
    step.fail(
        _("no timing item of yours is complete and replicated: {reasons}").format(
            reasons="; ".join(reasons[:3])
        ),
        cause=causes,
    )
