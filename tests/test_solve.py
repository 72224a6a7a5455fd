"""The participant bot: it performs the page, makes exactly the mistakes asked, cleans up."""

from __future__ import annotations

import re
import time
import weakref
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from gtcheck import argtypes, templates
from gtcheck import solve as solve_module
from gtcheck.aws import Clients, Target
from gtcheck.bot import MISTAKES, STEPS, SolveResult, cleanup, planned_keys, solve
from gtcheck.errors import EnvironmentProblem, UsageError
from gtcheck.sim import ManualClock, SimConfig, Simulator
from gtcheck.sim.clock import TickingClock
from gtcheck.solve import add_cleanup_parser, add_solve_parser
from gtcheck.templates import Placeholders
from gtcheck.workshop import WORKSHOP_TABLE as TABLE

US, EU = "us-east-1", "eu-west-1"
TARGET = Target(table=TABLE, regions=(US, EU))
ANA = Placeholders(participant="ana", product_id="ana")
BOB = Placeholders(participant="bob", product_id="bob")
# ex5's [timestamp] comes from this moment: 2026-11-26 15:01:02.123456 UTC.
STAMP_AT = datetime(2026, 11, 26, 15, 1, 2, 123456, tzinfo=UTC).timestamp()
TTL = int(STAMP_AT) + 3600  # every item solve writes expires an hour after it starts
TIMING_KEY = {"PK": "TEST#timing-20261126T150102123456-ana", "SK": "REPLICATION"}
USER_KEY = {"PK": "USER#global-user-ana", "SK": "PROFILE"}
TYPO_KEY = {"PK": "USER#global-usr-ana", "SK": "PROFILE"}
PRODUCT_KEY = {"PK": "PRODUCT#eu-product-ana", "SK": "DETAILS"}
ORDER_KEY = {"PK": "USER#global-user-ana", "SK": "ORDER#conflict-test"}


def clients_for(sim: Simulator) -> Clients:
    """One set of clients per simulator, for solve and the test's own reads alike (a
    boto3 client is slow to make, and the second one of a session much less so)."""
    if sim not in _CLIENTS:
        target = Target(table=TABLE, regions=sim.config.regions)
        _CLIENTS[sim] = Clients(target, sim.session(), read_only=False)
    return _CLIENTS[sim]


_CLIENTS: weakref.WeakKeyDictionary[Simulator, Clients] = weakref.WeakKeyDictionary()


def run_solve(sim: Simulator, placeholders: Placeholders = ANA, **kwargs: Any) -> SolveResult:
    """solve() against the simulator, every wait on its injected clock."""
    clients = clients_for(sim)
    kwargs.setdefault("now", lambda: STAMP_AT)
    return solve(
        clients,
        clients.target,
        placeholders,
        sleep=sim.advance,
        monotonic=sim.clock.now,
        **kwargs,
    )


def dynamodb(sim: Simulator, region: str) -> Any:
    return clients_for(sim).dynamodb(region)


def held(sim: Simulator, region: str, key: dict[str, str]) -> dict[str, Any] | None:
    """The item as `region` holds it, attribute values typed (None when absent)."""
    response = dynamodb(sim, region).get_item(
        TableName=TABLE, Key=templates.to_attributes(key), ConsistentRead=True
    )
    return response.get("Item")


def everywhere(sim: Simulator, key: dict[str, str]) -> dict[str, Any] | None:
    """The item's plain values, after asserting every region holds the identical typed copy."""
    copies = [held(sim, region, key) for region in sim.config.regions]
    assert all(copy == copies[0] for copy in copies), copies
    return None if copies[0] is None else templates.from_attributes(copies[0])


def index_keys(sim: Simulator, region: str, index: str, partition: str) -> list[dict[str, str]]:
    attribute = f"{index}PK"
    response = dynamodb(sim, region).query(
        TableName=TABLE,
        IndexName=index,
        KeyConditionExpression="#p = :p",
        ExpressionAttributeNames={"#p": attribute},
        ExpressionAttributeValues={":p": {"S": partition}},
    )
    return [{"PK": it["PK"]["S"], "SK": it["SK"]["S"]} for it in response["Items"]]


def page(name: str, placeholders: Placeholders = ANA) -> dict[str, Any]:
    """The page's template as solve writes it: filled in, with the run's TTL."""
    return {**templates.render(templates.load(name), placeholders), "ttl": TTL}


def fixed_keys(placeholders: Placeholders) -> dict[str, dict[str, str]]:
    name, product = placeholders.participant, placeholders.product_id
    return {
        "user": {"PK": f"USER#global-user-{name}", "SK": "PROFILE"},
        "typo-user": {"PK": f"USER#global-usr-{name}", "SK": "PROFILE"},
        "product": {"PK": f"PRODUCT#eu-product-{product}", "SK": "DETAILS"},
        "order": {"PK": f"USER#global-user-{name}", "SK": "ORDER#conflict-test"},
    }


def clean_world(placeholders: Placeholders) -> dict[str, Any]:
    """What a correct solve without ex5 leaves, the later (eu-west-1) update winning."""
    order = {**page(templates.ORDER, placeholders), **page(templates.ORDER_UPDATE_EU)}
    return {
        "items": {
            "user": page(templates.USER, placeholders),
            "typo-user": None,
            "product": page(templates.PRODUCT, placeholders),
            "order": order,
        },
        "in-gsi1": True,  # the product, under CATEGORY#eu-electronics
        "in-gsi2": True,  # the order, under STATUS#pending
        "puts": {US: 2, EU: 1},  # the user and the order; the product
    }


def solved_world(sim: Simulator, placeholders: Placeholders, **kwargs: Any) -> dict[str, Any]:
    """Solve (ex1 to ex3), then what the participant left: every fixed item (identical in
    both regions), whether the page's GSI queries return it, and where items were put."""
    sim.request_log.clear()
    run_solve(sim, placeholders, skip={"ex4", "ex5"}, **kwargs)
    counts = sim.request_log.counts()
    keys = fixed_keys(placeholders)
    gsi1 = [index_keys(sim, r, "GSI1", "CATEGORY#eu-electronics") for r in (US, EU)]
    gsi2 = [index_keys(sim, r, "GSI2", "STATUS#pending") for r in (US, EU)]
    return {
        "items": {name: everywhere(sim, key) for name, key in keys.items()},
        "in-gsi1": all(keys["product"] in found for found in gsi1),
        "in-gsi2": all(keys["order"] in found for found in gsi2),
        "puts": {region: counts[(region, "dynamodb", "PutItem")] for region in (US, EU)},
    }


# ----- a full solve -------------------------------------------------------------------------------
def test_full_solve_leaves_every_item_identical_everywhere_and_findable(sim):
    """The page done right: each item is the page's template, identical in both regions,
    the order is one coherent update, and both GSI queries find the participant's items."""
    run_solve(sim)
    assert everywhere(sim, USER_KEY) == page(templates.USER)
    product = everywhere(sim, PRODUCT_KEY)
    assert product == page(templates.PRODUCT)
    assert held(sim, EU, PRODUCT_KEY)["price"] == {"N": "299"}
    order = everywhere(sim, ORDER_KEY)
    pairs = {(150, "us-east-1"), (200, "eu-west-1")}
    assert (order["total_amount"], order["last_updated_region"]) in pairs
    assert order["update_timestamp"]
    assert everywhere(sim, TIMING_KEY) == {
        **TIMING_KEY,
        "created_at": "2026-11-26T15:01:02.123Z",
        "source_region": US,
        "test_purpose": "timing_analysis",
        "ttl": TTL,
    }
    for region in (US, EU):
        assert PRODUCT_KEY in index_keys(sim, region, "GSI1", "CATEGORY#eu-electronics")
        assert ORDER_KEY in index_keys(sim, region, "GSI2", "STATUS#pending")


def test_result_lists_writes_in_order_and_times_replication(sim):
    """SolveResult is what the CLI prints: every write with its region, in order, and one
    replication time per observed arrival (the simulator's 1 s lag, measured to 0.25 s)."""
    lines: list[str] = []
    result = run_solve(sim, log=lines.append)
    assert result.written == [
        (US, USER_KEY),
        (EU, PRODUCT_KEY),
        (US, ORDER_KEY),
        (US, ORDER_KEY),
        (EU, ORDER_KEY),
        (US, TIMING_KEY),
    ]
    assert result.replication_s == {f"{US}->{EU}": [1.0, 1.0, 1.0], f"{EU}->{US}": [1.0]}
    assert "ex1: put USER#global-user-ana / PROFILE in us-east-1" in lines
    assert "ex1: replicated to eu-west-1 in 1.00 s" in lines
    assert (
        "ex4: GSI2 STATUS#pending in eu-west-1 returns "
        + ("USER#global-user-ana / ORDER#conflict-test")
        in lines
    )
    summary = solve_module.summary_line("ana", result)
    assert summary.startswith("gtcheck solve: 6 writes for ana; us-east-1->eu-west-1 fastest")


@pytest.mark.parametrize(
    ("clock", "winner"),
    [(ManualClock, (150, US)), (TickingClock, (200, EU))],
    ids=["frozen-clock-tie", "moving-clock"],
)
def test_conflict_converges_to_one_whole_write(clock, winner):
    """Both updates land inside the conflict window and every region ends with one of them
    whole: the later one wins, and on a frozen clock the simulator's tie-break decides."""
    sim = Simulator(SimConfig(lag=1.0, jitter=0.0), clock=clock())
    lines: list[str] = []
    run_solve(sim, skip={"ex1", "ex2", "ex4", "ex5"}, log=lines.append)
    update = templates.ORDER_UPDATE_US if winner[1] == US else templates.ORDER_UPDATE_EU
    order = everywhere(sim, ORDER_KEY)
    assert order == {**page(templates.ORDER), **page(update)}
    assert (order["total_amount"], order["last_updated_region"]) == winner
    assert f"ex3: every region holds the {winner[1]} update" in "\n".join(lines)


def test_three_regions_all_receive_every_item():
    """More than two regions: every write is awaited, and found, in every other region."""
    regions = (US, EU, "ap-southeast-2")
    sim = Simulator(SimConfig(regions=regions, lag=1.0, jitter=0.0), clock=ManualClock())
    result = run_solve(sim)
    for key in (USER_KEY, PRODUCT_KEY, ORDER_KEY, TIMING_KEY):
        assert everywhere(sim, key) is not None
    assert set(result.replication_s) == {
        f"{US}->{EU}",
        f"{US}->ap-southeast-2",
        f"{EU}->{US}",
        f"{EU}->ap-southeast-2",
    }


# ----- mistakes ---------------------------------------------------------------------------------
Spoiler = Callable[[dict[str, Any], Placeholders], None]


def _wrong_region(expected: dict[str, Any], _: Placeholders) -> None:
    expected["puts"] = {US: 1, EU: 2}


def _key_typo(expected: dict[str, Any], placeholders: Placeholders) -> None:
    user = expected["items"]["user"]
    typo = fixed_keys(placeholders)["typo-user"]["PK"]
    expected["items"].update({"user": None, "typo-user": {**user, "PK": typo}})


def _price_as_string(expected: dict[str, Any], _: Placeholders) -> None:
    expected["items"]["product"].update(price="299", stock="50")


def _missing_gsi_keys(expected: dict[str, Any], _: Placeholders) -> None:
    del expected["items"]["order"]["GSI2PK"], expected["items"]["order"]["GSI2SK"]
    expected["in-gsi2"] = False


def _unreplaced_placeholder(expected: dict[str, Any], _: Placeholders) -> None:
    expected["items"]["user"].update(
        email="[your-name]@global.com", GSI1PK="USER#[your-name]@global.com"
    )


def _mixed_conflict(expected: dict[str, Any], _: Placeholders) -> None:
    expected["items"]["order"].update(total_amount=200, last_updated_region="us-east-1")


DEFECTS: dict[str, Spoiler] = {
    "wrong-region": _wrong_region,
    "key-typo": _key_typo,
    "price-as-string": _price_as_string,
    "missing-gsi-keys": _missing_gsi_keys,
    "unreplaced-placeholder": _unreplaced_placeholder,
    "mixed-conflict": _mixed_conflict,
}


def test_every_mistake_has_a_defect_described():
    """The names are the contract the CLI's --mistake offers; each one is tested below."""
    assert set(MISTAKES) == set(DEFECTS)
    assert all(MISTAKES.values())


def test_each_mistake_produces_exactly_its_defect():
    """Side by side in one table, a correct participant and one participant per mistake:
    only the mistake's own defect differs from a correct solve (item contents in both
    regions, what the GSI queries return, where items were put). The clock moves between
    calls, so the later eu-west-1 update wins as on the page."""
    sim = Simulator(SimConfig(lag=1.0, jitter=0.0), clock=TickingClock())
    correct = Placeholders("correct", "correct")
    assert solved_world(sim, correct) == clean_world(correct)
    for mistake, spoil in DEFECTS.items():
        participant = Placeholders(f"p-{mistake}", f"p-{mistake}")
        expected = clean_world(participant)
        spoil(expected, participant)
        assert solved_world(sim, participant, mistakes={mistake}) == expected, mistake


# ----- skip, timeouts, throttling ----------------------------------------------------------------
def test_skip_leaves_out_exactly_those_steps(sim):
    """--skip ex1 ex3: no user and no order are written, and ex4 does not wait for the
    order it never wrote; the rest is performed."""
    lines: list[str] = []
    result = run_solve(sim, skip={"ex1", "ex3"}, log=lines.append)
    assert [key for _, key in result.written] == [PRODUCT_KEY, TIMING_KEY]
    assert everywhere(sim, USER_KEY) is None
    assert everywhere(sim, ORDER_KEY) is None
    assert everywhere(sim, PRODUCT_KEY) == page(templates.PRODUCT)
    assert "ex1: skipped" in lines
    assert "ex3: skipped" in lines
    assert f"ex4: GSI2 STATUS#pending in {US} does not return {ORDER_KEY['PK']} / " in (
        "\n".join(lines)
    )


def test_skipping_every_step_writes_and_reads_nothing(sim):
    """Skipping all five steps is a no-op: no request reaches the table."""
    sim.request_log.clear()
    result = run_solve(sim, skip=set(STEPS))
    assert result == SolveResult()
    assert sim.request_log.total() == 0


def test_paused_replication_raises_after_one_shared_timeout_without_real_waiting(sim):
    """eu-west-1 -> us-east-1 paused: ex1 replicates, ex2 never does; solve raises an
    EnvironmentProblem naming the item once the run's single deadline has passed (injected
    time, so the test takes no real time)."""
    sim.pause(EU, US)
    started, wall = sim.clock.now(), time.monotonic()
    with pytest.raises(EnvironmentProblem, match=r"ex2: PRODUCT#eu-product-ana .* us-east-1"):
        run_solve(sim, timeout=30.0)
    assert sim.clock.now() - started == pytest.approx(30.0)
    assert time.monotonic() - wall < 5.0
    assert everywhere(sim, USER_KEY) == page(templates.USER)


def test_throttled_reads_are_retried_until_they_succeed():
    """A third of reads throttled: solve retries them with backoff and still finishes."""
    sim = Simulator(SimConfig(lag=1.0, jitter=0.0, throttle=0.3, seed=7), clock=ManualClock())
    sim.request_log.clear()
    run_solve(sim)
    throttled_attempts = sim.request_log.reads()
    sim.set_throttle(0.0)
    assert everywhere(sim, TIMING_KEY) is not None
    assert throttled_attempts > 38  # a quiet run reads 38 times: some reads were retried


def test_reads_throttled_for_ever_end_in_an_environment_problem():
    """Every read throttled: retries stop at the deadline (never for ever) and the error
    says what kept failing."""
    sim = Simulator(SimConfig(lag=1.0, jitter=0.0, throttle=1.0), clock=ManualClock())
    wall = time.monotonic()
    with pytest.raises(EnvironmentProblem, match="get_item in eu-west-1 kept failing"):
        run_solve(sim, timeout=20.0)
    assert time.monotonic() - wall < 5.0


def test_unknown_mistake_or_step_is_a_usage_error():
    """A typo in a mistake or step name is refused before anything is written."""
    clients = Clients(TARGET, boto3.Session(region_name=US), read_only=False)
    with pytest.raises(UsageError, match="mistake 'wrong-regio'"):
        solve(clients, TARGET, ANA, mistakes={"wrong-regio"})
    with pytest.raises(UsageError, match="step 'ex6'"):
        solve(clients, TARGET, ANA, skip={"ex6"})


# ----- cleanup ----------------------------------------------------------------------------------
def test_planned_keys_cover_every_mistake_variant():
    """Cleanup's fixed keys: the user (and its typo), the product, the order."""
    assert planned_keys(TARGET, ANA) == [USER_KEY, PRODUCT_KEY, ORDER_KEY, TYPO_KEY]


def _force_pagination(session: boto3.Session) -> boto3.Session:
    """Every Scan and Query returns one item per page, so only paginating code sees all."""

    def one_per_page(params: dict[str, Any], **_: Any) -> None:
        params["Limit"] = 1

    for operation in ("Scan", "Query"):
        session.events.register(f"provide-client-params.dynamodb.{operation}", one_per_page)
    return session


def test_cleanup_deletes_exactly_solves_items(sim):
    """Cleanup removes, in both regions, every item solve wrote for ana (each mistake
    variant and each timing run), and leaves alone another participant's items, a name
    that merely ends in "-ana", a hand-made timing item and an unrelated item."""
    run_solve(sim, skip={"ex4"})
    run_solve(sim, mistakes={"key-typo"}, skip={"ex2", "ex3", "ex4"}, now=lambda: STAMP_AT + 60)
    run_solve(sim, BOB, skip={"ex4"})
    run_solve(sim, Placeholders("x-ana", "x-ana"), skip={"ex1", "ex2", "ex3", "ex4"})
    us = dynamodb(sim, US)
    for pk in ("TEST#timing-by-hand-ana", "PRODUCT#unrelated"):
        us.put_item(TableName=TABLE, Item={"PK": {"S": pk}, "SK": {"S": "REPLICATION"}})
    sim.advance(2.0)
    before = {region: _all_keys(sim, region) for region in (US, EU)}
    ana_keys = [USER_KEY, TYPO_KEY, PRODUCT_KEY, ORDER_KEY, TIMING_KEY]
    ana_keys.append({"PK": "TEST#timing-20261126T150202123456-ana", "SK": "REPLICATION"})
    assert all(key in before[EU] for key in ana_keys)

    clients = Clients(TARGET, _force_pagination(sim.session()), read_only=False)
    lines: list[str] = []
    deleted = cleanup(clients, TARGET, ANA, log=lines.append)
    sim.advance(2.0)

    assert deleted == 2 * len(ana_keys) == len(lines)
    for region in (US, EU):
        assert _all_keys(sim, region) == [key for key in before[region] if key not in ana_keys]
    assert cleanup(clients, TARGET, ANA) == 0


def _all_keys(sim: Simulator, region: str) -> list[dict[str, str]]:
    response = dynamodb(sim, region).scan(TableName=TABLE, ConsistentRead=True)
    keys = [{"PK": it["PK"]["S"], "SK": it["SK"]["S"]} for it in response["Items"]]
    return sorted(keys, key=lambda key: (key["PK"], key["SK"]))


# ----- the commands -------------------------------------------------------------------------------
def _parser() -> argtypes.Parser:
    parser = argtypes.Parser(prog="gtcheck")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=argtypes.Parser)
    add_solve_parser(commands)
    add_cleanup_parser(commands)
    return parser


def test_solve_and_cleanup_commands_run_end_to_end(monkeypatch, capsys):
    """`gtcheck solve` then `gtcheck cleanup` against a zero-lag simulator: exit 0, one log
    line per action and a summary; the product id defaults to the participant's name."""
    sim = Simulator(SimConfig(lag=0.0, jitter=0.0))
    monkeypatch.setattr(solve_module, "make_session", lambda target: sim.session())
    args = _parser().parse_args(
        ["solve", "--participant", "ana", "--mistake", "price-as-string", "--skip", "ex5"]
    )
    assert args.run(args) == 0
    out = capsys.readouterr().out.splitlines()
    assert "ex2: put PRODUCT#eu-product-ana / DETAILS in eu-west-1" in out
    assert "ex5: skipped" in out
    assert out[-1].startswith("gtcheck solve: 5 writes for ana;")
    assert held(sim, US, PRODUCT_KEY)["price"] == {"S": "299"}

    args = _parser().parse_args(["cleanup", "--participant", "ana"])
    assert args.run(args) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "gtcheck cleanup: deleted 3 item copies for ana"  # zero lag: deletes replicate at once
    )
    assert held(sim, US, PRODUCT_KEY) is None


@pytest.mark.parametrize(
    "argv",
    [
        ["solve", "--participant", "ana", "--mistake", "typo"],
        ["solve", "--participant", "ana", "--skip", "ex6"],
        ["solve"],
        ["cleanup", "--participant", ""],
    ],
)
def test_bad_command_lines_exit_2(argv, capsys):
    """Unknown mistakes or steps and a missing or empty participant are usage errors."""
    with pytest.raises(SystemExit) as stopped:
        _parser().parse_args(argv)
    assert stopped.value.code == 2
    assert re.search("error: .*(see --help)", capsys.readouterr().err)
