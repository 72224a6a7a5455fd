"""Judgements several exercises share: "created in region R with these attributes" and
"replicated, identical, everywhere". Each check supplies what it expects."""

from __future__ import annotations

from typing import Any

from gtcheck.causes import Cause, Diagnosis, diagnosis
from gtcheck.converge import Convergence, World
from gtcheck.diagnose import (
    join,
    near_misses,
    not_found_diagnosis,
    not_found_hint,
    regions_holding,
)
from gtcheck.i18n import _
from gtcheck.items import Attributes, Key, Matcher, Problem, problems, show
from gtcheck.verdict import Step


def judge_created(
    world: World,
    step: Step,
    key: Key,
    region: str,
    what: str,
    expected: dict[str, Matcher],
    *,
    region_points: int | None = 5,
) -> Attributes:
    """Find `key`, grade where it was written and its attributes; returns the copy judged.

    With `region_points`, that many points are for the right region and the rest for the
    attributes; with None only the attributes count, all or nothing. Fails fast when the
    item is nowhere.
    """
    world.require(region)  # the table must exist where this item belongs
    copies = world.copies(key)
    holders = regions_holding(copies)
    if not holders:
        misses = near_misses(key, world.scan_all())
        step.fail(
            not_found_hint(sentence_case(what), key, region, misses),
            cause=not_found_diagnosis(misses),
        )
    step.found = True
    copy = copies[region] if copies[region] is not None else copies[holders[0]]
    assert copy is not None
    issues = problems(copy, expected)
    causes = problem_diagnoses(issues)
    hints = []
    region_ok = True
    if region_points is None:
        pass  # the rubric grades this item's contents only, not where it was written
    elif copies[region] is None:
        region_ok = False
        causes.insert(0, diagnosis(Cause.WRONG_REGION, expected=region, found_in=holders))
        hints.append(
            _(
                "{what} is in {regions} but not in {region}: this exercise writes it in "
                "{region}; switch the console to {region} and create it there"
            ).format(what=what, regions=join(holders), region=region)
        )
    else:
        origin = world.first_writer(key)
        if origin is not None:
            step.evidence["first_written_in"] = origin
        if origin is not None and origin != region:
            region_ok = False
            causes.insert(0, diagnosis(Cause.WRONG_REGION, expected=region, written_in=origin))
            hints.append(
                _(
                    "{what} was written in {origin} and replicated to {region}: this exercise "
                    "writes it in {region} (check the region selector before creating items)"
                ).format(what=what, origin=origin, region=region)
            )
    if issues:
        hints.append(
            _("{what}: {problems}").format(what=what, problems="; ".join(map(str, issues)))
        )
    maximum = step.spec.points
    if region_points is None:
        points = 0 if (issues or not region_ok) else maximum
    else:
        points = (region_points if region_ok else 0) + (0 if issues else maximum - region_points)
    step.evidence.update(
        {
            "key": {"PK": key[0], "SK": key[1]},
            "expected": {name: matcher.describe() for name, matcher in expected.items()},
            "found_in": holders,
            "copies": shown_copies(copies),
            "problems": [str(issue) for issue in issues],
        }
    )
    if points < maximum:
        step.fail(". ".join(hints), cause=causes, points=points)
    return copy


def problem_diagnoses(issues: list[Problem]) -> list[Diagnosis]:
    """Each attribute problem as its cause, naming the attribute."""
    return [diagnosis(issue.cause, attribute=issue.attribute) for issue in issues]


def sentence_case(text: str) -> str:
    """`text` with a capital first letter, the rest untouched (names like GSI1 stay)."""
    return text[:1].upper() + text[1:]


def source_region(world: World, key: Key, preferred: str) -> str:
    """Where to compare from: the region the item belongs in, else any that holds it."""
    copies = world.copies(key)
    return preferred if copies[preferred] is not None else regions_holding(copies)[0]


def await_replicated(world: World, step: Step, key: Key, preferred: str, what: str) -> Attributes:
    """Wait until every region holds a copy identical to the source's; fail with why not."""
    source = source_region(world, key, preferred)
    result = world.await_identical(key, source)
    step.waited_s = result.waited_s
    step.evidence = copy_evidence(result, source)
    if not result.converged:
        step.fail(
            replication_hint(what, key, source, result, world),
            cause=replication_diagnoses(result),
        )
    reference = result.copies[source]
    assert reference is not None
    return reference


def copy_evidence(result: Convergence, source: str) -> dict[str, Any]:
    """Per region: identical (and when it matched), missing, or which attributes differ."""
    regions: dict[str, Any] = {}
    for region, copy in result.copies.items():
        if region in result.matched_at_s:
            regions[region] = {"state": "identical", "matched_at_s": result.matched_at_s[region]}
        elif copy is None:
            regions[region] = {"state": "missing"}
        else:
            regions[region] = {
                "state": "differs",
                "differences": [d.describe(source, region) for d in result.differences[region]],
            }
    return {
        "source": source,
        "regions": regions,
        "copies": shown_copies(result.copies),
        "waited_s": result.waited_s,
    }


def shown_copies(copies: dict[str, Attributes | None]) -> dict[str, dict[str, str] | None]:
    """Each region's copy with printable, shortened values, for the report."""
    return {
        region: None
        if copy is None
        else {name: show(value) for name, value in sorted(copy.items())}
        for region, copy in copies.items()
    }


def replication_diagnoses(result: Convergence) -> list[Diagnosis]:
    """Why copies do not match, as data: pending where a region has no copy yet, differing
    attributes where it has one."""
    found = []
    missing = [r for r in result.pending if result.copies[r] is None]
    if missing:
        found.append(diagnosis(Cause.PENDING, regions=missing))
    for region in result.pending:
        if region in result.differences:
            attributes = [d.name for d in result.differences[region]]
            found.append(diagnosis(Cause.ATTRIBUTES_DIFFER, region=region, attributes=attributes))
    return found or [diagnosis(Cause.PENDING, regions=list(result.pending))]


def replication_hint(what: str, key: Key, source: str, result: Convergence, world: World) -> str:
    """Why copies do not match: still pending at the deadline, or differing attributes."""
    missing = [r for r in result.pending if result.copies[r] is None]
    differing = [r for r in result.pending if r in result.differences]
    parts = []
    if missing:
        parts.append(
            _(
                "{what} {pk} / {sk} is still pending in {regions} after {seconds:.0f} s (the "
                "run's deadline): replication has not delivered it. Check that every replica "
                "is ACTIVE, then check again (or raise --timeout)"
            ).format(
                what=what,
                pk=key[0],
                sk=key[1],
                regions=join(missing),
                seconds=world.elapsed(),
            )
        )
    for region in differing:
        shown = "; ".join(d.describe(source, region) for d in result.differences[region][:5])
        parts.append(
            _(
                "{what} is still pending: it differs between {source} and {region} "
                "({differences}). A later write may still be replicating; last writer wins "
                "per item, so the regions settle on one whole copy"
            ).format(what=what, source=source, region=region, differences=shown)
        )
    return ". ".join(parts)
