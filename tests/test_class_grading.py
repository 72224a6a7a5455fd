"""A whole class in one run: every step parametrized by participant, one reader per
table, and each participant's verdicts exactly those of a check of that participant."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from gtcheck import templates
from gtcheck.sim import ManualClock, SimConfig, Simulator
from tests import browser
from tests.grading import grade, grade_class, placeholders, put, write_workshop
from tests.test_report import parse

CLASS = {"ana": "complete", "bo": "price-as-string", "cy": "nothing", "dee": "half"}


def make_class() -> Simulator:
    sim = Simulator(SimConfig(lag=1.0, jitter=0.0), clock=ManualClock(start=time.time()))
    for name, state in CLASS.items():
        if state == "nothing":
            continue
        if state == "half":
            values = placeholders(name)
            put(sim, "us-east-1", templates.render(templates.load(templates.USER), values))
            continue
        write_workshop(sim, name)
        if state == "price-as-string":
            product = templates.render(templates.load(templates.PRODUCT), placeholders(name))
            product["price"] = "299"
            put(sim, "eu-west-1", product)
    sim.advance(3)
    return sim


def verdicts(report: dict) -> dict[str, tuple[str, int]]:
    return {step["id"]: (step["status"], step["points"]) for step in report["steps"]}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Simulator, Path, int, dict]:
    """The class graded once; the requests it made, counted before anything else reads."""
    sim = make_class()
    folder = tmp_path_factory.mktemp("class")
    roster = folder / "roster.csv"
    roster.write_text("participant\n" + "\n".join(CLASS) + "\n")
    sim.request_log.clear()
    code = grade_class(sim, roster, folder / "reports")
    requests = {
        "writes": sim.request_log.writes(),
        "scans": sim.request_log.total(frozenset({"Scan"})),
        "queries": sim.request_log.total(frozenset({"Query"})),
    }
    return sim, folder / "reports", code, requests


def test_each_participant_is_graded_as_a_single_check_grades_them(
    graded: tuple[Simulator, Path, int, dict], tmp_path: Path
) -> None:
    sim, reports, code, _ = graded
    assert code == 1  # some did not pass
    for name in CLASS:
        in_class = json.loads((reports / f"{name}.json").read_text())
        _, alone = grade(sim, name, tmp_path / name)
        assert verdicts(in_class) == verdicts(alone), name
        assert in_class["score"] == alone["score"]
    scores = {name: json.loads((reports / f"{name}.json").read_text())["score"] for name in CLASS}
    assert {json.loads((reports / f"{n}.json").read_text())["max_score"] for n in CLASS} == {100}
    assert scores["ana"] == 100
    assert scores["cy"] == 0
    assert 0 < scores["bo"] < 100


def test_a_class_on_one_table_is_read_once_and_never_written(
    graded: tuple[Simulator, Path, int, dict],
) -> None:
    """One Scan per region and one query per index partition and region serve every
    participant; not a single write."""
    sim, _, _, requests = graded
    assert requests["writes"] == 0
    assert requests["scans"] == len(sim.config.regions)
    assert requests["queries"] == 2 * len(sim.config.regions)  # GSI1 category, GSI2 status


def test_all_discovers_the_participants_from_their_profiles(tmp_path: Path) -> None:
    sim = make_class()
    assert grade_class(sim, None, tmp_path, discover_all=True) == 1
    found = sorted(path.stem for path in tmp_path.glob("*.json") if path.stem != "gradebook")
    assert found == ["ana", "bo", "dee"]  # cy wrote nothing: no profile to find


@pytest.mark.browser
@browser.needs_chromium
def test_each_participant_gets_a_page_that_runs_no_participant_data(tmp_path: Path) -> None:
    """A class run writes N.html beside N.json for every participant: self-contained, the
    name shown as typed, and a hostile name stays text in real Chromium."""
    sim = make_class()
    hostile = '<img src=x onerror="document.body.dataset.pwned=1">'
    put(sim, "us-east-1", templates.render(templates.load(templates.USER), placeholders(hostile)))
    sim.advance(2)
    roster = tmp_path / "roster.csv"
    roster.write_text('participant\nana\n"' + hostile.replace('"', '""') + '"\n')
    grade_class(sim, roster, tmp_path / "reports")
    pages = sorted((tmp_path / "reports").glob("*.html"))
    assert len(pages) == 3  # ana's, the hostile name's, and the class gradebook
    hostile_page = next(page for page in pages if page.stem not in ("ana", "gradebook"))
    assert "<img src=x" not in hostile_page.read_text()
    dom = parse(browser.dump_dom(hostile_page).stdout)
    (body,) = dom.find_all("body")
    assert "data-pwned" not in body.attrs
    assert dom.by_id("gt-participant").text() == hostile


@pytest.mark.server
def test_xdist_spreads_a_class_and_agrees_with_a_serial_run(tmp_path: Path) -> None:
    """`-n 2`: participants are spread over two workers, each participant's steps on one;
    every report is written once and says what the serial run's says. The class has
    settled, so nothing waits; the timeout only bounds a worker slowed by a busy machine."""
    import os
    import subprocess
    import sys

    sim = make_class()
    server = sim.serve("127.0.0.1", 0)
    roster = tmp_path / "roster.csv"
    roster.write_text("participant\n" + "\n".join(CLASS) + "\n")

    def run(folder: str, *extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "gtcheck.plugin", "--pyargs",
             "gtcheck.checks", "--roster", str(roster), "--endpoint-url", server.endpoint,
             "--report-dir", str(tmp_path / folder), "--replication-timeout", "60",
             "-p", "no:cacheprovider", "-q", *extra],
            capture_output=True, text=True, timeout=300, cwd=tmp_path, env=dict(os.environ),
        )  # fmt: skip

    try:
        serial = run("serial", "-p", "no:xdist")
        spread = run("spread", "-n", "2")
    finally:
        server.stop()
    assert serial.returncode == spread.returncode == 1, spread.stdout[-2000:]
    assert "2 workers" in spread.stdout or "gw1" in spread.stdout + spread.stderr
    for name in CLASS:
        one = json.loads((tmp_path / "serial" / f"{name}.json").read_text())
        two = json.loads((tmp_path / "spread" / f"{name}.json").read_text())
        assert verdicts(one) == verdicts(two), name
    assert sorted(p.name for p in (tmp_path / "spread").glob("*.json")) == sorted(
        [f"{name}.json" for name in CLASS] + ["gradebook.json"]
    )
    merged = json.loads((tmp_path / "spread" / "gradebook.json").read_text())
    alone = json.loads((tmp_path / "serial" / "gradebook.json").read_text())
    assert merged["participants"] == alone["participants"]  # one gradebook, merged


def test_a_participant_whose_endpoint_is_down_is_error_and_the_class_goes_on(
    tmp_path: Path,
) -> None:
    """One row's own endpoint does not answer: every step of theirs is `error`, exit 3,
    and everyone else is graded as before."""
    sim = make_class()
    roster = tmp_path / "roster.csv"
    roster.write_text("participant,endpoint_url\nana,\nzed,http://127.0.0.1:9\n")
    assert grade_class(sim, roster, tmp_path / "reports") == 3
    zed = json.loads((tmp_path / "reports" / "zed.json").read_text())
    assert {step["status"] for step in zed["steps"]} == {"error"}
    ana = json.loads((tmp_path / "reports" / "ana.json").read_text())
    assert ana["score"] == 100


def test_the_class_gradebook_is_written_beside_the_reports(
    graded: tuple[Simulator, Path, int, dict],
) -> None:
    """gradebook.json holds every participant, graded by gtcheck itself, with the scores
    and causes of their reports; .csv and .html beside it."""
    _, reports, _, _ = graded
    book = json.loads((reports / "gradebook.json").read_text())
    assert book["schema"] == "gtcheck.gradebook/1"
    rows = {row["participant"]: row for row in book["participants"]}
    assert set(rows) == set(CLASS)
    assert {row["source"] for row in rows.values()} == {"graded"}
    for name, row in rows.items():
        report = json.loads((reports / f"{name}.json").read_text())
        assert row["score"] == report["score"]
        assert row["report"] == f"{name}.json"
    causes = book["steps"]["ex2.product_created"]["causes"]
    assert causes == {"ambiguous-product": 2, "number-as-string": 1}  # cy and dee: none theirs
    assert (reports / "gradebook.csv").read_text().startswith("participant,source,score")
    assert "<table" in (reports / "gradebook.html").read_text()
