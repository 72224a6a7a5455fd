"""Helpers for grading tests: write workshop states straight into a simulator, run a check."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from gtcheck import check, templates
from gtcheck.config import Runtime
from gtcheck.sim import ManualClock, Simulator

TABLE = "demo-ecommerce-freetier"


def put(sim: Simulator, region: str, item: dict[str, Any]) -> None:
    sim.client("dynamodb", region).put_item(TableName=TABLE, Item=templates.to_attributes(item))


def update(sim: Simulator, region: str, key: dict[str, Any], changes: dict[str, Any]) -> None:
    values = templates.to_attributes(changes)
    names = list(values)
    sim.client("dynamodb", region).update_item(
        TableName=TABLE,
        Key=templates.to_attributes(key),
        UpdateExpression="SET " + ", ".join(f"#a{i} = :v{i}" for i in range(len(names))),
        ExpressionAttributeNames={f"#a{i}": name for i, name in enumerate(names)},
        ExpressionAttributeValues={f":v{i}": values[name] for i, name in enumerate(names)},
    )


def placeholders(participant: str, product_id: str | None = None) -> templates.Placeholders:
    return templates.Placeholders(
        participant=participant,
        product_id=product_id or participant,
        timestamp=f"20261126T150000-{participant}",
        exact_timestamp="2026-11-26T15:00:00.000Z",
    )


def write_workshop(sim: Simulator, participant: str, *, settle: bool = True) -> None:
    """Every item of the workshop, each in the region the page says, without waiting.

    With `settle`, time advances between the steps as a participant's would, so each
    write has replicated before the next; without it, everything is still in flight.
    """
    primary, replica = sim.config.regions[:2]
    values = placeholders(participant)

    def pause() -> None:
        if settle and isinstance(sim.clock, ManualClock):
            sim.advance(sim.config.lag + sim.config.jitter + 0.5)

    put(sim, primary, templates.render(templates.load(templates.USER), values))
    pause()
    put(sim, replica, templates.render(templates.load(templates.PRODUCT), values))
    pause()
    order = templates.render(templates.load(templates.ORDER), values)
    put(sim, primary, order)
    pause()
    key = {"PK": order["PK"], "SK": order["SK"]}
    update(sim, primary, key, templates.load(templates.ORDER_UPDATE_US))
    if isinstance(sim.clock, ManualClock):
        sim.advance(0.5)  # the partner's update, inside the replication window: a conflict
    update(sim, replica, key, templates.load(templates.ORDER_UPDATE_EU))
    pause()
    put(sim, primary, templates.render(templates.load(templates.TIMING), values))
    pause()


def grade(
    sim: Simulator,
    participant: str,
    report_dir: Path,
    *,
    timeout: float = 30.0,
    session: Any = None,
    product_id: str | None = None,
    regions: tuple[str, ...] | None = None,
    lang: str | None = None,
) -> tuple[int, dict[str, Any]]:
    """Run `gtcheck check` in process against `sim`, time injected; returns (exit, report)."""
    args = argparse.Namespace(
        participant=participant,
        product_id=product_id,
        endpoint_url=None,
        profile=None,
        table=TABLE,
        regions=regions or sim.config.regions,
        timeout=timeout,
        report_dir=report_dir,
        lang=lang,
    )
    runtime = Runtime(session=session or sim.session(), monotonic=sim.clock.now, sleep=sim.advance)
    code, grader = check.run(args, runtime, quiet=True)
    report = json.loads(grader.report_json_path().read_text()) if grader else {}
    return code, report


def verdicts(report: dict[str, Any]) -> dict[str, str]:
    return {step["id"]: step["status"] for step in report["steps"]}


def step(report: dict[str, Any], step_id: str) -> dict[str, Any]:
    return next(s for s in report["steps"] if s["id"] == step_id)


def grade_class(
    sim: Simulator,
    roster_file: Path | None,
    report_dir: Path,
    *,
    discover_all: bool = False,
    timeout: float = 30.0,
    extra: list[str] | None = None,
) -> int:
    """Grade a class in process against `sim` (a roster, or every profile), time injected;
    returns pytest's exit status. Each participant's N.json lands in `report_dir`."""
    import io
    from contextlib import redirect_stdout

    import pytest

    from gtcheck import bundled, plugin

    argv = [
        str(bundled.checks_dir()),
        *(["--all"] if discover_all else ["--roster", str(roster_file)]),
        "--table", TABLE,
        "--regions", ",".join(sim.config.regions),
        "--replication-timeout", str(timeout),
        "--report-dir", str(report_dir),
        "-p", "no:cacheprovider", "-p", "no:randomly", "--assert=plain", "-q",
        *(extra or []),
    ]  # fmt: skip
    runtime = Runtime(session=sim.session(), monotonic=sim.clock.now, sleep=sim.advance)
    with check.own_pytest(), redirect_stdout(io.StringIO()):
        return int(pytest.main(argv, plugins=[plugin, check.Inject(runtime)]))
