"""The run's budget: capacity accrues from nothing at half the provisioned rate, a
request waits while its region is in debt, writes are charged in every region, and
measurements (the probes' items) are charged but never held. Time is injected."""

from __future__ import annotations

import pytest

from gtcheck import marks
from gtcheck.sim import ManualClock
from gtcheck.validation.spend import READ_HEADROOM, Spend, table_units

TABLE = "demo-ecommerce-freetier"
US, EU = "us-east-1", "eu-west-1"


class Model:
    def __init__(self, name: str) -> None:
        self.name = name


def make_spend() -> tuple[ManualClock, Spend]:
    clock = ManualClock(start=0.0)
    spend = Spend(TABLE, (US, EU), clock.now, clock.advance, run_id="r1")
    for region in (US, EU):
        spend.provision(region, {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5})
    return clock, spend


def call(spend: Spend, operation: str, region: str, params: dict, units: float) -> None:
    """One request as botocore would emit it: before, then after with its answer."""
    context = {"client_region": region}
    spend._before(params=params, model=Model(operation), context=context)
    consumed = {"TableName": TABLE, "CapacityUnits": units, "Table": {"CapacityUnits": units}}
    spend._after(parsed={"ConsumedCapacity": consumed}, context=context)


def test_a_write_waits_until_accrued_and_is_charged_in_every_region():
    """Nothing in hand at first: the first write waits for nothing (no debt yet), the
    next waits until every region has paid the first (each replica pays for it)."""
    clock, spend = make_spend()
    key = {"PK": {"S": "USER#x"}, "SK": {"S": "PROFILE"}}
    call(spend, "PutItem", US, {"Item": key}, 1.0)
    assert clock.now() == 0.0
    assert spend.spent() == {
        US: {"read_units": 0.0, "write_units": 1.0},
        EU: {"read_units": 0.0, "write_units": 1.0},
    }
    call(spend, "PutItem", EU, {"Item": key}, 1.0)
    assert clock.now() == pytest.approx(1.0 / 2.5)  # half of 5 WCU a second


def test_reads_are_charged_in_their_region_only_and_keep_headroom():
    clock, spend = make_spend()
    key = {"PK": {"S": "USER#x"}, "SK": {"S": "PROFILE"}}
    call(spend, "GetItem", EU, {"Key": key}, 2.0)
    call(spend, "GetItem", EU, {"Key": key}, 1.0)
    assert clock.now() == pytest.approx(2.0 / (2.5 * READ_HEADROOM))
    assert spend.spent()[US]["read_units"] == 0.0
    assert spend.spent()[EU]["read_units"] == 3.0


def test_the_probes_items_are_charged_but_never_held():
    clock, spend = make_spend()
    probe = marks.probe_key("r1", US, EU, 0)
    for _ in range(10):
        call(spend, "PutItem", US, {"Item": probe}, 1.0)
    assert clock.now() == 0.0
    assert spend.spent()[EU]["write_units"] == 10.0
    other = {"PK": {"S": "USER#x"}, "SK": {"S": "PROFILE"}}
    call(spend, "PutItem", US, {"Item": other}, 1.0)  # pays the probes' burst first
    assert clock.now() == pytest.approx(10.0 / 2.5)


def test_budget_waits_end_at_the_runs_deadline():
    clock, spend = make_spend()
    spend.deadline = 1.0
    key = {"PK": {"S": "USER#x"}, "SK": {"S": "PROFILE"}}
    call(spend, "PutItem", US, {"Item": key}, 25.0)
    call(spend, "PutItem", US, {"Item": key}, 1.0)
    assert clock.now() == pytest.approx(1.0)


def test_table_units_reads_total_and_indexes_answers():
    assert table_units(None, TABLE) == 1.0  # no answer: an estimate
    assert table_units({"TableName": TABLE, "CapacityUnits": 3.0}, TABLE) == 3.0
    indexes = {"TableName": TABLE, "CapacityUnits": 5.0, "Table": {"CapacityUnits": 1.0}}
    assert table_units(indexes, TABLE) == 1.0
    assert table_units([indexes, {"TableName": "other", "CapacityUnits": 9}], TABLE) == 1.0
