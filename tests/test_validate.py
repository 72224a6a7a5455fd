"""`gtcheck validate` against the simulator on injected time: verdicts, exit codes, the
report, and that nothing is left behind."""

from __future__ import annotations

import argparse
import json
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from gtcheck import cli, marks, validate
from gtcheck.config import Runtime
from gtcheck.sim import ManualClock, SimConfig, Simulator, TableSetup
from tests.grading import write_workshop

TABLE = "demo-ecommerce-freetier"
US, EU = "us-east-1", "eu-west-1"
FORWARD, BACKWARD = f"{US}->{EU}", f"{EU}->{US}"


def make_sim(**config: object) -> Simulator:
    settings = {"lag": 1.0, "jitter": 0.0, **config}
    return Simulator(SimConfig(**settings), clock=ManualClock(start=time.time()))  # type: ignore[arg-type]


def run_validate(
    sim: Simulator,
    report_dir: Path,
    *,
    probes: int = 20,
    timeout: float = 60.0,  # the whole run's: at lag 1 s it takes about 26 s, paced
    sleep=None,
    junitxml: Path | None = None,
):
    args = argparse.Namespace(
        endpoint_url=None,
        profile=None,
        table=TABLE,
        regions=sim.config.regions,
        timeout=timeout,
        report_dir=report_dir,
        probes=probes,
        junitxml=junitxml,
    )
    runtime = Runtime(
        session=sim.session(),
        monotonic=sim.clock.now,
        sleep=sleep or sim.advance,
        extra={"now": sim.clock.now},
    )
    code, _run = validate.run(args, runtime, quiet=True)
    document = json.loads((report_dir / "validation.json").read_text())
    return code, document


def statuses(document: dict) -> dict[str, str]:
    found = {check["id"]: check["status"] for check in document["checks"]}
    found.update({s["id"]: s["status"] for s in document["scenarios"]})
    return found


def snapshot(sim: Simulator) -> dict[str, bytes]:
    """Every region's items, in a canonical byte form."""
    found = {}
    for region in sim.config.regions:
        items = sim.client("dynamodb", region).scan(TableName=TABLE)["Items"]
        found[region] = json.dumps(
            sorted(items, key=lambda i: (i["PK"]["S"], i["SK"]["S"])), sort_keys=True
        ).encode()
    return found


@pytest.fixture(scope="module")
def healthy(tmp_path_factory):
    """One healthy validation, shared by the tests that only read its report."""
    sim = make_sim()
    report_dir = tmp_path_factory.mktemp("healthy")
    code, document = run_validate(sim, report_dir)
    return sim, code, document, report_dir


def test_a_healthy_simulator_validates_with_exit_0(healthy):
    _sim, code, document, _dir = healthy
    assert code == 0, document
    assert document["ok"] is True
    assert document["schema"] == "gtcheck.validation/1"
    assert set(statuses(document).values()) == {"passed"}
    ids = [check["id"] for check in document["checks"]]
    assert ids == [
        "env.table", "env.replicas", "env.indexes", "env.streams",
        "bot.solved", "bot.graded", "latency", "cleanup",
    ]  # fmt: skip
    assert document["bot"].startswith("gtcheck-bot-")
    phases = document["phases_s"]
    assert set(phases) == {
        "environment", "latency", "bot.solved", "bot.graded", "cleanup",
        "login-visible", "inventory-race", "order-lifecycle",
    }  # fmt: skip
    # side by side: the bot and the scenarios start while the probes are still out
    assert phases["bot.solved"][0] < phases["latency"][1]
    assert phases["order-lifecycle"][0] < phases["latency"][1]
    spent = document["units_spent"]
    assert set(spent) == {US, EU}
    assert all(figures["write_units"] > 0 for figures in spent.values())


def test_latency_is_within_30_ms_of_the_configured_lag(healthy):
    """Lag 1 s, jitter 0: each direction's median within 30 ms of 1000 ms, beside
    CloudWatch's average for the same window, and against the page's 2 seconds."""
    _sim, _code, document, _dir = healthy
    latency = document["latency_ms"]
    assert set(latency) == {FORWARD, BACKWARD}
    for entry in latency.values():
        assert entry["samples"] == 20
        assert entry["p50"] == pytest.approx(1000, abs=30)
        assert entry["min"] <= entry["p50"] <= entry["p95"] <= entry["max"]
        assert entry["mean"] == pytest.approx(1000, abs=30)
        assert entry["cloudwatch_avg"] == pytest.approx(1000, abs=30)
        assert entry["within_page_claim"] is True
        assert len(entry["probes"]) == 20


def test_latency_on_injected_time_is_the_same_on_every_run(healthy, tmp_path):
    """The parts of a run take turns on the injected clock in a fixed order, so a second
    healthy validation on a fresh simulator (started at another moment) measures the
    very same figures, however the operating system schedules the threads."""
    _sim, _code, document, _dir = healthy
    code, again = run_validate(make_sim(), tmp_path)
    assert code == 0
    assert again["latency_ms"] == document["latency_ms"]


def test_the_inventory_scenario_shows_the_lost_update(healthy):
    _sim, _code, document, _dir = healthy
    inventory = next(s for s in document["scenarios"] if s["id"] == "inventory-race")
    assert inventory["status"] == "passed"
    assert inventory["observed"]["lost"] == 1
    assert inventory["observed"]["stock"] == 99
    assert "last writer wins" in inventory["explanation"]
    assert "conditional write in one home region" in inventory["explanation"]
    assert "counter per region" in inventory["explanation"]


def test_the_order_scenario_holds_all_three_changes(healthy):
    _sim, _code, document, _dir = healthy
    order = next(s for s in document["scenarios"] if s["id"] == "order-lifecycle")
    assert order["status"] == "passed"
    assert "holds all three changes" in order["explanation"]
    assert order["observed"] == {"created": EU, "paid": US, "shipped": EU}
    login = next(s for s in document["scenarios"] if s["id"] == "login-visible")
    assert login["observed"]["seconds"] == pytest.approx(1.0, abs=0.25)


def test_clean_up_leaves_nothing_and_counts_every_copy(healthy):
    sim, _code, document, _dir = healthy
    cleanup = document["cleanup"]
    assert cleanup["written"] > 0
    assert cleanup["deleted"] == cleanup["written"]
    assert cleanup["left"] == 0
    assert cleanup["deletions_replicated"] is True
    sim.advance(5.0)
    for region in sim.config.regions:
        assert sim.client("dynamodb", region).scan(TableName=TABLE)["Items"] == []


def test_the_html_report_is_self_contained_and_accessible(healthy):
    _sim, _code, document, report_dir = healthy
    page = (report_dir / "validation.html").read_text()
    assert page.startswith('<!DOCTYPE html><html lang="en">')
    assert "http://" not in page
    assert "https://" not in page
    assert page.count('role="img"') == 2
    assert f'aria-label="{FORWARD}: 20 probes' in page.replace("&gt;", ">")
    assert '<span aria-hidden="true">\u2714</span> passed' in page
    assert "last writer wins" in page
    assert document["bot_report"] == f"validation-bot/{document['bot']}.html"
    assert (report_dir / document["bot_report"]).is_file()
    assert f'href="validation-bot/{document["bot"]}.html"' in page
    assert [p.name for p in report_dir.glob("*.json")] == ["validation.json"]


def test_replication_paused_one_way_fails_and_names_the_direction(tmp_path):
    """us-east-1 -> eu-west-1 paused: exit 1, the latency check names that direction,
    and eu-west-1 -> us-east-1 is still measured."""
    sim = make_sim()
    sim.pause(US, EU)
    code, document = run_validate(sim, tmp_path, probes=5, timeout=10.0)
    assert code == 1, document
    found = statuses(document)
    assert found["latency"] == "failed"
    latency = next(c for c in document["checks"] if c["id"] == "latency")
    assert FORWARD in latency["detail"]
    assert BACKWARD not in latency["detail"]
    assert document["latency_ms"][FORWARD]["samples"] == 0
    assert document["latency_ms"][BACKWARD]["samples"] == 5
    assert document["latency_ms"][BACKWARD]["p50"] == pytest.approx(1000, abs=40)
    assert found["bot.solved"] == "failed"
    assert found["cleanup"] == "passed"


def test_a_missing_replica_is_exit_3_with_the_hint(tmp_path, capsys):
    sim = make_sim(setup=TableSetup.PRIMARY)
    junit = tmp_path / "validation.xml"
    code, document = run_validate(sim, tmp_path, junitxml=junit)
    assert code == 3
    tree = ET.parse(junit)
    assert len(list(tree.iter("error"))) == 1  # an environment error, not a failure
    assert not list(tree.iter("failure"))
    replicas = next(c for c in document["checks"] if c["id"] == "env.replicas")
    assert replicas["status"] == "error"
    assert "add the eu-west-1 replica" in replicas["detail"]
    assert "add the eu-west-1 replica" in capsys.readouterr().err
    assert document["cleanup"]["written"] == 0


def _creating_sim(seconds: float) -> Simulator:
    sim = make_sim(setup=TableSetup.PRIMARY, replica_create_seconds=seconds)
    sim.client("dynamodb", US).update_table(
        TableName=TABLE, ReplicaUpdates=[{"Create": {"RegionName": EU}}]
    )
    return sim


def test_a_replica_still_creating_past_the_timeout_is_exit_3(tmp_path):
    sim = _creating_sim(600.0)
    code, document = run_validate(sim, tmp_path, timeout=10.0)
    assert code == 3
    replicas = next(c for c in document["checks"] if c["id"] == "env.replicas")
    assert "still creating" in replicas["detail"]
    assert "CREATING" in replicas["detail"]


def test_a_replica_creating_is_waited_for_and_the_wait_reported(tmp_path):
    sim = _creating_sim(12.0)
    code, document = run_validate(sim, tmp_path, probes=3)
    assert code == 0, document
    replicas = next(c for c in document["checks"] if c["id"] == "env.replicas")
    assert "waited 1" in replicas["detail"]  # 12 s to 15 s, in 5 s polls
    assert "was eu-west-1 CREATING" in replicas["detail"]


def test_a_class_table_is_byte_identical_after_a_validation(tmp_path):
    sim = make_sim()
    for name in ("ana", "binh", "chi"):
        write_workshop(sim, name)
    sim.advance(5.0)
    before = snapshot(sim)
    code, _document = run_validate(sim, tmp_path, probes=5)
    assert code == 0
    sim.advance(5.0)
    assert snapshot(sim) == before


def test_a_probe_item_another_process_changed_is_reported_not_deleted(tmp_path):
    """While the login scenario waits, another process rewrites its item with its own
    marker: the scenario fails with an explanation, and clean-up leaves that item alone."""
    sim = make_sim()
    state = {"done": False}

    def tampering_sleep(seconds: float) -> None:
        sim.advance(seconds)
        if state["done"]:
            return
        for item in sim.client("dynamodb", US).scan(TableName=TABLE)["Items"]:
            if item["PK"]["S"].endswith("-login"):
                item[marks.PROBE_MARKER] = {"S": "someone-else"}
                sim.client("dynamodb", US).put_item(TableName=TABLE, Item=item)
                state["done"] = True

    code, document = run_validate(sim, tmp_path, probes=3, sleep=tampering_sleep)
    assert code == 1
    login = next(s for s in document["scenarios"] if s["id"] == "login-visible")
    assert login["status"] == "failed"
    assert "Another process changed" in login["explanation"]
    assert len(document["cleanup"]["changed"]) == 1
    sim.advance(5.0)
    left = sim.client("dynamodb", US).scan(TableName=TABLE)["Items"]
    assert [item[marks.PROBE_MARKER] for item in left] == [{"S": "someone-else"}]


def test_an_interrupted_run_still_cleans_up(tmp_path):
    """Ctrl-C (or SIGTERM, which raises the same) during the latency probes: what was
    written is removed all the same, and the report says so."""
    sim = make_sim()
    stopped = {"done": False}

    def interrupting_sleep(seconds: float) -> None:
        sim.advance(seconds)
        if not stopped["done"] and sim.request_log.writes() >= 12:  # the probes are out
            stopped["done"] = True
            raise KeyboardInterrupt

    code, document = run_validate(sim, tmp_path, probes=3, sleep=interrupting_sleep)
    assert code == 2
    assert document["interrupted"] is True
    assert document["ok"] is False
    assert document["cleanup"]["written"] > 0
    assert document["cleanup"]["left"] == 0
    sim.advance(5.0)
    for region in sim.config.regions:
        assert sim.client("dynamodb", region).scan(TableName=TABLE)["Items"] == []


def test_a_clean_up_interrupted_mid_way_is_started_over(tmp_path, monkeypatch):
    """Ctrl-C (or SIGTERM) once the clean-up has deleted its first item: the session's
    teardown starts it over, so every item the run wrote is gone, the bot's included, and
    the class's table is byte-identical."""
    from gtcheck.validation import ledger

    sim = make_sim()
    for name in ("ana", "binh"):
        write_workshop(sim, name)
    sim.advance(5.0)
    before = snapshot(sim)
    delete = ledger._delete
    deleted: list[str] = []

    def interrupted_after_one(run, region, key, run_id):
        answer = delete(run, region, key, run_id)
        deleted.append(key["PK"]["S"])
        if len(deleted) == 1:
            raise KeyboardInterrupt
        return answer

    monkeypatch.setattr(ledger, "_delete", interrupted_after_one)
    code, document = run_validate(sim, tmp_path, probes=3)
    assert code == 2
    assert document["interrupted"] is True
    assert deleted[0] == deleted[1]  # started over from the first item
    assert document["cleanup"]["left"] == 0
    sim.advance(5.0)
    assert snapshot(sim) == before


def test_junit_xml_has_one_case_per_part(healthy, tmp_path):
    sim = make_sim()
    junit = tmp_path / "validation.xml"
    code, _document = run_validate(sim, tmp_path, probes=2, junitxml=junit)
    assert code == 0
    names = [case.get("name") for case in ET.parse(junit).iter("testcase")]
    assert names[:4] == ["test_environment", "test_bot_solved", "test_bot_graded", "test_latency"]
    assert names[-1] == "test_cleanup"
    assert len(names) == 8


@pytest.mark.parametrize(
    "words",
    [
        ["--probes", "0"],
        ["--probes", "-3"],
        ["--probes", "1001"],
        ["--probes", "many"],
        ["--regions", "us-east-1"],
        ["--frobnicate"],
    ],
)
def test_bad_input_is_one_line_and_exit_2(words, capsys):
    with pytest.raises(SystemExit) as stopped:
        cli.main(["validate", *words])
    assert stopped.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith("gtcheck")
    assert "error:" in err


def test_a_latency_probe_another_process_changed_is_left_and_reported(tmp_path):
    """A probe rewritten in flight by another process (its own marker): the run does not
    crash, the probe is not deleted, and the clean-up names it."""
    sim = make_sim()
    state = {"done": False}

    def tampering_sleep(seconds: float) -> None:
        sim.advance(seconds)
        if state["done"] or sim.request_log.writes() < 8:  # the probes are going out
            return
        for item in sim.client("dynamodb", US).scan(TableName=TABLE)["Items"]:
            if ">" in item["PK"]["S"] and marks.is_probe(item):
                item[marks.PROBE_MARKER] = {"S": "someone-else"}
                sim.client("dynamodb", US).put_item(TableName=TABLE, Item=item)
                state["done"] = True
                return

    code, document = run_validate(sim, tmp_path, probes=3, sleep=tampering_sleep)
    assert state["done"]
    assert code == 0, document  # changed after it arrived: its measurement stands
    assert len(document["cleanup"]["changed"]) == 1
    cleanup = next(c for c in document["checks"] if c["id"] == "cleanup")
    assert "changed by another process, not deleted" in cleanup["detail"]
    assert document["cleanup"]["left"] == 0
    sim.advance(5.0)
    left = [
        item
        for region in sim.config.regions
        for item in sim.client("dynamodb", region).scan(TableName=TABLE)["Items"]
    ]
    assert left
    assert {item[marks.PROBE_MARKER]["S"] for item in left} == {"someone-else"}


@pytest.mark.browser
def test_the_validation_page_passes_axe(tmp_path):
    """No serious or critical WCAG 2.1 AA violation on a page with passed and failed
    parts (replication paused one way)."""
    from tests import accessibility

    sim = make_sim()
    sim.pause(US, EU)
    run_validate(sim, tmp_path, probes=3, timeout=5.0)
    found = accessibility.violations(tmp_path / "validation.html")
    serious = [v.summary() for v in found if v.impact in accessibility.SERIOUS]
    assert not serious


def _document(**changes) -> dict:
    document = {
        "schema": "gtcheck.validation/1",
        "ok": False,
        "table": TABLE,
        "regions": [US, EU],
        "started_at": "2026-12-02T09:00:00+00:00",
        "duration_s": 1.0,
        "lang": "en",
        "bot": "gtcheck-bot-x",
        "page_claim_ms": 2000.0,
        "checks": [],
        "latency_ms": {},
        "scenarios": [],
        "cleanup": {"written": 0, "deleted": 0, "left": 0, "changed": []},
    }
    return {**document, **changes}


def test_histogram_bins_are_the_probes_resolution():
    """Pure: five probes known to 250 ms fall in 250 ms bins, never finer."""
    from gtcheck.validation.page import histogram

    entry = {
        "resolution_ms": 250.0,
        "probes": [{"latency_ms": v, "resolution_ms": 250.0} for v in (875, 925, 975, 1025, 1075)],
    }
    svg = histogram(FORWARD, entry, 2000.0)
    assert 'role="img"' in svg
    assert "in bins of 250 ms" in svg
    assert svg.count("<rect") == 1 + 2  # the track, and bins 750-1000 and 1000-1250
    assert histogram(FORWARD, {"probes": []}, 2000.0) == ""


def test_every_value_on_the_page_is_escaped():
    from gtcheck.validation.page import html

    hostile = "<script>alert(1)</script>"
    page = html(
        _document(
            table=hostile,
            checks=[{"id": "cleanup", "status": "failed", "detail": hostile}],
            scenarios=[{"id": hostile, "status": "error", "explanation": hostile}],
        )
    )
    assert "<script>" not in page
    assert "&lt;script&gt;" in page


def test_a_verdict_is_explained_in_the_readers_language():
    """The verdict is data; its words are chosen when shown."""
    from gtcheck import i18n
    from gtcheck.scenarios import INVENTORY_LOST, Verdict

    verdict = Verdict(
        "inventory-race",
        "passed",
        INVENTORY_LOST,
        {"start": 100, "regions": "us-east-1, eu-west-1", "stock": 99, "expected": 98,
         "lost": 1, "primary": US},
    )
    assert "last writer wins" in verdict.explanation()
    previous = i18n.chosen_language()
    i18n.set_language("vi")
    try:
        assert "Last Writer Wins" in verdict.explanation()
    finally:
        i18n.set_language(previous)


def test_throttled_reads_still_give_a_correct_verdict(tmp_path):
    """30% of reads throttled: retries with backoff, and validation still holds."""
    sim = make_sim(throttle=0.3, seed=3)
    code, document = run_validate(sim, tmp_path, probes=5)
    assert code == 0, document
    assert set(statuses(document).values()) == {"passed"}


def test_a_run_interrupted_while_waiting_for_the_environment_writes_its_report(tmp_path):
    """Ctrl-C (or SIGTERM) while a replica is still being created: validation.json is
    written all the same, says it was interrupted, and nothing was written to the table."""
    sim = _creating_sim(600.0)

    def interrupting_sleep(seconds: float) -> None:
        sim.advance(seconds)
        raise KeyboardInterrupt

    code, document = run_validate(sim, tmp_path, sleep=interrupting_sleep)
    assert code == 2
    assert document["interrupted"] is True
    assert document["ok"] is False
    assert document["checks"] == []
    assert document["cleanup"]["written"] == 0
    assert "Interrupted before it ended" in (tmp_path / "validation.html").read_text()


def test_replication_stuck_both_ways_ends_the_run_by_its_one_deadline(tmp_path):
    """Nothing replicates: every part waits inside the run's one deadline, so the run
    (injected time) ends a few seconds after --timeout, not one timeout per part."""
    sim = make_sim()
    sim.pause(US, EU)
    sim.pause(EU, US)
    started = sim.clock.now()
    code, document = run_validate(sim, tmp_path, probes=3, timeout=20.0)
    assert code == 1, document
    assert sim.clock.now() - started <= 20.0 + 6.0
    assert document["duration_s"] <= 20.0 + 6.0
    found = statuses(document)
    assert found["bot.solved"] == "failed"
    assert found["latency"] == "failed"
    assert {found[s] for s in ("login-visible", "inventory-race", "order-lifecycle")} == {
        "failed"
    }
    assert document["cleanup"]["left"] == 0
    sim.resume(US, EU)
    sim.resume(EU, US)
    sim.advance(5.0)
    for region in sim.config.regions:
        assert sim.client("dynamodb", region).scan(TableName=TABLE)["Items"] == []


def test_a_run_spends_at_most_half_the_provisioned_capacity_over_its_length(healthy):
    """5 RCU / 5 WCU in each region: what the run spent (replicated writes included),
    divided by its length on the injected clock, stays within 2.5 units a second."""
    sim, _code, document, _dir = healthy
    seconds = document["duration_s"]
    for region, figures in document["units_spent"].items():
        assert figures["read_units"] <= 2.5 * seconds, region
        assert figures["write_units"] <= 2.5 * seconds, region
    usage = sim.state()["capacity"]["usage"]
    for region in (US, EU):
        assert usage[region][TABLE]["refused_reads"] == 0
        assert usage[region][TABLE]["refused_writes"] == 0
