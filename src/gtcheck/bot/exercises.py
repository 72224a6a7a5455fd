"""The workshop's steps as the bot performs them: write where the page says, then wait the
way the page asks a participant to ("query for replicated data")."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from gtcheck import marks, options, templates
from gtcheck.aws import Clients
from gtcheck.bot.plans import (
    MISTAKES,
    STEPS,
    Item,
    Key,
    Plan,
    expiring,
    key_of,
    plan,
    show,
    timing_item,
)
from gtcheck.bot.runner import Log, Runner, SolveResult, put_and_replicate, quiet
from gtcheck.errors import UsageError
from gtcheck.target import Target
from gtcheck.templates import Placeholders
from gtcheck.workshop import PAGE_LANGUAGE


def _ex1(run: Runner, result: SolveResult, chosen: Plan) -> None:
    region = run.replica if chosen.user_in_replica else run.primary
    put_and_replicate(run, result, "ex1", region, chosen.user)


def _ex2(run: Runner, result: SolveResult, chosen: Plan) -> None:
    put_and_replicate(run, result, "ex2", run.replica, chosen.product)


def _ex3(run: Runner, result: SolveResult, chosen: Plan) -> None:
    """Base order, replicated; two updates inside the conflict window; one winner everywhere.

    The later write wins. On a clock that stands still between calls (a simulator's
    ManualClock) the two updates are simultaneous and the tie-break on region name decides.
    """
    order, key = chosen.order, key_of(chosen.order)
    put_and_replicate(run, result, "ex3", run.primary, order)
    updates = {run.primary: chosen.update_us, run.replica: chosen.update_eu}
    for region, update in updates.items():  # back to back: no waiting between them
        run.request(region, "update_item", Key=templates.to_attributes(key), **_set(update))
        result.written.append((region, key))
        run.log(f"ex3: update {show(key)} in {region}: {_describe(update)}")
    whole = {region: templates.to_attributes({**order, **u}) for region, u in updates.items()}
    _wait_converged(run, key, whole)


def _set(update: Item) -> dict[str, Any]:
    """UpdateItem arguments that SET every attribute of `update`, names and values bound."""
    values = templates.to_attributes(update)
    return {
        "UpdateExpression": "SET " + ", ".join(f"#a{i} = :v{i}" for i in range(len(values))),
        "ExpressionAttributeNames": {f"#a{i}": name for i, name in enumerate(values)},
        "ExpressionAttributeValues": {f":v{i}": value for i, value in enumerate(values.values())},
    }


def _describe(update: Item) -> str:
    """An update as a log line shows it: `total_amount 150, last_updated_region ...`."""
    return ", ".join(f"{name} {value}" for name, value in update.items())


def _wait_converged(run: Runner, key: Key, whole: dict[str, dict[str, Any]]) -> None:
    """Until every region holds the same copy, and it is one of the updates' whole writes."""
    seen: dict[str, dict[str, Any] | None] = {}

    def converged() -> bool:
        seen.update({region: run.get(region, key) for region in run.target.regions})
        copies = list(seen.values())
        return all(copy == copies[0] for copy in copies) and copies[0] in whole.values()

    def failure() -> str:
        held = "; ".join(f"{region}: {_order_state(copy)}" for region, copy in seen.items())
        return f"ex3: the regions did not converge on one copy of {show(key)} ({held})"

    run.poll(converged, failure)
    winner = next(region for region, copy in whole.items() if copy == seen[run.primary])
    state = _order_state(seen[run.primary])
    run.log(f"ex3: every region holds the {winner} update ({state}): last writer wins")


def _order_state(copy: dict[str, Any] | None) -> str:
    if copy is None:
        return "no item"
    plain = templates.from_attributes(copy)
    return (
        f"total_amount {plain.get('total_amount')}, "
        f"last_updated_region {plain.get('last_updated_region')}"
    )


@dataclass(frozen=True)
class _IndexQuery:
    """One of the page's GSI queries, narrowed to the participant's item by its sort key."""

    index: str
    partition: tuple[str, str]  # (attribute, value)
    sort: tuple[str, str]
    key: Key  # the participant's item the query should return
    expected: bool  # False when this run did not write it with the index's keys


def _ex4(run: Runner, chosen: Plan, clean: Plan, skip: Collection[str]) -> None:
    """GSI1 by category and GSI2 by status, in every region, until they return our items."""
    product, order = clean.product, clean.order
    queries = (
        _IndexQuery(
            "GSI1",
            ("GSI1PK", product["GSI1PK"]),
            ("GSI1SK", product["GSI1SK"]),
            key_of(product),
            "ex2" not in skip and "GSI1PK" in chosen.product,
        ),
        _IndexQuery(
            "GSI2",
            ("GSI2PK", order["GSI2PK"]),
            ("GSI2SK", order["GSI2SK"]),
            key_of(order),
            "ex3" not in skip and "GSI2PK" in chosen.order,
        ),
    )
    for query in queries:
        for region in run.target.regions:
            _query_index(run, region, query)


def _query_index(run: Runner, region: str, query: _IndexQuery) -> None:
    what = f"ex4: {query.index} {query.partition[1]} in {region}"
    found = False

    def returned() -> bool:
        nonlocal found
        found = query.key in _index_keys(run, region, query)
        return found or not query.expected

    run.poll(returned, lambda: f"{what} did not return {show(query.key)}")
    verdict = "returns" if found else "does not return"
    run.log(f"{what} {verdict} {show(query.key)}")


def _index_keys(run: Runner, region: str, query: _IndexQuery) -> list[Key]:
    (partition, partition_value), (sort, sort_value) = query.partition, query.sort
    pages = run.pages(
        region,
        "query",
        IndexName=query.index,
        KeyConditionExpression="#p = :p AND #s = :s",
        ExpressionAttributeNames={"#p": partition, "#s": sort},
        ExpressionAttributeValues={":p": {"S": partition_value}, ":s": {"S": sort_value}},
    )
    return [{"PK": it["PK"]["S"], "SK": it["SK"]["S"]} for page in pages for it in page["Items"]]


def _ex5(
    run: Runner, result: SolveResult, placeholders: Placeholders, at: float, ttl: int
) -> None:
    item = marks.with_ttl(timing_item(placeholders, run.primary, at), ttl)
    put_and_replicate(run, result, "ex5", run.primary, item)


def _check_choices(given: Collection[str], allowed: Collection[str], what: str) -> None:
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        raise UsageError(f"unknown {what} {unknown[0]!r} (choose from {', '.join(allowed)})")


def solve(
    clients: Clients,
    target: Target,
    placeholders: Placeholders,
    *,
    mistakes: Collection[str] = frozenset(),
    skip: Collection[str] = frozenset(),
    timeout: float = options.DEFAULT_TIMEOUT,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
    now: Callable[[], float] = marks.wall_clock,
    log: Log = quiet,
    language: str = PAGE_LANGUAGE,
    consistent: bool = True,
) -> SolveResult:
    """Perform the workshop as the participant would, from `language`'s page; raise
    EnvironmentProblem on a timeout.

    Every item written carries the table's TTL one hour after `now()` at the start, so
    even a run killed half-way leaves nothing for long.
    `consistent` False waits with eventually consistent reads (half the read capacity;
    validate's choice, which times replication with its probes instead).
    """
    _check_choices(mistakes, MISTAKES, "mistake")
    _check_choices(skip, STEPS, "step")
    if len(target.regions) < 2:
        raise UsageError("solve needs a primary and a replica region")
    run = Runner(clients, target, sleep, monotonic, timeout, log, consistent=consistent)
    ttl = marks.expires_at(now())
    chosen, result = expiring(plan(placeholders, mistakes, language), ttl), SolveResult()
    steps: dict[str, Callable[[], None]] = {
        "ex1": lambda: _ex1(run, result, chosen),
        "ex2": lambda: _ex2(run, result, chosen),
        "ex3": lambda: _ex3(run, result, chosen),
        "ex4": lambda: _ex4(run, chosen, plan(placeholders, language=language), skip),
        "ex5": lambda: _ex5(run, result, placeholders, now(), ttl),
    }
    for step in STEPS:
        if step in skip:
            log(f"{step}: skipped")
        else:
            steps[step]()
    return result
