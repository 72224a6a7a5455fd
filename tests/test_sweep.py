"""`gtcheck cleanup --probes`: every leftover probe goes, in every region, and nothing else
changes by a single byte."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from gtcheck import argtypes, marks, templates
from gtcheck import solve as solve_module
from gtcheck.aws import Clients, Target
from gtcheck.bot import solve
from gtcheck.sim import Simulator
from gtcheck.solve import add_cleanup_parser
from gtcheck.sweep import sweep_probes
from gtcheck.templates import Placeholders

CLASS = ("ana", "bob", "chi")
TTL = 1_790_003_600


def clients_for(sim: Simulator) -> Clients:
    target = Target(table=sim.config.table, regions=sim.config.regions)
    return Clients(target, sim.session(), read_only=False)


def put(sim: Simulator, region: str, item: dict[str, Any]) -> None:
    sim.client("dynamodb", region).put_item(TableName=sim.config.table, Item=item)


def leave_probes(sim: Simulator, run_id: str, source: str, receiving: str, count: int) -> None:
    for number in range(count):
        key = marks.probe_key(run_id, source, receiving, number)
        put(sim, source, marks.probe_item(key, run_id, TTL))


def full_scan(sim: Simulator, region: str) -> list[dict[str, Any]]:
    """Every item `region` holds, typed, sorted by key (paginated, strongly consistent)."""
    client, items, request = sim.client("dynamodb", region), [], {}
    while True:
        page = client.scan(TableName=sim.config.table, ConsistentRead=True, **request)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return sorted(items, key=lambda item: (item["PK"]["S"], item["SK"]["S"]))
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def as_bytes(items: list[dict[str, Any]]) -> bytes:
    return json.dumps(items, sort_keys=True).encode()


@pytest.fixture
def classroom(sim: Simulator) -> Simulator:
    """A class who solved the workshop, items that only look like probes, and the probes
    of two earlier runs (settled) and of a third still on its way to us-east-1."""
    clients = clients_for(sim)
    for name in CLASS:
        solve(
            clients,
            clients.target,
            Placeholders(name, name),
            skip={"ex4"},
            sleep=sim.advance,
            monotonic=sim.clock.now,
            now=sim.clock.now,
        )
    table_keyed = {"PK": {"S": "GTCHECK#probe-by-hand"}, "SK": {"S": "PROBE"}}  # no marker
    marked = {
        "PK": {"S": "USER#global-user-dan"},
        "SK": {"S": "PROFILE"},
        marks.PROBE_MARKER: {"S": "not a probe: no prefix"},
    }
    put(sim, "us-east-1", table_keyed)
    put(sim, "eu-west-1", marked)
    leave_probes(sim, "old1", "us-east-1", "eu-west-1", 3)
    leave_probes(sim, "old2", "eu-west-1", "us-east-1", 2)
    sim.advance(2.0)
    leave_probes(sim, "inflight", "eu-west-1", "us-east-1", 1)
    sim.advance(0.1)  # written, not yet replicated
    return sim


def test_cleanup_probes_deletes_every_probe_and_nothing_else(classroom: Simulator):
    """After cleanup --probes, every region's full scan is byte for byte what it was
    without the probes, and no probe is left anywhere once replication settles. The
    sweep pages through the table two items at a time, so only paginating code finds all."""
    sim, regions = classroom, classroom.config.regions
    before = {r: [it for it in full_scan(sim, r) if not marks.is_probe(it)] for r in regions}
    assert len(before["us-east-1"]) >= 4 * len(CLASS)  # the class's own items are there
    clients = clients_for(sim)

    swept = sweep_probes(
        clients, clients.target, sleep=sim.advance, monotonic=sim.clock.now, page_size=2
    )
    sim.advance(5.0)  # the deletes replicate; the in-flight probe's copy arrives and goes

    assert swept.found == {"us-east-1": 5, "eu-west-1": 6}
    assert swept.deleted == swept.found
    assert swept.total_deleted == 11
    assert swept.left == 0
    assert swept.read_units > 0  # every Scan page counted
    for region in regions:
        after = full_scan(sim, region)
        assert not [item for item in after if marks.is_probe(item)], region
        assert as_bytes(after) == as_bytes(before[region]), region


def test_a_second_sweep_finds_nothing(classroom: Simulator):
    """Nothing left, nothing deleted: the count is 0, which is fine."""
    clients = clients_for(classroom)
    sweep_probes(clients, clients.target, sleep=classroom.advance, monotonic=classroom.clock.now)
    classroom.advance(5.0)
    again = sweep_probes(
        clients, clients.target, sleep=classroom.advance, monotonic=classroom.clock.now
    )
    assert again.total_deleted == 0
    assert again.found == {"us-east-1": 0, "eu-west-1": 0}


def test_a_probe_deleted_meanwhile_is_not_counted_nor_an_error(sim: Simulator):
    """The conditional delete refuses a copy that is no longer a probe (a replicated delete
    got there first, or its marker was removed): no error, not counted, nothing changed."""
    leave_probes(sim, "gone", "us-east-1", "eu-west-1", 1)
    sim.advance(2.0)
    key = marks.probe_key("gone", "us-east-1", "eu-west-1", 0)
    clients = clients_for(sim)
    # Between the Scan and the delete, someone strips the marker in eu-west-1.
    original = clients.dynamodb("eu-west-1").delete_item

    def strip_then_delete(**kwargs: Any) -> Any:
        if kwargs["Key"] == key:
            sim.client("dynamodb", "eu-west-1").update_item(
                TableName=sim.config.table, Key=key, UpdateExpression=f"REMOVE {marks.PROBE_MARKER}"
            )
        return original(**kwargs)

    clients.dynamodb("eu-west-1").delete_item = strip_then_delete
    swept = sweep_probes(clients, clients.target, sleep=sim.advance, monotonic=sim.clock.now)
    assert swept.deleted == {"us-east-1": 1, "eu-west-1": 0}
    assert swept.left == 0
    held = sim.client("dynamodb", "eu-west-1").get_item(TableName=sim.config.table, Key=key)
    assert marks.PROBE_MARKER not in held["Item"]


def _parser() -> argtypes.Parser:
    parser = argtypes.Parser(prog="gtcheck")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=argtypes.Parser)
    add_cleanup_parser(commands)
    return parser


def test_cleanup_probes_command_prints_one_line(classroom: Simulator, monkeypatch, capsys):
    """`gtcheck cleanup --probes`: exit 0, one summary line with the counts per region."""
    monkeypatch.setattr(solve_module, "make_session", lambda target: classroom.session())
    args = _parser().parse_args(["cleanup", "--probes"])
    assert args.run(args) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == (
        "gtcheck cleanup: deleted 11 probe item copies (us-east-1 5, eu-west-1 6), 0 left"
    )
    assert all(line.startswith("cleanup: deleted GTCHECK#probe-") for line in out[:-1])
    key = templates.to_attributes({"PK": "USER#global-user-ana", "SK": "PROFILE"})
    assert "Item" in classroom.client("dynamodb", "us-east-1").get_item(
        TableName=classroom.config.table, Key=key
    )


@pytest.mark.parametrize(
    "argv",
    [["cleanup"], ["cleanup", "--probes", "--participant", "ana"]],
    ids=["neither", "both"],
)
def test_cleanup_needs_exactly_one_of_participant_and_probes(argv, capsys):
    with pytest.raises(SystemExit) as stopped:
        _parser().parse_args(argv)
    assert stopped.value.code == 2
    assert re.search("--participant|--probes", capsys.readouterr().err)
