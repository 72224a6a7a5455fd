"""`gtcheck grade --collect DIR` end to end: reports written by real `gtcheck check` runs
against the in-process simulator, plus tampered copies, graded into one gradebook.

The participants: ana did everything, bob typed the product's price in quotes, carol did
nothing, and three more with hostile names (markup, a formula, spaces with # and unicode)
did nothing either. Beside their reports lie copies that do not add up.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from freezegun import freeze_time

from gtcheck import gradebook_render, templates
from gtcheck.cli import main
from gtcheck.report import safe_stem
from gtcheck.sim import ManualClock, SimConfig, Simulator
from tests import browser
from tests.grading import grade, placeholders, put, write_workshop
from tests.test_report import parse

PWNED = "document.body.setAttribute('data-pwned','{}')"
HOSTILE_NAME = '"><img src=x onerror="' + PWNED.format(1) + '">'
FORMULA_NAME = '=HYPERLINK("http://x.invalid","pay")'
SPACED_NAME = "Zoë Ångström #1"
HOSTILE_FILE = "<svg onload=" + PWNED.format(2) + ">.json"
NAMES = ("ana", "bob", "carol", HOSTILE_NAME, FORMULA_NAME, SPACED_NAME)
FROZEN = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)

# file name -> the words its rejection gives
TAMPERED = {
    "mallory-score.json": "the score 20 is not the sum of the steps' points (10)",
    "mallory-points.json": "step ex1.user_created has 15 points, the rubric gives at most 10",
    "mallory-unknown.json": "unknown step ex9.bonus",
    "mallory-missing.json": "step ex5.timing_item is missing",
    "mallory-schema.json": "the schema is gtcheck.report/0, expected gtcheck.report/1",
    "ana-again.json": "participant ana is already reported by ana.json",
    "notes.json": "not a JSON report (",
    HOSTILE_FILE: "not a JSON report (",
}


@dataclass(frozen=True)
class Class:
    submitted: Path  # the folder participants' reports were collected in
    reports: dict[str, dict[str, Any]]  # participant -> the report as written


def simulator() -> Simulator:
    return Simulator(SimConfig(lag=1.0, jitter=0.0), clock=ManualClock(start=FROZEN.timestamp()))


def write_reports(folder: Path) -> dict[str, dict[str, Any]]:
    """Each participant checked in their own account, as `gtcheck check` would."""
    reports = {}
    for name in NAMES:
        sim = simulator()
        if name in ("ana", "bob"):
            write_workshop(sim, name)
        if name == "bob":
            product = templates.render(templates.load(templates.PRODUCT), placeholders("bob"))
            product["price"] = "299"  # a number typed as a string
            put(sim, "eu-west-1", product)
            sim.advance(2)
        _code, reports[name] = grade(sim, name, folder, timeout=5)
    for html in folder.glob("*.html"):  # participants send their N.json
        html.unlink()
    return reports


def tamper(folder: Path, reports: dict[str, dict[str, Any]]) -> None:
    """Copies that do not add up, each under a participant of its own."""

    def copy_of(name: str, participant: str) -> dict[str, Any]:
        data = json.loads(json.dumps(reports[name]))
        data["participant"] = participant
        return data

    def steps(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
        return {step["id"]: step for step in data["steps"]}

    score = copy_of("carol", "mallory-score")
    steps(score)["ex1.user_created"]["points"] = 10  # raised, the total left behind
    score["score"] = 20
    points = copy_of("carol", "mallory-points")
    steps(points)["ex1.user_created"]["points"] = 15
    points["score"] = 15
    unknown = copy_of("ana", "mallory-unknown")
    unknown["steps"].append({**steps(unknown)["env.table"], "id": "ex9.bonus"})
    missing = copy_of("ana", "mallory-missing")
    missing["steps"] = [s for s in missing["steps"] if s["id"] != "ex5.timing_item"]
    missing["score"] -= 10
    schema = copy_of("ana", "mallory-schema")
    schema["schema"] = "gtcheck.report/0"
    for file, data in (
        ("mallory-score.json", score),
        ("mallory-points.json", points),
        ("mallory-unknown.json", unknown),
        ("mallory-missing.json", missing),
        ("mallory-schema.json", schema),
    ):
        (folder / file).write_text(json.dumps(data), encoding="utf-8")
    shutil.copy(folder / "ana.json", folder / "ana-again.json")
    (folder / "notes.json").write_text("{ana: 100}", encoding="utf-8")
    (folder / HOSTILE_FILE).write_bytes(b"\xff\xfe<script>")


@pytest.fixture(scope="module")
def klass(tmp_path_factory: pytest.TempPathFactory) -> Class:
    folder = tmp_path_factory.mktemp("class") / "submitted"
    with freeze_time(FROZEN, tick=False):
        reports = write_reports(folder)
    tamper(folder, reports)
    return Class(folder, reports)


@dataclass(frozen=True)
class Graded:
    code: int
    out: str
    folder: Path

    @property
    def document(self) -> dict[str, Any]:
        return json.loads((self.folder / "gradebook.json").read_text(encoding="utf-8"))

    @property
    def html_path(self) -> Path:
        return self.folder / "gradebook.html"

    def rows(self) -> dict[str, dict[str, Any]]:
        """Rows by the file they came from."""
        return {Path(row["report"]).name: row for row in self.document["participants"]}


def run_grade(collect: Path, out: Path, capsys: pytest.CaptureFixture, *extra: str) -> Graded:
    code = main(["grade", "--collect", str(collect), "--report-dir", str(out), *extra])
    return Graded(code, capsys.readouterr().out, out)


@pytest.fixture(scope="module")
def graded(klass: Class, tmp_path_factory: pytest.TempPathFactory) -> Graded:
    out = tmp_path_factory.mktemp("gradebook")
    code = main(["grade", "--collect", str(klass.submitted), "--report-dir", str(out)])
    return Graded(code, "", out)


# ----- what is kept and what is rejected ------------------------------------------------------
def test_reports_that_add_up_are_self_reported_the_rest_rejected_with_a_reason(
    klass: Class, graded: Graded
) -> None:
    assert graded.code == 1
    rows = graded.rows()
    assert set(rows) == {f"{safe_stem(n)}.json" for n in NAMES} | set(TAMPERED)
    for name in NAMES:
        row = rows[f"{safe_stem(name)}.json"]
        assert (row["participant"], row["source"], row["reason"]) == (name, "self-reported", None)
        assert row["score"] == klass.reports[name]["score"]
        assert row["steps"] == {
            s["id"]: {
                "status": s["status"],
                "points": s["points"],
                "cause": None if s["status"] == "passed" else s.get("cause"),
            }
            for s in klass.reports[name]["steps"]
        }
    for file, words in TAMPERED.items():
        row = rows[file]
        assert row["source"] == "rejected", file
        assert words in row["reason"], (file, row["reason"])
        assert (row["score"], row["steps"]) == (0, {})
    assert rows[HOSTILE_FILE]["participant"] == HOSTILE_FILE.removesuffix(".json")
    assert rows["ana.json"]["score"] == 100
    assert rows["bob.json"]["steps"]["ex2.product_created"]["status"] == "failed"


def test_counts_come_from_the_accepted_reports(klass: Class, graded: Graded) -> None:
    """Per step: statuses and causes as the accepted reports hold them (causes only when
    the reports carry them)."""
    document = graded.document
    for step_id, tally in document["steps"].items():
        statuses = Counter(
            step["status"]
            for report in klass.reports.values()
            for step in report["steps"]
            if step["id"] == step_id
        )
        causes = Counter(
            step["cause"]
            for report in klass.reports.values()
            for step in report["steps"]
            if step["id"] == step_id and step["status"] != "passed" and step.get("cause")
        )
        assert {s: tally[s] for s in ("passed", "failed", "skipped", "error")} == {
            s: statuses[s] for s in ("passed", "failed", "skipped", "error")
        }, step_id
        assert tally["causes"] == dict(causes), step_id
    assert document["steps"]["ex2.product_created"]["failed"] == len(NAMES) - 1
    assert document["table"] == "demo-ecommerce-freetier"
    assert document["regions"] == ["us-east-1", "eu-west-1"]
    assert document["started_at"].endswith("+00:00")


def test_submitted_files_are_left_as_they_were(klass: Class, tmp_path: Path, capsys) -> None:
    """--collect writes the three gradebook files and nothing else: no N.json or N.html."""
    before = {p.name: p.read_bytes() for p in klass.submitted.iterdir()}
    graded = run_grade(klass.submitted, tmp_path / "out", capsys)
    assert {p.name: p.read_bytes() for p in klass.submitted.iterdir()} == before
    assert sorted(p.name for p in graded.folder.iterdir()) == [
        "gradebook.csv",
        "gradebook.html",
        "gradebook.json",
    ]


def test_rows_link_to_the_submitted_reports(graded: Graded, klass: Class) -> None:
    for row in graded.document["participants"]:
        target = (graded.folder / row["report"]).resolve()
        assert target.parent == klass.submitted.resolve()
        assert target.is_file()


def test_the_summary_names_each_rejected_file(klass: Class, tmp_path: Path, capsys) -> None:
    graded = run_grade(klass.submitted, tmp_path, capsys)
    lines = graded.out.splitlines()
    rejected = [line for line in lines if line.startswith("gtcheck grade: rejected ")]
    assert len(rejected) == len(TAMPERED)
    assert any(str(klass.submitted / "mallory-score.json") in line for line in rejected)
    assert lines[-1].startswith(f"gtcheck grade: {len(NAMES) + len(TAMPERED)} participants, ")


def test_a_class_where_everyone_passed_exits_0(klass: Class, tmp_path: Path, capsys) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(klass.submitted / "ana.json", folder / "ana.json")
    graded = run_grade(folder, tmp_path / "out", capsys)
    assert graded.code == 0
    assert [r["source"] for r in graded.document["participants"]] == ["self-reported"]


def test_the_gradebook_is_never_written_over_a_submission(tmp_path: Path, capsys) -> None:
    """A participant called `gradebook` sent gradebook.json into the output folder."""
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "gradebook.json").write_text('{"schema": "gtcheck.report/1"}')
    code = main(["grade", "--collect", str(folder), "--report-dir", str(folder)])
    assert code == 2
    assert "--report-dir" in capsys.readouterr().err
    assert (folder / "gradebook.json").read_text() == '{"schema": "gtcheck.report/1"}'


def test_collecting_the_output_folder_again_skips_the_gradebook_itself(
    klass: Class, tmp_path: Path, capsys
) -> None:
    folder = tmp_path / "reports"
    shutil.copytree(klass.submitted, folder)
    first = run_grade(folder, folder, capsys).document
    second = run_grade(folder, folder, capsys).document
    assert len(second["participants"]) == len(first["participants"])


# ----- hostile names --------------------------------------------------------------------------
def test_csv_shows_every_name_and_runs_no_formula(graded: Graded) -> None:
    text = (graded.folder / "gradebook.csv").read_text(encoding="utf-8")
    table = list(csv.reader(io.StringIO(text, newline="")))
    names = [row[0] for row in table[1:]]
    assert "'" + FORMULA_NAME in names
    assert SPACED_NAME in names
    assert HOSTILE_NAME in names  # starts with `"`: no formula, shown as typed
    for row in table:
        for cell in row:
            assert not cell.startswith(gradebook_render.FORMULA_STARTS), (row, cell)
    assert len(table[0]) == 5 + len(graded.document["rubric"])


def test_html_shows_names_as_typed_and_no_payload_as_markup(graded: Graded) -> None:
    html = graded.html_path.read_text(encoding="utf-8")
    assert HOSTILE_NAME not in html
    assert "<svg onload" not in html
    dom = parse(html)
    (body,) = dom.by_id("gb-matrix").find_all("tbody")
    names = {row.find_all("th")[0].text() for row in body.find_all("tr")}
    assert {HOSTILE_NAME, FORMULA_NAME, SPACED_NAME, HOSTILE_FILE[:-5]} <= names
    assert len(dom.find_all("svg")) == 1
    assert not dom.find_all("img")


# ----- in a real browser ----------------------------------------------------------------------
@pytest.mark.browser
@browser.needs_chromium
def test_gradebook_page_runs_no_participant_data_in_chromium(graded: Graded) -> None:
    """In Chromium, the page's own script ran (under its CSP) and nothing else did."""
    outcome = browser.dump_dom(graded.html_path)
    dom = parse(outcome.stdout)
    assert dom.by_id("gb-matrix").attrs.get("data-sortable") == "ready"
    for node in dom.iter():
        assert "data-pwned" not in node.attrs, node.tag
        for name, value in node.attrs.items():
            assert not (name.startswith("on") and "pwned" in value), (node.tag, name)
            if name in ("href", "src", "action", "xlink:href"):
                assert not value.strip().lower().startswith("javascript:"), (node.tag, name)
    assert not dom.find_all("img")
    assert len(dom.find_all("svg")) == 1
    shown = dom.by_id("gb-matrix").text(shown_only=True)
    for name in (HOSTILE_NAME, FORMULA_NAME, SPACED_NAME, HOSTILE_FILE[:-5]):
        assert name in shown, name
    assert not outcome.page_errors(graded.html_path)


def clicked(page: Path, out: Path, *buttons: str) -> Any:
    """`page` in Chromium after its sort buttons were clicked (the copy lacks the CSP,
    which would refuse the clicking script; the page's own script is unchanged)."""
    html = page.read_text(encoding="utf-8")
    start = html.index('<meta http-equiv="Content-Security-Policy"')
    html = html[:start] + html[html.index(">", start) + 1 :]
    clicks = "".join(
        f"document.querySelector('button[data-sort=\"{b}\"]').click();" for b in buttons
    )
    out.write_text(html.replace("</body>", f"<script>{clicks}</script></body>"), "utf-8")
    dom = parse(browser.dump_dom(out).stdout)
    (body,) = dom.by_id("gb-matrix").find_all("tbody")
    sorts = {
        th.find_all("button")[0].attrs["data-sort"]: th.attrs["aria-sort"]
        for th in dom.by_id("gb-matrix").find_all("th")
        if "aria-sort" in th.attrs
    }
    rows = [(r.find_all("th")[0].text(), int(r.attrs["data-score"])) for r in body.find_all("tr")]
    return rows, sorts


@pytest.mark.browser
@browser.needs_chromium
def test_sort_buttons_sort_by_score_and_by_name(graded: Graded, tmp_path: Path) -> None:
    names_in_order = [row["participant"] for row in graded.document["participants"]]
    rows, sorts = clicked(graded.html_path, tmp_path / "score.html", "score")
    assert sorts == {"name": "none", "score": "descending"}
    assert [score for _name, score in rows] == sorted((s for _n, s in rows), reverse=True)
    assert rows[0][0] == "ana"
    rows, sorts = clicked(graded.html_path, tmp_path / "name.html", "name")
    assert sorts == {"name": "descending", "score": "none"}
    assert [name for name, _score in rows] == names_in_order[::-1]
    rows, sorts = clicked(graded.html_path, tmp_path / "back.html", "score", "name")
    assert sorts == {"name": "ascending", "score": "none"}
    assert [name for name, _score in rows] == names_in_order


# ----- repeatable -------------------------------------------------------------------------------
def test_grading_twice_with_a_frozen_clock_gives_identical_files(
    klass: Class, tmp_path: Path
) -> None:
    with freeze_time(FROZEN, tick=False):
        first = main(["grade", "--collect", str(klass.submitted), "--report-dir",
                      str(tmp_path / "first")])  # fmt: skip
        second = main(["grade", "--collect", str(klass.submitted), "--report-dir",
                       str(tmp_path / "second")])  # fmt: skip
    assert first == second == 1
    for name in ("gradebook.json", "gradebook.csv", "gradebook.html"):
        one = (tmp_path / "first" / name).read_bytes()
        assert one == (tmp_path / "second" / name).read_bytes(), name
    document = json.loads((tmp_path / "first" / "gradebook.json").read_text(encoding="utf-8"))
    assert document["started_at"] == "2026-11-26T15:00:00+00:00"
    assert document["duration_s"] == 0.0


# ----- in Vietnamese --------------------------------------------------------------------------
def test_gradebook_in_vietnamese(klass: Class, tmp_path: Path, capsys) -> None:
    graded = run_grade(klass.submitted, tmp_path, capsys, "--lang", "vi")
    dom = parse(graded.html_path.read_text(encoding="utf-8"))
    assert dom.find_all("html")[0].attrs["lang"] == "vi"
    assert dom.find_all("h1")[0].text() == "Bảng điểm của lớp"
    assert graded.document["lang"] == "vi"
    assert graded.rows()["ana-again.json"]["reason"] == (
        "người tham gia ana đã có báo cáo trong ana.json"
    )


# ----- bad input --------------------------------------------------------------------------------
@pytest.mark.parametrize("case", ["missing", "a file", "empty", "no json"])
def test_a_folder_without_reports_is_one_line_and_exit_2(case: str, tmp_path: Path, capsys) -> None:
    folder = tmp_path / "submitted"
    if case == "a file":
        folder.write_text("{}")
    elif case != "missing":
        folder.mkdir()
    if case == "no json":
        (folder / "ana.html").write_text("<p>")
        (folder / ".ana.json").write_text("{}")
    code = main(["grade", "--collect", str(folder), "--report-dir", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith(f"gtcheck grade: error: --collect {folder}: ")
    assert not (tmp_path / "out").exists()


def test_grade_needs_a_source(capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["grade"])
    assert exited.value.code == 2
    assert "--collect" in capsys.readouterr().err


@pytest.mark.browser
def test_gradebook_page_has_no_serious_accessibility_violation(graded: Graded) -> None:
    """axe-core's WCAG 2.1 AA rules in Chromium, where the axe harness is installed."""
    accessibility = pytest.importorskip(
        "tests.accessibility", reason="the axe-core harness (tests/accessibility.py) is absent"
    )
    found = accessibility.violations(graded.html_path)
    serious = [v for v in found if v.impact in accessibility.SERIOUS]
    assert not serious, [v.summary() for v in serious]
