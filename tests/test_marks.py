"""What gtcheck writes expires within the hour and, for probes, is marked as its own."""

from __future__ import annotations

from datetime import UTC, datetime

from freezegun import freeze_time

from gtcheck import marks, templates
from gtcheck.aws import Clients, Target
from gtcheck.bot import solve
from gtcheck.templates import Placeholders
from gtcheck.workshop import TTL_ATTRIBUTE

FROZEN = datetime(2026, 11, 26, 15, 1, 2, tzinfo=UTC)


def test_every_item_solve_writes_expires_an_hour_after_the_frozen_wall_clock(sim):
    """With the wall clock frozen (solve's default clock), every item solve put, in every
    region, carries `ttl` = now + 3600 as a number: the same value everywhere, since it
    replicates, so the checks' "identical" still holds."""
    target = Target(table=sim.config.table, regions=sim.config.regions)
    clients = Clients(target, sim.session(), read_only=False)
    with freeze_time(FROZEN):
        result = solve(
            clients,
            target,
            Placeholders("ana", "ana"),
            sleep=sim.advance,
            monotonic=sim.clock.now,
        )
    expected = {"N": str(int(FROZEN.timestamp()) + 3600)}
    keys = {(key["PK"], key["SK"]) for _, key in result.written}
    assert len(keys) == 4  # the user, the product, the order and the timing item
    for pk, sk in keys:
        for region in target.regions:
            item = clients.dynamodb(region).get_item(
                TableName=target.table, Key=templates.to_attributes({"PK": pk, "SK": sk})
            )["Item"]
            assert item[TTL_ATTRIBUTE] == expected, (pk, region)


def test_expiry_is_whole_seconds_an_hour_ahead():
    assert marks.expires_at(1_790_000_000.75) == 1_790_003_600


def test_probe_items_carry_prefix_marker_and_ttl():
    """A probe's key names its run and direction; the item carries the marker and TTL."""
    key = marks.probe_key("abc123", "us-east-1", "eu-west-1", 7)
    assert key == {
        "PK": {"S": "GTCHECK#probe-abc123-us-east-1>eu-west-1-0007"},
        "SK": {"S": "PROBE"},
    }
    item = marks.probe_item(key, "abc123", 1_790_003_600)
    assert item[marks.PROBE_MARKER] == {"S": "abc123"}
    assert item[TTL_ATTRIBUTE] == {"N": "1790003600"}
    assert marks.is_probe(item)


def test_an_item_is_a_probe_only_with_both_prefix_and_marker():
    """A participant who names an item like a probe, or adds the marker attribute to their
    own item, never has it taken for one."""
    prefix_only = {"PK": {"S": "GTCHECK#probe-mine"}, "SK": {"S": "PROBE"}}
    marker_only = {
        "PK": {"S": "USER#global-user-ana"},
        "SK": {"S": "PROFILE"},
        marks.PROBE_MARKER: {"S": "x"},
    }
    malformed = {"PK": {"N": "1"}, marks.PROBE_MARKER: {"S": "x"}}
    assert not any(marks.is_probe(item) for item in (prefix_only, marker_only, malformed))


def test_run_ids_differ_and_fit_a_key():
    ids = {marks.new_run_id() for _ in range(50)}
    assert len(ids) == 50
    assert all(run_id.isalnum() for run_id in ids)
