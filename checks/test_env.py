"""The environment the workshop runs on: table, replicas, indexes, streams (docs/rubric.md)."""

from __future__ import annotations

from typing import Any

import pytest

from gtcheck.causes import Cause, diagnosis
from gtcheck.converge import World
from gtcheck.diagnose import join
from gtcheck.errors import EnvironmentProblem, TableMissing
from gtcheck.i18n import _
from gtcheck.verdict import Step
from gtcheck.workshop import Roles

KEYS = [{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}]


@pytest.mark.rubric(
    id="env.table",
    points=0,
    exercise=0,
    kind="gating",
    title="The workshop table exists and is ACTIVE in every region",
)
def test_table(world: World, step: Step, roles: Roles) -> None:
    """Every region has the table, ACTIVE, keyed by PK and SK strings."""
    problems = []
    for region in world.regions:
        # In a replica's region the table is the replica: missing or not ACTIVE, it is the
        # replica that is.
        replica = region != roles.primary
        table = describe(world, step, region, replica=replica)
        step.evidence[region] = {"status": table.get("TableStatus")}
        status = table.get("TableStatus")
        if replica and status == "CREATING":
            step.error(
                creating_hint([region]),
                cause=diagnosis(Cause.REPLICA_NOT_ACTIVE, replicas={region: status}),
            )
        if status != "ACTIVE":
            step.error(
                _(
                    "table {table} in {region} is {status}, not ACTIVE: wait for it and check again"
                ).format(table=world.table, region=region, status=status),
                cause=diagnosis(
                    Cause.REPLICA_NOT_ACTIVE if replica else Cause.ENVIRONMENT, region=region
                ),
            )
        types = {
            a["AttributeName"]: a["AttributeType"] for a in table.get("AttributeDefinitions", [])
        }
        if sorted(table.get("KeySchema", []), key=lambda k: k["KeyType"]) != KEYS or (
            types.get("PK") != "S" or types.get("SK") != "S"
        ):
            problems.append(
                _("in {region} the key schema is not PK (S, hash) / SK (S, range)").format(
                    region=region
                )
            )
    if problems:
        step.fail(
            _("{problems}: recreate the table from the workshop's stack").format(
                problems="; ".join(problems)
            ),
            cause=Cause.ENVIRONMENT,
        )


def creating_hint(regions: list[str]) -> str:
    """A replica being created is not missing: it needs time, not a fix."""
    return _(
        "the replica in {regions} is still being created (CREATING): this takes a few "
        "minutes; wait until it is ACTIVE, then check again"
    ).format(regions=join(regions))


def describe(world: World, step: Step, region: str, *, replica: bool) -> dict[str, Any]:
    """The table's description in `region`; a table missing in a replica's region is a
    missing replica (the error says where, and what to do)."""
    try:
        return world.describe(region)
    except TableMissing:
        if replica:
            step.diagnose(diagnosis(Cause.REPLICA_MISSING, region=region))
        raise


@pytest.mark.rubric(
    id="env.replicas",
    points=0,
    exercise=0,
    kind="gating",
    requires=("env.table",),
    title="A global table with an ACTIVE replica in every region",
)
def test_replicas(world: World, step: Step, roles: Roles) -> None:
    """Each region's description lists the other regions as ACTIVE replicas (2019.11.21)."""
    for region in world.regions:
        table = describe(world, step, region, replica=region != roles.primary)
        replicas = {r.get("RegionName"): r.get("ReplicaStatus") for r in table.get("Replicas", [])}
        replicas.setdefault(region, "ACTIVE")  # DescribeTable lists the other replicas
        step.evidence[region] = {"replicas": replicas, "version": table.get("GlobalTableVersion")}
        missing = [r for r in world.regions if r not in replicas]
        if missing:
            step.error(
                _(
                    "the table in {region} has no replica in {missing}: it is not a global "
                    "table across {regions}; add the replica (the stack creates only {primary})"
                ).format(
                    region=region,
                    missing=join(missing),
                    regions=join(world.regions),
                    primary=roles.primary,
                ),
                cause=diagnosis(Cause.REPLICA_MISSING, regions=missing),
            )
        inactive = {r: s for r, s in replicas.items() if r in world.regions and s != "ACTIVE"}
        if inactive:
            cause = diagnosis(Cause.REPLICA_NOT_ACTIVE, replicas=inactive)
            if set(inactive.values()) == {"CREATING"}:
                step.error(creating_hint(list(inactive)), cause=cause)
            shown = join(
                _("{region} is {status}").format(region=r, status=s) for r, s in inactive.items()
            )
            step.error(
                _("replicas are not ready: {states}; wait until ACTIVE").format(states=shown),
                cause=cause,
            )


@pytest.mark.rubric(
    id="env.indexes",
    points=0,
    exercise=0,
    kind="gating",
    requires=("env.table",),
    title="GSI1 and GSI2 exist with their keys, ACTIVE, in every region",
)
def test_indexes(world: World, step: Step) -> None:
    """Both GSIs have the workshop's string keys and are ACTIVE in every region."""
    for region in world.regions:
        table = world.describe(region)
        indexes = {i["IndexName"]: i for i in table.get("GlobalSecondaryIndexes", [])}
        step.evidence[region] = {
            name: {
                "status": i.get("IndexStatus"),
                "projection": i.get("Projection", {}).get("ProjectionType"),
            }
            for name, i in indexes.items()
        }
        for name in ("GSI1", "GSI2"):
            index = indexes.get(name)
            if index is None:
                raise EnvironmentProblem(
                    _("index {index} is missing in {region}").format(index=name, region=region)
                )
            keys = {k["KeyType"]: k["AttributeName"] for k in index.get("KeySchema", [])}
            if keys != {"HASH": f"{name}PK", "RANGE": f"{name}SK"}:
                raise EnvironmentProblem(
                    _(
                        "index {index} in {region} is keyed {keys}, not {index}PK / {index}SK"
                    ).format(index=name, region=region, keys=keys)
                )
            if index.get("IndexStatus", "ACTIVE") != "ACTIVE":
                raise EnvironmentProblem(
                    _("index {index} in {region} is {status}: wait until ACTIVE").format(
                        index=name, region=region, status=index.get("IndexStatus")
                    )
                )


@pytest.mark.rubric(
    id="env.streams",
    points=0,
    exercise=0,
    kind="info",
    requires=("env.table",),
    title="Streams on, NEW_AND_OLD_IMAGES, in every region",
)
def test_streams(world: World, step: Step) -> None:
    """Global tables replicate through the stream, which must show new and old images."""
    wrong = []
    for region in world.regions:
        spec = world.describe(region).get("StreamSpecification") or {}
        step.evidence[region] = spec
        if not spec.get("StreamEnabled") or spec.get("StreamViewType") != "NEW_AND_OLD_IMAGES":
            wrong.append(region)
    if wrong:
        step.fail(
            _("the stream is off or not NEW_AND_OLD_IMAGES in {regions}").format(
                regions=join(wrong)
            ),
            cause=diagnosis(Cause.ENVIRONMENT, regions=wrong),
        )
