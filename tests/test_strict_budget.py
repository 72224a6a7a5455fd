"""A budget without burst: no request costs more than the bucket holds, and a caller that
grades again and again keeps paying back what its earlier rounds spent."""

from __future__ import annotations

import argparse
from typing import Any

import pytest

from gtcheck import grade
from gtcheck.budget import STRICT_BURST_SECONDS, ReadBudget
from gtcheck.config import Runtime, settings_from_options
from gtcheck.errors import UsageError
from gtcheck.items import key_attributes
from gtcheck.reader import PageSizer, Reader, page_units
from gtcheck.target import Target
from tests.test_reader import TABLE, Clock

US = "us-east-1"


class FakeTable:
    """DescribeTable, Scan and BatchGetItem over `count` items of about `size` bytes."""

    def __init__(self, count: int, size: int) -> None:
        self.items = [
            {**key_attributes((f"K{n:04d}", "S")), "pad": {"S": "x" * size}} for n in range(count)
        ]
        self.requests: list[tuple[str, dict[str, Any]]] = []

    def describe_table(self, **request: Any) -> dict[str, Any]:
        return {"Table": {"ProvisionedThroughput": {"ReadCapacityUnits": 5}}}

    def scan(self, **request: Any) -> dict[str, Any]:
        self.requests.append(("scan", request))
        start = int(request.get("ExclusiveStartKey", {}).get("n", 0))
        page = self.items[start : start + request["Limit"]]
        answer: dict[str, Any] = {"Items": page}
        if start + len(page) < len(self.items):
            answer["LastEvaluatedKey"] = {"n": start + len(page)}
        return answer

    def batch_get_item(self, **request: Any) -> dict[str, Any]:
        keys = request["RequestItems"][TABLE]["Keys"]
        self.requests.append(("batch", request))
        wanted = {(k["PK"]["S"], k["SK"]["S"]) for k in keys}
        found = [i for i in self.items if (i["PK"]["S"], i["SK"]["S"]) in wanted]
        return {"Responses": {TABLE: found}}


class FakeClients:
    def __init__(self, table: FakeTable) -> None:
        self.target = Target(TABLE, (US, "eu-west-1"))
        self.table = table

    def dynamodb(self, region: str) -> FakeTable:
        return self.table


def strict_reader(table: FakeTable, clock: Clock) -> Reader:
    budget = ReadBudget(clock.monotonic, 0.5, STRICT_BURST_SECONDS)
    return Reader(
        FakeClients(table),  # type: ignore[arg-type]
        deadline=600.0,
        monotonic=clock.monotonic,
        sleep=clock.sleep,
        budget=budget,
    )


def test_a_scan_page_never_costs_more_than_one_seconds_share() -> None:
    """5 RCU provisioned, half for grading, one second deep: 2.5 units a page at most."""
    clock = Clock()
    table = FakeTable(count=300, size=400)
    read = strict_reader(table, clock)
    items, whole = read.scan(US)
    assert whole
    assert len(items) == 300
    pages = [request for kind, request in table.requests if kind == "scan"]
    costs = [page_units(table.items[:limit]) for limit in (p["Limit"] for p in pages)]
    assert max(costs) <= 2.5
    assert len(pages) > 3  # paced over several seconds, not read at once
    assert read.budget.total_spent() / clock.now <= 2.5 + 2.5 / clock.now  # its rate, on average


def test_a_batch_get_names_no_more_keys_than_the_bucket_pays_for() -> None:
    clock = Clock()
    table = FakeTable(count=40, size=100)
    read = strict_reader(table, clock)
    read.describe(US)
    keys = [(item["PK"]["S"], item["SK"]["S"]) for item in table.items]
    found = read.batch_get(US, keys, wait_for_budget=True)
    assert found is not None
    assert all(found.values())
    sizes = [len(request["RequestItems"][TABLE]["Keys"]) for _, request in table.requests]
    assert max(sizes) == 5
    assert sum(sizes) == 40


def test_the_page_size_follows_the_items_as_read() -> None:
    sizer = PageSizer(lambda: 2.5, 200)
    assert sizer.limit() == 20  # 1 KB assumed: 20 KB is 5 reads of 4 KB, 2.5 units
    sizer.saw([{"pad": {"S": "x" * 80}}] * 10)
    assert sizer.limit() > 100  # small items: many fit in the same units
    assert sizer.units() <= 2.5


def test_a_board_keeps_each_tables_budget_from_round_to_round(monkeypatch: Any) -> None:
    """`grade --watch` grades through one runtime: round 2 starts with what round 1 left."""
    seen: list[Runtime] = []

    def one_round(args: argparse.Namespace, runtime: Runtime) -> tuple[int, Any]:
        seen.append(runtime)
        runtime.budgets.setdefault("table", ReadBudget(lambda: 0.0)).charge(US, TABLE, 1.0)
        return 1, None

    monkeypatch.setattr(grade, "grade_live", one_round)
    args = argparse.Namespace(every=30.0)
    grade.watch_live(args, Runtime(), sleep=lambda seconds: None, max_rounds=3)
    assert len(seen) == 3
    assert seen[0] is seen[1] is seen[2]
    assert seen[0].budgets["table"].total_spent() == 3.0


def test_the_board_asks_for_a_budget_without_burst(tmp_path: Any) -> None:
    args = argparse.Namespace(
        roster=tmp_path / "r.csv", endpoint_url=None, profile=None, table=TABLE, regions=[US],
        timeout=30.0, report_dir=tmp_path, lang=None, watch=True, every=30.0, product_id=None,
    )  # fmt: skip
    argv = grade.pytest_args(args)
    assert argv[argv.index("--read-burst") + 1] == "1"
    once = argparse.Namespace(**{**vars(args), "watch": False})
    assert "--read-burst" not in grade.pytest_args(once)


@pytest.mark.parametrize("burst", ["0", "301", "soon"])
def test_a_read_burst_out_of_range_is_one_line(burst: str) -> None:
    option = argparse.Namespace(
        participant="ana", gt_roster=None, gt_all=False, product_id=None,
        gt_regions="us-east-1,eu-west-1", gt_timeout="30", gt_read_budget="0.5",
        gt_read_burst=burst, gt_endpoint_url=None, gt_table=None, gt_profile=None,
        gt_report_dir="reports",
    )  # fmt: skip
    with pytest.raises(UsageError, match="--read-burst"):
        settings_from_options(option)
