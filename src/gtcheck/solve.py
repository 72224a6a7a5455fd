"""`gtcheck solve` and `gtcheck cleanup`: a participant bot that performs the workshop page.

The bot writes the page's own templates where the page says, then waits the way the page
asks a participant to ("query for replicated data"), so a run proves the environment end
to end and leaves items the checks can grade. It can make typical mistakes on purpose, so
the checks can be proven against wrong work too; `cleanup` removes exactly what it wrote.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential,
)
from tenacity.stop import stop_base

from gtcheck import i18n, options, templates
from gtcheck.aws import Clients, Target, Transient, call, make_session
from gtcheck.errors import EXIT_OK, EnvironmentProblem, UsageError
from gtcheck.templates import Placeholders
from gtcheck.workshop import PAGE_LANGUAGE

MISTAKES: dict[str, str] = {
    "wrong-region": "the exercise 1 user is written in the replica region instead of the primary",
    "key-typo": 'the user\'s PK has a typo one edit away: "USER#global-usr-N" instead of '
    '"USER#global-user-N"',
    "price-as-string": 'the product\'s price and stock are stored as strings ("299", "50"), '
    "not numbers",
    "missing-gsi-keys": "the order is written without GSI2PK and GSI2SK "
    "(so a GSI2 query cannot find it)",
    "unreplaced-placeholder": "the user's email and GSI1PK keep the page's placeholder "
    '("[your-name]", or "[tên-của-bạn]" with --lang vi; the key itself is right)',
    "mixed-conflict": "the exercise 3 eu-west-1 update sets total_amount 200 but "
    'last_updated_region "us-east-1" (an incoherent write)',
}
STEPS = ("ex1", "ex2", "ex3", "ex4", "ex5")  # ex4 writes nothing: it is queries

# Polling: quick at first, so a replication time is measured to a quarter second, then
# gentler, so a long wait stays inside the table's 5 RCU.
POLL_STEP = 0.25
SLOW_POLL_STEP = 1.0
FAST_POLL_WINDOW = 5.0
# A single call's transient retries: at least this window even when the deadline is near,
# and never more than this many attempts whatever the clocks do.
MIN_RETRY_WINDOW = 10.0
MAX_ATTEMPTS = 100

TIMING_STAMP_FORMAT = "%Y%m%dT%H%M%S%f"  # 20261126T150102123456
TIMING_STAMP_PATTERN = "[0-9]{8}T[0-9]{12}"

Item = dict[str, Any]  # plain values, as the page's JSON (numbers as Decimal)
Key = dict[str, str]  # {"PK": ..., "SK": ...}
Log = Callable[[str], None]


def _quiet(line: str) -> None:
    """The default log: solve is silent unless asked to talk."""


@dataclass
class SolveResult:
    """What was written and how long replication took, for the CLI to print."""

    written: list[tuple[str, Key]] = field(default_factory=list)  # (region, key), in order
    replication_s: dict[str, list[float]] = field(default_factory=dict)  # "a->b": seconds

    def record(self, source: str, target: str, seconds: float) -> None:
        self.replication_s.setdefault(f"{source}->{target}", []).append(seconds)


# ----- what the participant types ------------------------------------------------------------
@dataclass(frozen=True)
class Plan:
    """The items and updates of one participant, mistakes included."""

    user: Item
    product: Item
    order: Item
    update_us: Item
    update_eu: Item
    user_in_replica: bool


def plan(
    placeholders: Placeholders,
    mistakes: Collection[str] = frozenset(),
    language: str = PAGE_LANGUAGE,
) -> Plan:
    """`language`'s page's templates filled in for the participant, then spoiled as asked.

    Every page fills in to the same items; only a left placeholder shows which was read.
    """
    return Plan(
        user=_user(placeholders, mistakes, language),
        product=_product(placeholders, mistakes, language),
        order=_order(placeholders, mistakes, language),
        update_us=_filled(templates.ORDER_UPDATE_US, placeholders, language),
        update_eu=_update_eu(placeholders, mistakes, language),
        user_in_replica="wrong-region" in mistakes,
    )


def _filled(name: str, placeholders: Placeholders, language: str = PAGE_LANGUAGE) -> Item:
    return templates.render(templates.load(name, language), placeholders)


def _user(placeholders: Placeholders, mistakes: Collection[str], language: str) -> Item:
    user = _filled(templates.USER, placeholders, language)
    if "unreplaced-placeholder" in mistakes:
        page = templates.load(templates.USER, language)
        user["email"], user["GSI1PK"] = page["email"], page["GSI1PK"]
    if "key-typo" in mistakes:
        user["PK"] = user["PK"].replace("global-user-", "global-usr-", 1)
    return user


def _product(placeholders: Placeholders, mistakes: Collection[str], language: str) -> Item:
    product = _filled(templates.PRODUCT, placeholders, language)
    if "price-as-string" in mistakes:
        product["price"], product["stock"] = str(product["price"]), str(product["stock"])
    return product


def _order(placeholders: Placeholders, mistakes: Collection[str], language: str) -> Item:
    order = _filled(templates.ORDER, placeholders, language)
    if "missing-gsi-keys" in mistakes:
        del order["GSI2PK"], order["GSI2SK"]
    return order


def _update_eu(placeholders: Placeholders, mistakes: Collection[str], language: str) -> Item:
    update = _filled(templates.ORDER_UPDATE_EU, placeholders, language)
    if "mixed-conflict" in mistakes:
        update["last_updated_region"] = templates.load(templates.ORDER_UPDATE_US, language)[
            "last_updated_region"
        ]
    return update


def timing_item(placeholders: Placeholders, region: str, at: float) -> Item:
    """The exercise 5 item: stamped with `at` and the participant's name, so it is theirs."""
    moment = datetime.fromtimestamp(at, tz=UTC)
    stamped = replace(
        placeholders,
        timestamp=f"{moment.strftime(TIMING_STAMP_FORMAT)}-{placeholders.participant}",
        exact_timestamp=moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    )
    item = _filled(templates.TIMING, stamped)
    item["source_region"] = region
    return item


def timing_key_pattern(participant: str) -> re.Pattern[str]:
    """The PK of every timing item solve writes for `participant`, and of no one else's."""
    prefix = templates.load(templates.TIMING)["PK"].replace("[timestamp]", "")
    return re.compile(
        f"{re.escape(prefix)}{TIMING_STAMP_PATTERN}-{re.escape(participant)}", re.ASCII
    )


def key_of(item: Item) -> Key:
    """An item's primary key, as SolveResult and planned_keys list keys."""
    return {"PK": item["PK"], "SK": item["SK"]}


def planned_keys(target: Target, placeholders: Placeholders) -> list[Key]:
    """Every fixed key solve may write for the participant, whatever the mistakes."""
    keys: list[Key] = []
    for mistakes in (frozenset(), frozenset(MISTAKES)):
        chosen = plan(placeholders, mistakes)
        for item in (chosen.user, chosen.product, chosen.order):
            if key_of(item) not in keys:
                keys.append(key_of(item))
    return keys


def _show(key: Key) -> str:
    return f"{key['PK']} / {key['SK']}"


# ----- calls, retries and waiting -------------------------------------------------------------
class _StopAt(stop_base):
    """Stop retrying once the injected clock passes a moment (tenacity's own uses real time)."""

    def __init__(self, monotonic: Callable[[], float], moment: float) -> None:
        self._monotonic = monotonic
        self._moment = moment

    def __call__(self, retry_state: RetryCallState) -> bool:
        return self._monotonic() >= self._moment


@dataclass
class _Run:
    """One solve or cleanup: the clients, injected time and the one deadline all waits share."""

    clients: Clients
    target: Target
    sleep: Callable[[float], None]
    monotonic: Callable[[], float]
    timeout: float
    log: Log
    deadline: float = 0.0

    def __post_init__(self) -> None:
        self.deadline = self.monotonic() + self.timeout

    @property
    def primary(self) -> str:
        return self.target.regions[0]

    @property
    def replica(self) -> str:
        return self.target.regions[1]

    def others(self, region: str) -> list[str]:
        return [other for other in self.target.regions if other != region]

    def request(self, region: str, operation: str, **kwargs: Any) -> dict[str, Any]:
        """One DynamoDB call on the table; transient errors are retried, within bounds."""
        method = getattr(self.clients.dynamodb(region), operation)
        try:
            return self._retrying()(call, method, TableName=self.target.table, **kwargs)
        except Transient as problem:
            raise EnvironmentProblem(
                f"{operation} in {region} kept failing after retries: {problem}"
            ) from None
        except ClientError as problem:
            error = problem.response.get("Error", {})
            raise EnvironmentProblem(
                f"{operation} in {region} was refused: "
                f"{error.get('Code', '?')}: {error.get('Message', '')}"
            ) from None

    def _retrying(self) -> Retrying:
        window = max(self.deadline - self.monotonic(), MIN_RETRY_WINDOW)
        return Retrying(
            stop=stop_after_delay(window)
            | _StopAt(self.monotonic, self.monotonic() + window)
            | stop_after_attempt(MAX_ATTEMPTS),
            wait=wait_exponential(multiplier=0.1, max=5.0),
            retry=retry_if_exception_type(Transient),
            sleep=self.sleep,
            reraise=True,
        )

    def pages(self, region: str, operation: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Every page of a Query or Scan."""
        while True:
            page = self.request(region, operation, **kwargs)
            yield page
            if not page.get("LastEvaluatedKey"):
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def get(self, region: str, key: Key) -> dict[str, Any] | None:
        """The item as `region` holds it now (strongly consistent), attribute values typed."""
        response = self.request(
            region, "get_item", Key=templates.to_attributes(key), ConsistentRead=True
        )
        return response.get("Item")

    def poll(self, done: Callable[[], bool], failure: Callable[[], str]) -> None:
        """Call `done` until it is true; past the deadline, raise EnvironmentProblem(failure())."""
        started = self.monotonic()
        while not done():
            now = self.monotonic()
            if now >= self.deadline:
                raise EnvironmentProblem(f"{failure()} within the {self.timeout:g} s timeout")
            step = POLL_STEP if now - started < FAST_POLL_WINDOW else SLOW_POLL_STEP
            self.sleep(min(step, self.deadline - now))


def _put_and_replicate(run: _Run, result: SolveResult, step: str, region: str, item: Item) -> None:
    """Create the item in `region`, then query every other region until it is identical."""
    key, expected = key_of(item), templates.to_attributes(item)
    others = run.others(region)
    # A region that already holds this very copy (an earlier run) would time nothing.
    timed = [other for other in others if run.get(other, key) != expected]
    started = run.monotonic()
    run.request(region, "put_item", Item=expected)
    result.written.append((region, key))
    run.log(f"{step}: put {_show(key)} in {region}")
    pending = list(others)

    def arrived() -> bool:
        for other in list(pending):
            if run.get(other, key) != expected:
                continue
            pending.remove(other)
            if other in timed:
                seconds = run.monotonic() - started
                result.record(region, other, seconds)
                run.log(f"{step}: replicated to {other} in {seconds:.2f} s")
            else:
                run.log(f"{step}: {other} already held this copy (not timed)")
        return not pending

    run.poll(
        arrived,
        lambda: (
            f"{step}: {_show(key)} written in {region} did not arrive identical in "
            f"{', '.join(pending)}"
        ),
    )


# ----- the exercises ------------------------------------------------------------------------------
def _ex1(run: _Run, result: SolveResult, chosen: Plan) -> None:
    region = run.replica if chosen.user_in_replica else run.primary
    _put_and_replicate(run, result, "ex1", region, chosen.user)


def _ex2(run: _Run, result: SolveResult, chosen: Plan) -> None:
    _put_and_replicate(run, result, "ex2", run.replica, chosen.product)


def _ex3(run: _Run, result: SolveResult, chosen: Plan) -> None:
    """Base order, replicated; two updates inside the conflict window; one winner everywhere.

    The later write wins. On a clock that stands still between calls (a simulator's
    ManualClock) the two updates are simultaneous and the tie-break on region name decides.
    """
    order, key = chosen.order, key_of(chosen.order)
    _put_and_replicate(run, result, "ex3", run.primary, order)
    updates = {run.primary: chosen.update_us, run.replica: chosen.update_eu}
    for region, update in updates.items():  # back to back: no waiting between them
        run.request(region, "update_item", Key=templates.to_attributes(key), **_set(update))
        result.written.append((region, key))
        run.log(f"ex3: update {_show(key)} in {region}: {_describe(update)}")
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


def _wait_converged(run: _Run, key: Key, whole: dict[str, dict[str, Any]]) -> None:
    """Until every region holds the same copy, and it is one of the updates' whole writes."""
    seen: dict[str, dict[str, Any] | None] = {}

    def converged() -> bool:
        seen.update({region: run.get(region, key) for region in run.target.regions})
        copies = list(seen.values())
        return all(copy == copies[0] for copy in copies) and copies[0] in whole.values()

    def failure() -> str:
        held = "; ".join(f"{region}: {_order_state(copy)}" for region, copy in seen.items())
        return f"ex3: the regions did not converge on one copy of {_show(key)} ({held})"

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


def _ex4(run: _Run, chosen: Plan, clean: Plan, skip: Collection[str]) -> None:
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


def _query_index(run: _Run, region: str, query: _IndexQuery) -> None:
    what = f"ex4: {query.index} {query.partition[1]} in {region}"
    found = False

    def returned() -> bool:
        nonlocal found
        found = query.key in _index_keys(run, region, query)
        return found or not query.expected

    run.poll(returned, lambda: f"{what} did not return {_show(query.key)}")
    verdict = "returns" if found else "does not return"
    run.log(f"{what} {verdict} {_show(query.key)}")


def _index_keys(run: _Run, region: str, query: _IndexQuery) -> list[Key]:
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


def _ex5(run: _Run, result: SolveResult, placeholders: Placeholders, at: float) -> None:
    item = timing_item(placeholders, run.primary, at)
    _put_and_replicate(run, result, "ex5", run.primary, item)


# ----- the API ----------------------------------------------------------------------------------
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
    now: Callable[[], float] = time.time,
    log: Log = _quiet,
    language: str = PAGE_LANGUAGE,
) -> SolveResult:
    """Perform the workshop as the participant would, from `language`'s page; raise
    EnvironmentProblem on a timeout."""
    _check_choices(mistakes, MISTAKES, "mistake")
    _check_choices(skip, STEPS, "step")
    if len(target.regions) < 2:
        raise UsageError("solve needs a primary and a replica region")
    run = _Run(clients, target, sleep, monotonic, timeout, log)
    chosen, result = plan(placeholders, mistakes, language), SolveResult()
    steps: dict[str, Callable[[], None]] = {
        "ex1": lambda: _ex1(run, result, chosen),
        "ex2": lambda: _ex2(run, result, chosen),
        "ex3": lambda: _ex3(run, result, chosen),
        "ex4": lambda: _ex4(run, chosen, plan(placeholders, language=language), skip),
        "ex5": lambda: _ex5(run, result, placeholders, now()),
    }
    for step in STEPS:
        if step in skip:
            log(f"{step}: skipped")
        else:
            steps[step]()
    return result


def cleanup(
    clients: Clients,
    target: Target,
    placeholders: Placeholders,
    *,
    log: Log = _quiet,
    timeout: float = options.DEFAULT_TIMEOUT,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> int:
    """Delete, in every region, exactly what solve writes for the participant.

    Returns how many item copies were deleted (an item removed in two regions counts twice).
    """
    run = _Run(clients, target, sleep, monotonic, timeout, log)
    keys = planned_keys(target, placeholders)
    for region in target.regions:
        keys += [key for key in _timing_keys(run, region, placeholders) if key not in keys]
    deleted = 0
    for region in target.regions:
        for key in keys:
            response = run.request(
                region, "delete_item", Key=templates.to_attributes(key), ReturnValues="ALL_OLD"
            )
            if response.get("Attributes"):
                deleted += 1
                log(f"cleanup: deleted {_show(key)} in {region}")
    return deleted


def _timing_keys(run: _Run, region: str, placeholders: Placeholders) -> list[Key]:
    """The participant's timing items in `region` (a Scan: their keys hold a timestamp)."""
    pattern = timing_key_pattern(placeholders.participant)
    page_template = templates.load(templates.TIMING)
    prefix = page_template["PK"].replace("[timestamp]", "")
    pages = run.pages(
        region,
        "scan",
        FilterExpression="begins_with(#pk, :prefix) AND #sk = :sk",
        ProjectionExpression="#pk, #sk",
        ExpressionAttributeNames={"#pk": "PK", "#sk": "SK"},
        ExpressionAttributeValues={":prefix": {"S": prefix}, ":sk": {"S": page_template["SK"]}},
    )
    keys: list[Key] = []
    for page in pages:
        for item in page.get("Items", []):
            pk = item.get("PK", {}).get("S", "")
            if pattern.fullmatch(pk) and {"PK": pk, "SK": page_template["SK"]} not in keys:
                keys.append({"PK": pk, "SK": page_template["SK"]})
    return keys


# ----- the commands -----------------------------------------------------------------------------
def _choices_epilog(title: str, described: dict[str, str]) -> str:
    width = max(len(name) for name in described)
    return title + "\n" + "\n".join(f"  {n:<{width}}  {d}" for n, d in described.items())


def add_solve_parser(subparsers: Any, help: str | None = None) -> None:
    """`gtcheck solve`: the common target and participant options, mistakes and skips."""
    parser = subparsers.add_parser(
        "solve",
        help=help,
        description="Write the workshop page's items as participant N, wait for each to "
        "replicate, provoke the exercise 3 conflict and time replication. --mistake makes "
        "a typical mistake on purpose, to see the checks catch it.",
        epilog=_choices_epilog("mistakes:", MISTAKES),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    options.add_target_options(parser)
    options.add_participant_options(parser)
    parser.add_argument(
        "--mistake",
        dest="mistakes",
        action="append",
        default=[],
        choices=list(MISTAKES),
        metavar="NAME",
        help="make this mistake on purpose (repeatable; listed below)",
    )
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=STEPS,
        metavar="STEP",
        help=f"leave out this exercise (repeatable; one of {', '.join(STEPS)})",
    )
    parser.add_argument(
        "--lang",
        choices=i18n.LANGUAGES,
        default=None,
        help="whose page's templates to fill in: en or vi (their placeholders differ; "
        "default: from LANGUAGE, LC_ALL, LC_MESSAGES, LANG)",
    )
    parser.set_defaults(run=run_solve)


def add_cleanup_parser(subparsers: Any, help: str | None = None) -> None:
    """`gtcheck cleanup`: the same target and participant options as solve, nothing more."""
    parser = subparsers.add_parser(
        "cleanup",
        help=help,
        description="Delete, in every region, the items `gtcheck solve` writes for "
        "participant N (every mistake variant and every timing item of N).",
    )
    options.add_target_options(parser)
    options.add_participant_options(parser)
    parser.set_defaults(run=run_cleanup)


def _placeholders(args: argparse.Namespace) -> Placeholders:
    """N's placeholders; the product id is N unless given, as solve and cleanup must agree."""
    return Placeholders(
        participant=args.participant, product_id=args.product_id or args.participant
    )


def _print(line: str) -> None:
    print(line, flush=True)


def run_solve(args: argparse.Namespace) -> int:
    """Solve against the configured table, printing each action as it happens."""
    target = options.target_from_args(args)
    clients = Clients(target, make_session(target), read_only=False)
    result = solve(
        clients,
        target,
        _placeholders(args),
        mistakes=frozenset(args.mistakes),
        skip=frozenset(args.skip),
        timeout=args.timeout,
        log=_print,
        language=getattr(args, "lang", None) or i18n.default_language(),
    )
    _print(summary_line(args.participant, result))
    return EXIT_OK


def run_cleanup(args: argparse.Namespace) -> int:
    """Clean up after solve, printing each delete and how many item copies went."""
    target = options.target_from_args(args)
    clients = Clients(target, make_session(target), read_only=False)
    deleted = cleanup(clients, target, _placeholders(args), log=_print, timeout=args.timeout)
    _print(f"gtcheck cleanup: deleted {deleted} item copies for {args.participant}")
    return EXIT_OK


def summary_line(participant: str, result: SolveResult) -> str:
    """One line: the writes and, per direction, the page's fastest, slowest and average."""
    parts = [f"gtcheck solve: {len(result.written)} writes for {participant}"]
    for direction, samples in result.replication_s.items():
        parts.append(
            f"{direction} fastest {min(samples):.2f} s, slowest {max(samples):.2f} s, "
            f"average {statistics.fmean(samples):.2f} s ({len(samples)})"
        )
    return "; ".join(parts)
