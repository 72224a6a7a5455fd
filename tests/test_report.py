"""The graded HTML report: its content, its evidence, its safety, its size and its outputs.

Reports are produced by real check runs (in process against the simulator with injected
time, or as subprocesses over HTTP) and read back: the data pytest-html embeds is parsed
rather than matched with regexes, and the browser tests load the file in headless Chromium
because pytest-html renders the result rows client-side from that data.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from gtcheck import templates
from gtcheck.aws import Clients, Target
from gtcheck.bot import solve
from gtcheck.report import MAX_FILE_STEM, SAFE_NAME, report_path, safe_stem
from gtcheck.sim import ManualClock, SimConfig, Simulator
from gtcheck.templates import Placeholders
from tests import browser
from tests.grading import grade, placeholders, put, update, write_workshop

ROOT = Path(__file__).resolve().parents[1]
REGIONS = ["us-east-1", "eu-west-1"]
STEP_IDS = (
    "env.table", "env.replicas", "env.indexes", "env.streams",
    "ex1.user_created", "ex1.user_replicated", "ex2.product_created",
    "ex2.product_replicated", "ex3.order_created", "ex3.order_updated",
    "ex3.order_converged", "ex3.lww_coherent", "ex4.gsi1_category", "ex4.gsi2_status",
    "ex5.timing_item", "mon.replication_latency",
)  # fmt: skip
MAX_REPORT_BYTES = 2 * 1024 * 1024


# ----- reading HTML -----------------------------------------------------------------------
VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
     "track", "wbr"}
)  # fmt: skip
NOT_SHOWN = frozenset({"script", "style", "template", "title"})


@dataclass(eq=False)
class Node:
    """An element of a parsed page (enough of a DOM for assertions)."""

    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[Node | str] = field(default_factory=list)

    def iter(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.iter()

    def find_all(self, tag: str | None = None, cls: str | None = None) -> list[Node]:
        return [
            node
            for node in self.iter()
            if node is not self
            and (tag is None or node.tag == tag)
            and (cls is None or cls in node.classes())
        ]

    def by_id(self, element_id: str) -> Node:
        found = [node for node in self.iter() if node.attrs.get("id") == element_id]
        assert len(found) == 1, f"{len(found)} elements with id {element_id!r}"
        return found[0]

    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def text(self, *, shown_only: bool = False) -> str:
        """The text inside, as a reader sees it (with `shown_only`, not scripts' source)."""
        parts = []
        for child in self.children:
            if isinstance(child, str):
                parts.append(child)
            elif not (shown_only and child.tag in NOT_SHOWN):
                parts.append(child.text(shown_only=shown_only))
        return "".join(parts)

    def cells(self) -> list[Node]:
        return [c for c in self.children if isinstance(c, Node) and c.tag in ("td", "th")]


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document")
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {name: value or "" for name, value in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, {name: value or "" for name, value in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(html: str) -> Node:
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


@dataclass(frozen=True)
class Row:
    """One result row as pytest-html embeds it for its script to render."""

    test_id: str
    result: str
    cells: dict[str, Node]  # by column class: col-step, col-status, ...
    extras: list[str]  # HTML extras (the evidence)
    log: str

    def evidence(self) -> Node:
        found = [
            node
            for extra in self.extras
            for node in parse(extra).find_all("div", cls="gt-evidence")
        ]
        assert len(found) == 1, f"{self.test_id}: {len(found)} evidence blocks"
        return found[0]


def embedded_data(page: Node) -> dict[str, Any]:
    """The JSON pytest-html embeds in `#data-container` (its rows, title and settings)."""
    return json.loads(page.by_id("data-container").attrs["data-jsonblob"])


def rows_by_step(data: dict[str, Any]) -> dict[str, Row]:
    rows: dict[str, Row] = {}
    for test_id, runs in data["tests"].items():
        assert len(runs) == 1, test_id
        run = runs[0]
        cells = {}
        for cell in parse("".join(run["resultsTableRow"])).find_all("td"):
            (column,) = [c for c in cell.classes() if c.startswith("col-")]
            cells[column] = cell
        step_id = cells["col-step"].text()
        assert step_id not in rows, step_id
        html_extras = [e["content"] for e in run["extras"] if e["format_type"] == "html"]
        rows[step_id] = Row(test_id, run["result"], cells, html_extras, run.get("log", ""))
    return rows


def copies_table(evidence: Node, regions: list[str]) -> dict[str, dict[str, Node]]:
    """Expected-vs-each-region table: {attribute: {region: its cell}}."""
    for table in evidence.find_all("table"):
        head, *body = table.find_all("tr")
        titles = [cell.text() for cell in head.cells()]
        if len(titles) == len(regions) + 2 and titles[2:] == regions:
            return {
                row.cells()[0].text(): dict(zip(regions, row.cells()[2:], strict=True))
                for row in body
            }
    raise AssertionError("no expected-vs-regions table in the evidence")


def region_states(evidence: Node, regions: list[str]) -> dict[str, list[str]]:
    """Per-region replication state table: {region: [its cells' text]}."""
    for table in evidence.find_all("table"):
        _head, *body = table.find_all("tr")
        found = {row.cells()[0].text(): [c.text() for c in row.cells()[1:]] for row in body}
        if body and set(found) == set(regions):
            return found
    raise AssertionError("no per-region state table in the evidence")


def marked(
    table: dict[str, dict[str, Node]], region: str | None = None, css: str = "gt-diff"
) -> set[str]:
    """Attributes whose cell carries `css`: in `region`, or else in every region."""
    return {
        name
        for name, cells in table.items()
        if all(css in cells[r].classes() for r in ([region] if region else cells))
    }


def marked_anywhere(table: dict[str, dict[str, Node]], css: str = "gt-diff") -> set[str]:
    return {
        name for name, cells in table.items() if any(css in c.classes() for c in cells.values())
    }


# ----- producing reports --------------------------------------------------------------------
@dataclass(frozen=True)
class Graded:
    code: int
    report: dict[str, Any]
    html_path: Path

    @property
    def html(self) -> str:
        return self.html_path.read_text(encoding="utf-8")

    @property
    def page(self) -> Node:
        return parse(self.html)

    def step(self, step_id: str) -> dict[str, Any]:
        return next(s for s in self.report["steps"] if s["id"] == step_id)


def make_sim(start_offset: float = 0.0) -> Simulator:
    """Two regions, 1 s lag, no jitter. The clock starts on a whole second near now, so
    CloudWatch windows fit and the streams' second-rounded timestamps are the same every
    run."""
    start = float(int(time.time())) + start_offset
    return Simulator(SimConfig(lag=1.0, jitter=0.0), clock=ManualClock(start=start))


def graded(sim: Simulator, participant: str, report_dir: Path, **options: Any) -> Graded:
    code, report = grade(sim, participant, report_dir, **options)
    return Graded(code, report, report_path(report_dir, participant, ".html"))


@pytest.fixture(scope="module")
def offline_aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """tests/conftest.py's no-real-AWS environment, for reports shared by a module."""
    home = tmp_path_factory.mktemp("aws-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_CONFIG_FILE", str(home / "config"))
        patch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "credentials"))
        patch.setenv("AWS_ACCESS_KEY_ID", "test")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "test")
        patch.delenv("AWS_SESSION_TOKEN", raising=False)
        patch.delenv("AWS_PROFILE", raising=False)
        patch.delenv("AWS_ENDPOINT_URL", raising=False)
        patch.setenv("AWS_EC2_METADATA_DISABLED", "true")
        patch.setenv("LANGUAGE", "en")
        yield


@pytest.fixture(scope="module")
def complete(offline_aws: None, tmp_path_factory: pytest.TempPathFactory) -> Graded:
    """`ana` did every step as the page says."""
    sim = make_sim()
    write_workshop(sim, "ana")
    return graded(sim, "ana", tmp_path_factory.mktemp("complete"))


def solve_bea_with_mistakes(sim: Simulator) -> None:
    """`bea` solved with three mistakes, then replication stopped both ways and her profile
    changed in eu-west-1: failed steps with evidence beside passed ones."""
    target = Target(table=sim.config.table, regions=sim.config.regions)
    solve(
        Clients(target, sim.session(), read_only=False),
        target,
        Placeholders(participant="bea", product_id="bea"),
        mistakes=frozenset({"price-as-string", "wrong-region", "missing-gsi-keys"}),
        sleep=sim.advance,
        monotonic=sim.clock.now,
        now=sim.clock.now,
    )
    sim.pause("us-east-1", "eu-west-1")
    sim.pause("eu-west-1", "us-east-1")
    update(sim, "eu-west-1", {"PK": "USER#global-user-bea", "SK": "PROFILE"}, {"name": "Bo"})


@pytest.fixture(scope="module")
def with_failures(offline_aws: None, tmp_path_factory: pytest.TempPathFactory) -> Graded:
    """`bea` solved with three mistakes; then, with replication stopped both ways, her
    profile changed in eu-west-1 and her product vanished from us-east-1."""
    sim = make_sim()
    solve_bea_with_mistakes(sim)
    sim.client("dynamodb", "us-east-1").delete_item(
        TableName=sim.config.table,
        Key=templates.to_attributes({"PK": "PRODUCT#eu-product-bea", "SK": "DETAILS"}),
    )
    return graded(sim, "bea", tmp_path_factory.mktemp("failures"), timeout=5)


# ----- 1. a complete participant --------------------------------------------------------------
def test_complete_report_shows_full_marks_and_every_step(complete: Graded) -> None:
    """100 / 100 in the header, one passed row per rubric step (16, by id), no evidence."""
    assert (complete.code, complete.report["score"]) == (0, 100)
    page = complete.page
    assert page.by_id("gt-score").text() == "100 / 100"
    assert page.by_id("gt-participant").text() == "ana"
    bars = [node for node in page.iter() if node.attrs.get("role") == "progressbar"]
    assert len(bars) == 5
    assert {bar.attrs["aria-valuenow"] for bar in bars} == {"100"}
    data = embedded_data(page)
    assert data["title"] == "gtcheck: ana"
    rows = rows_by_step(data)
    assert sorted(rows) == sorted(STEP_IDS)
    for step_id, row in rows.items():
        assert row.result == "Passed", step_id
        assert "gt-status-passed" in row.cells["col-status"].classes(), step_id
        assert not row.extras, step_id
        spec = complete.step(step_id)
        assert row.cells["col-points"].text() == f"{spec['max_points']} / {spec['max_points']}"
    total = sum(int(row.cells["col-points"].text().split(" / ")[0]) for row in rows.values())
    assert total == 100
    environment = page.by_id("gt-environment")
    assert not environment.find_all(cls="gt-status-failed")
    assert not page.find_all(cls="gt-evidence")


# ----- 2. a participant with failures ---------------------------------------------------------
def test_failed_steps_carry_their_evidence(with_failures: Graded) -> None:
    """Each failed step's row has one evidence block with its hint; passed rows have none."""
    failed = {s["id"] for s in with_failures.report["steps"] if s["status"] == "failed"}
    assert failed == {
        "ex1.user_created", "ex1.user_replicated", "ex2.product_created",
        "ex2.product_replicated", "ex3.order_created", "ex4.gsi1_category",
        "ex4.gsi2_status",
    }  # fmt: skip
    rows = rows_by_step(embedded_data(with_failures.page))
    assert sorted(rows) == sorted(STEP_IDS)
    for step_id, row in rows.items():
        step = with_failures.step(step_id)
        if step_id in failed:
            assert row.result == "Failed", step_id
            assert "gt-status-failed" in row.cells["col-status"].classes(), step_id
            evidence = row.evidence()
            assert evidence.find_all("b")[0].text() == step["title"]
            assert step["hint"] in [p.text() for p in evidence.find_all("p")], step_id
            hint = row.cells["col-hint"]
            (cause,) = hint.find_all("small", cls="gt-cause")
            assert cause.text() == step["cause"], step_id
            assert hint.text() == step["hint"] + step["cause"], step_id
        else:
            assert row.result == "Passed", step_id
            assert not row.extras, step_id
            assert not row.cells["col-hint"].find_all("small", cls="gt-cause"), step_id


def test_evidence_marks_the_attributes_that_differ(with_failures: Graded) -> None:
    """Expected vs each region: exactly the wrong attributes' cells are `gt-diff`."""
    rows = rows_by_step(embedded_data(with_failures.page))
    product = copies_table(rows["ex2.product_created"].evidence(), REGIONS)
    assert marked(product, "eu-west-1") == marked_anywhere(product) == {"price", "stock"}
    assert product["price"]["eu-west-1"].text() == 'S "299"'
    assert marked(product, "us-east-1", "gt-missing") == set(product)  # deleted there
    order = copies_table(rows["ex3.order_created"].evidence(), REGIONS)
    assert marked(order) == marked_anywhere(order) == {"GSI2PK", "GSI2SK"}
    user = copies_table(rows["ex1.user_created"].evidence(), REGIONS)
    assert {"PK", "SK", "email", "name"} <= set(user)
    assert user["name"]["us-east-1"].text() == 'S "Bea Global"'


def test_replication_evidence_shows_each_regions_state(with_failures: Graded) -> None:
    """A replication step shows per region: identical, differs (and how), or missing."""
    rows = rows_by_step(embedded_data(with_failures.page))

    user = rows["ex1.user_replicated"].evidence()
    states = region_states(user, REGIONS)
    json_states = with_failures.step("ex1.user_replicated")["evidence"]["regions"]
    assert {r: cells[0] for r, cells in states.items()} == {
        "us-east-1": "identical",
        "eu-west-1": "differs",
    }
    assert states["eu-west-1"][1] == "; ".join(json_states["eu-west-1"]["differences"])
    assert "name" in states["eu-west-1"][1]
    copies = copies_table(user, REGIONS)
    assert marked(copies) == marked_anywhere(copies) == {"name"}
    assert copies["name"]["eu-west-1"].text() == 'S "Bo"'

    product = rows["ex2.product_replicated"].evidence()
    states = region_states(product, REGIONS)
    assert {r: cells[0] for r, cells in states.items()} == {
        "us-east-1": "missing",
        "eu-west-1": "identical",
    }
    copies = copies_table(product, REGIONS)
    assert "price" in copies
    assert marked(copies, "us-east-1", "gt-missing") == set(copies)
    assert not marked(copies, "eu-west-1", "gt-missing")
    assert not marked_anywhere(copies)


# ----- 3. hostile names and item contents -------------------------------------------------------
PWNED = "document.body.setAttribute('data-pwned','{}')"
HOSTILE_NAME = '"></title><img src=x onerror="' + PWNED.format(1) + '">'
SCRIPT = "<script>" + PWNED.format(2) + "</script>"
SVG = '"><svg onload="' + PWNED.format(3) + '">'
JS_URL = "javascript:" + PWNED.format(4)
HOSTILE_ATTRIBUTE = "<img src=x onerror=" + PWNED.format(5) + ">"
PAYLOADS = (HOSTILE_NAME, SCRIPT, SVG, JS_URL, HOSTILE_ATTRIBUTE)


@pytest.fixture(scope="module")
def hostile(offline_aws: None, tmp_path_factory: pytest.TempPathFactory) -> Graded:
    """A participant named with markup whose profile's values (and an attribute name) are
    markup, a `javascript:` URL among them; the profile fails, so its evidence is shown."""
    sim = make_sim()
    write_workshop(sim, HOSTILE_NAME)
    user = templates.render(templates.load(templates.USER), placeholders(HOSTILE_NAME))
    user["name"] = SCRIPT
    user["created_timestamp"] = SVG  # not a time: the step fails and shows its evidence
    user["homepage"] = JS_URL
    user[HOSTILE_ATTRIBUTE] = "x"
    put(sim, "us-east-1", user)
    sim.advance(2)
    result = graded(sim, HOSTILE_NAME, tmp_path_factory.mktemp("hostile"))
    assert result.step("ex1.user_created")["status"] == "failed"
    return result


def test_hostile_text_is_escaped_in_the_report_file(hostile: Graded) -> None:
    """No payload appears as markup in the file; the name is shown as typed in the header,
    the title and the embedded data."""
    html = hostile.html
    for payload in PAYLOADS:
        assert payload not in html
    page = hostile.page
    assert page.by_id("gt-participant").text() == HOSTILE_NAME
    assert page.by_id("head-title").text() == f"gtcheck: {HOSTILE_NAME}"
    assert embedded_data(page)["title"] == f"gtcheck: {HOSTILE_NAME}"
    evidence = rows_by_step(embedded_data(page))["ex1.user_created"].evidence()
    copies = copies_table(evidence, REGIONS)
    assert copies["name"]["us-east-1"].text() == f'S "{SCRIPT}"'
    assert copies["homepage"]["us-east-1"].text() == f'S "{JS_URL}"'
    assert HOSTILE_ATTRIBUTE in copies
    assert not [node for node in evidence.iter() if node.tag in ("script", "img", "svg", "a")]


@pytest.mark.browser
@browser.needs_chromium
def test_browser_harness_sees_an_injection(tmp_path: Path) -> None:
    """The DOM checks below can fail: a page that does run a payload is caught."""
    page = tmp_path / "vulnerable.html"
    page.write_text(f"<!DOCTYPE html><html><body><p>{HOSTILE_ATTRIBUTE}</p></body></html>")
    dom = parse(browser.dump_dom(page).stdout)
    (body,) = dom.find_all("body")
    assert body.attrs.get("data-pwned") == "5"


@pytest.mark.browser
@browser.needs_chromium
def test_hostile_payloads_stay_text_in_a_browser(hostile: Graded) -> None:
    """After pytest-html's script renders the rows in Chromium, no payload ran or became an
    element: no data-pwned, no injected script, handler or javascript: link; all is text."""
    outcome = browser.dump_dom(hostile.html_path)
    dom = parse(outcome.stdout)
    (body,) = dom.find_all("body")
    rendered = [node for node in body.find_all("tbody") if node.attrs.get("id")]
    assert len(rendered) == len(STEP_IDS), "the report's script did not render its rows"
    assert body.find_all("div", cls="gt-evidence"), "the evidence was not rendered"

    for node in dom.iter():
        assert "data-pwned" not in node.attrs, node.tag
        for name, value in node.attrs.items():
            assert not (name.startswith("on") and "pwned" in value), (node.tag, name)
            if name in ("href", "src", "action", "formaction", "xlink:href"):
                assert not value.strip().lower().startswith("javascript:"), (node.tag, name)
    scripts = [node.text() for node in dom.find_all("script")]
    assert not [source for source in scripts if "pwned" in source]
    assert all("gt-latency" in svg.classes() for svg in dom.find_all("svg"))
    assert not [img for img in dom.find_all("img") if img.attrs.get("src") == "x"]

    shown = body.text(shown_only=True)
    for payload in (SCRIPT, SVG, JS_URL, HOSTILE_ATTRIBUTE, HOSTILE_NAME):
        assert payload in shown, payload
    assert dom.by_id("gt-participant").text() == HOSTILE_NAME
    assert dom.by_id("head-title").text() == f"gtcheck: {HOSTILE_NAME}"
    assert not outcome.page_errors(hostile.html_path)


# ----- 4. participant names and file names ------------------------------------------------------
@pytest.mark.parametrize(
    "name",
    ["../x", "a/b", "..", ".hidden", "long-" + "n" * 150, "Zoë Ångström 🚀", "Ana.B-2_x"],
    ids=["parent", "slash", "dotdot", "hidden", "long", "unicode", "plain"],
)
def test_any_name_reports_inside_the_folder_shown_as_typed(name: str, tmp_path: Path) -> None:
    """Report files land in the report folder under a safe file name (the name itself when
    it is plainly safe); inside the JSON and the HTML the participant is shown as typed."""
    reports = tmp_path / "reports"
    result = graded(make_sim(), name, reports, timeout=1)
    assert [p.name for p in tmp_path.iterdir()] == ["reports"]
    written = sorted(reports.iterdir())
    assert [p.suffix for p in written] == [".html", ".json"]
    stem = written[0].stem
    assert written[1].stem == stem
    assert SAFE_NAME.match(stem), stem
    assert not stem.startswith(".")
    assert len(stem) <= MAX_FILE_STEM
    assert (stem == name) is (name == "Ana.B-2_x")
    assert result.html_path == written[0]
    assert result.report["participant"] == name
    assert json.loads(written[1].read_text(encoding="utf-8"))["participant"] == name
    page = result.page
    assert page.by_id("gt-participant").text() == name
    assert page.by_id("head-title").text() == f"gtcheck: {name}"
    assert embedded_data(page)["title"] == f"gtcheck: {name}"


def test_plain_names_keep_their_file_name_and_look_alikes_do_not_collide() -> None:
    """Letters, digits, `-`, `_` and `.` (not leading) stay as typed; names that clean up
    alike still get different files."""
    for plain in ("ana", "Ana.B-2_x", "x" * MAX_FILE_STEM, "a..b"):
        assert safe_stem(plain) == plain
    look_alikes = ["a/b", "a\\b", "a b", "a?b", "a_b", "a:b", "a*b", ".a_b", "ä_b"]
    stems = {safe_stem(name) for name in look_alikes}
    assert len(stems) == len(look_alikes)
    for name in ("x" * (MAX_FILE_STEM + 1), ".", "..", "...", "/", "\\", "é" * 100):
        stem = safe_stem(name)
        assert SAFE_NAME.match(stem), (name, stem)
        assert not stem.startswith("."), (name, stem)
        assert len(stem) <= MAX_FILE_STEM, name
        folder = Path("/reports")
        assert report_path(folder, name, ".html").parent == folder


# ----- 5 and 8. credentials, debug logs and --junitxml -------------------------------------------
MARKED_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "AKIAGTCHECKMARKER01",
    "AWS_SECRET_ACCESS_KEY": "secretGTCHECKmarker+/0123456789abcdefghijklmnopqrst",
    "AWS_SESSION_TOKEN": "tokenGTCHECKmarker//+=0123456789abcdefghijklmnopqrstuvwxyzABCDEF",
}


@dataclass(frozen=True)
class Outputs:
    """Everything two debug-logged runs left behind, by what it is."""

    texts: dict[str, str]
    check_code: int
    pytest_code: int
    junit: Path


@pytest.fixture(scope="module")
def debug_runs(offline_aws: None, tmp_path_factory: pytest.TempPathFactory) -> Outputs:
    """`cy` (a product price typed as a string) graded twice over HTTP with marked
    credentials and DEBUG logs: `gtcheck check`, and plain `pytest checks --junitxml`."""
    sim = make_sim(start_offset=-60)  # writes a minute ago: inside any CloudWatch window
    write_workshop(sim, "cy")
    product = templates.render(templates.load(templates.PRODUCT), placeholders("cy"))
    product["price"] = "299"
    put(sim, "eu-west-1", product)
    sim.advance(2)
    server = sim.serve("127.0.0.1", 0)
    base = tmp_path_factory.mktemp("debug-runs")
    env = {
        **os.environ,
        **MARKED_CREDENTIALS,
        "AWS_CONFIG_FILE": str(base / "aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(base / "aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "PYTEST_ADDOPTS": "--log-level=DEBUG --log-cli-level=DEBUG",
    }
    env.pop("AWS_PROFILE", None)
    env.pop("AWS_ENDPOINT_URL", None)
    try:
        check_dir, pytest_dir = base / "check", base / "pytest"
        check = subprocess.run(
            [sys.executable, "-m", "gtcheck", "check", "--participant", "cy",
             "--endpoint-url", server.endpoint, "--report-dir", str(check_dir),
             "--timeout", "20"],
            capture_output=True, text=True, timeout=120, cwd=ROOT, env=env,
        )  # fmt: skip
        junit = pytest_dir / "junit.xml"
        env["PYTEST_ADDOPTS"] = ""
        plain = subprocess.run(
            [sys.executable, "-m", "pytest", "checks", "--participant", "cy",
             "--endpoint-url", server.endpoint, "--replication-timeout", "20", "--log-level=DEBUG",
             f"--junitxml={junit}", "--report-dir", str(pytest_dir),
             "-p", "no:cacheprovider"],
            capture_output=True, text=True, timeout=120, cwd=ROOT, env=env,
        )  # fmt: skip
    finally:
        server.stop()
    texts = {
        "check stdout": check.stdout,
        "check stderr": check.stderr,
        "pytest stdout": plain.stdout,
        "pytest stderr": plain.stderr,
    }
    for folder in (check_dir, pytest_dir):
        for path in sorted(folder.iterdir()):
            texts[f"{folder.name}/{path.name}"] = path.read_text(encoding="utf-8")
    return Outputs(texts, check.returncode, plain.returncode, junit)


def test_no_credentials_in_any_output(debug_runs: Outputs) -> None:
    """With DEBUG logs captured, neither run prints or writes the access key, the secret or
    the session token (plain or URL-encoded) anywhere; the logs really were captured."""
    texts = debug_runs.texts
    written = {"check/cy.json", "check/cy.html", "pytest/cy.json", "pytest/cy.html"}
    assert written | {"pytest/junit.xml"} <= set(texts), texts["check stderr"][-3000:]
    assert (debug_runs.check_code, debug_runs.pytest_code) == (1, 1), texts["check stderr"]
    forms = {
        form
        for value in MARKED_CREDENTIALS.values()
        for form in (value, urllib.parse.quote(value, safe=""), urllib.parse.quote_plus(value))
    }
    for where, text in texts.items():
        for form in forms:
            assert form not in text, f"a credential leaked into {where}"
        assert "gtcheckmarker" not in text.lower(), f"part of a credential in {where}"
    # Not vacuous: botocore's debug lines, request headers included, were embedded in the
    # plain pytest run's HTML report, masked. (`gtcheck check` runs pytest as its own tool
    # and ignores PYTEST_ADDOPTS, so its report holds no debug lines to leak.)
    for report in ("pytest/cy.html",):
        logs = "\n".join(
            run["log"] for runs in embedded_data(parse(texts[report]))["tests"].values()
            for run in runs
        )  # fmt: skip
        assert "DEBUG" in logs, report
        assert "botocore" in logs, report
        assert "X-Amz-Security-Token" in logs, report
        assert "Credential=****/" in logs, report


def test_junitxml_has_one_testcase_per_step(debug_runs: Outputs) -> None:
    """`--junitxml` beside the grading plugin: one testcase per rubric step, and the steps
    that failed in the graded report are exactly the failing testcases."""
    report = json.loads(debug_runs.texts["pytest/cy.json"])
    rows = rows_by_step(embedded_data(parse(debug_runs.texts["pytest/cy.html"])))
    step_of = {row.test_id: step_id for step_id, row in rows.items()}
    cases = list(ET.parse(debug_runs.junit).getroot().iter("testcase"))
    steps = [
        step_of[case.get("classname", "").replace(".", "/") + ".py::" + case.get("name", "")]
        for case in cases
    ]
    assert sorted(steps) == sorted(STEP_IDS)  # each step once
    failing = {
        step_id
        for step_id, case in zip(steps, cases, strict=True)
        if case.find("failure") is not None or case.find("error") is not None
    }
    not_passed = {s["id"] for s in report["steps"] if s["status"] in ("failed", "error")}
    assert failing == not_passed == {"ex2.product_created"}


# ----- 6. a screenshot ---------------------------------------------------------------------------
@pytest.mark.browser
@browser.needs_chromium
def test_graded_report_renders_without_console_errors(
    with_failures: Graded, tmp_path: Path
) -> None:
    """Chromium renders the report with failures to a PNG, and the page logs no errors."""
    png = tmp_path / "report.png"
    outcome = browser.screenshot(with_failures.html_path, png)
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) > 10_000  # a blank page compresses to a few hundred bytes
    assert not outcome.page_errors(with_failures.html_path)
    assert not [m for m in outcome.console if "Uncaught" in m.text]


# ----- 7. size ----------------------------------------------------------------------------------
def test_complete_report_is_small(complete: Graded) -> None:
    """A complete participant's HTML report stays under 2 MB."""
    assert complete.html_path.stat().st_size < MAX_REPORT_BYTES


def test_huge_attribute_is_shortened_in_the_report(offline_aws: None, tmp_path: Path) -> None:
    """A 300 KB attribute value: the HTML stays under 2 MB and shows the value shortened."""
    sim = make_sim()
    write_workshop(sim, "dee")
    user = templates.render(templates.load(templates.USER), placeholders("dee"))
    user["created_timestamp"] = "T" + "z" * 300_000
    put(sim, "us-east-1", user)
    sim.advance(2)
    result = graded(sim, "dee", tmp_path)
    assert result.step("ex1.user_created")["status"] == "failed"
    assert result.html_path.stat().st_size < MAX_REPORT_BYTES
    evidence = rows_by_step(embedded_data(result.page))["ex1.user_created"].evidence()
    shown = copies_table(evidence, REGIONS)["created_timestamp"]["us-east-1"].text()
    assert shown.startswith('S "Tzzz')
    assert len(shown) < 1_000
    assert "z" * 10_000 not in result.html
