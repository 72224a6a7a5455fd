"""The gradebook's CSV and page, from hand-built documents: neutralised cells, escaped
markup, statuses told by symbol and text as well as colour, accessible structure."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest

from gtcheck import gradebook, gradebook_render
from gtcheck.gradebook import Rejection
from tests.test_gradebook import SPECS, report, step_of
from tests.test_report import parse

PWNED = "document.body.setAttribute('data-pwned','{}')"
HOSTILE_NAMES = (
    '"><img src=x onerror="' + PWNED.format(1) + '">',
    "<script>" + PWNED.format(2) + "</script>",
    '=HYPERLINK("http://x.invalid","click")',
    "+1+2",
    "-2+3",
    "@SUM(A1)",
    "\tname",
    "\rname",
    "ana smith #1",
    "Nguyễn Thị Ánh",
)


def document(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return gradebook.document(
        rows, SPECS, table="demo-ecommerce-freetier", regions=["us-east-1", "eu-west-1"],
        started_at="2026-11-26T15:00:00+00:00", duration_s=0.0, lang="en",
    )  # fmt: skip


@pytest.fixture
def hostile_document() -> dict[str, Any]:
    rows = []
    for number, name in enumerate(HOSTILE_NAMES):
        data = report(name, ex2_product_created="failed")
        step_of(data, "ex2.product_created")["cause"] = f"<b>cause{number}</b>"
        rows.append(
            gradebook.participant_row(data, SPECS, source="self-reported", link=f"p{number}.json")
        )
    rejection = Rejection("duplicate", {"name": HOSTILE_NAMES[1], "file": HOSTILE_NAMES[0]})
    rows.append(gradebook.rejected_row(HOSTILE_NAMES[1], rejection, SPECS, link="javascript:x"))
    return document(rows)


# ----- CSV ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("cell", "shown"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@A1", "'@A1"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("ana", "ana"),
        ("a=1", "a=1"),
        ("", ""),
        ("'=1", "'=1"),
    ],
)
def test_neutralise(cell: str, shown: str) -> None:
    assert gradebook_render.neutralise(cell) == shown


def test_csv_has_the_contract_columns_and_each_steps_points() -> None:
    data = report("ana", ex1_user_created="failed")
    rows = [gradebook.participant_row(data, SPECS, source="graded", link="ana.json")]
    rows.append(gradebook.rejected_row("bob", Rejection("missing-step", {"step": "x"}), SPECS,
                                       link="bob.json"))  # fmt: skip
    table = list(csv.reader(io.StringIO(gradebook_render.csv_text(document(rows)), newline="")))
    assert table[0] == [
        "participant", "source", "score", "max_score", "percent",
        "env.table", "ex1.user_created", "ex2.product_created", "mon.replication_latency",
    ]  # fmt: skip
    assert table[1] == ["ana", "graded", "10", "20", "50.0", "0", "0", "10", "0"]
    assert table[2] == ["bob", "rejected", "0", "20", "0.0", "", "", "", ""]


def test_csv_shows_hostile_names_as_text(hostile_document: dict[str, Any]) -> None:
    """Every name is in the CSV as typed, behind a quote when a spreadsheet would run it."""
    text = gradebook_render.csv_text(hostile_document)
    names = [row[0] for row in csv.reader(io.StringIO(text, newline=""))][1:]
    assert sorted(names) == sorted(
        gradebook_render.neutralise(name) for name in (*HOSTILE_NAMES, HOSTILE_NAMES[1])
    )
    for name in names:
        assert not name.startswith(gradebook_render.FORMULA_STARTS), repr(name)
    assert '\'=HYPERLINK("http://x.invalid","click")' in names
    assert "Nguyễn Thị Ánh" in names
    assert "ana smith #1" in names


# ----- the page -------------------------------------------------------------------------------
def test_step_summary_reads_as_the_instructor_says_it() -> None:
    tally = {"passed": 3, "failed": 7, "skipped": 0, "error": 1,
             "causes": {"number-as-string": 5, "wrong-region": 2, "environment": 1}}  # fmt: skip
    assert gradebook_render.step_summary("ex2.product_created", tally) == (
        "ex2.product_created: 7 failed, 1 error, 5 number-as-string, 2 wrong-region, 1 environment"
    )


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("ana.json", "./ana.json"),
        ("../in/ana smith.json", "../in/ana%20smith.json"),
        ("javascript:alert(1).json", "./javascript%3Aalert%281%29.json"),
        ("#x.json", "./%23x.json"),
    ],
)
def test_links_are_relative_and_encoded(link: str, expected: str) -> None:
    assert gradebook_render.href(link) == expected


def test_page_escapes_every_hostile_value(hostile_document: dict[str, Any]) -> None:
    """Names, causes and reasons are text: no element, handler or link comes from them."""
    html = gradebook_render.page(hostile_document)
    for name in HOSTILE_NAMES[:2]:
        assert name not in html
    assert "<b>cause" not in html
    dom = parse(html)
    assert not [img for img in dom.find_all("img")]
    assert len(dom.find_all("script")) == 1
    names = [row.find_all("th")[0].text() for row in matrix_rows(dom)]
    assert sorted(names) == sorted((*HOSTILE_NAMES, HOSTILE_NAMES[1]))
    for link in dom.find_all("a"):
        assert link.attrs["href"].startswith(("./", "../")), link.attrs["href"]
    rejected = [row for row in matrix_rows(dom) if row.find_all("td", cls="gb-rejected")]
    assert rejected[0].find_all("td", cls="gb-rejected")[0].text() == (
        f"⊘rejected: participant {HOSTILE_NAMES[1]} is already reported by {HOSTILE_NAMES[0]}"
    )
    explain = dom.by_id("gb-explain").text()
    assert "ex2.product_created: 10 failed, 1 <b>cause0</b>" in explain


def matrix_rows(dom: Any) -> list[Any]:
    (body,) = dom.by_id("gb-matrix").find_all("tbody")
    return body.find_all("tr")


def test_page_is_self_contained_and_only_its_own_script_may_run(
    hostile_document: dict[str, Any],
) -> None:
    """No fetch of anything; the CSP allows exactly the page's script, by its hash."""
    html = gradebook_render.page(hostile_document)
    dom = parse(html)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert not dom.find_all("link")
    (meta,) = [m for m in dom.find_all("meta") if m.attrs.get("http-equiv")]
    policy = meta.attrs["content"]
    assert "default-src 'none'" in policy
    assert f"script-src {gradebook_render.script_hash()}" in policy
    (script,) = dom.find_all("script")
    assert script.text() == gradebook_render.SCRIPT


def test_statuses_carry_a_symbol_and_words_not_only_colour(
    hostile_document: dict[str, Any],
) -> None:
    dom = parse(gradebook_render.page(hostile_document))
    cells = dom.by_id("gb-matrix").find_all("td", cls="gb-cell")
    assert cells
    for cell in cells:
        (status,) = [c[3:] for c in cell.classes() if c in {"gb-passed", "gb-failed",
                                                             "gb-skipped", "gb-error"}]  # fmt: skip
        (symbol,) = cell.find_all("span", cls="gb-sym")
        assert symbol.text() == gradebook_render.SYMBOLS[status]
        assert symbol.attrs["aria-hidden"] == "true"
        (words,) = cell.find_all("span", cls="gb-sr")
        assert status in words.text()
    legend = dom.by_id("gb-legend").text()
    for status, symbol in gradebook_render.SYMBOLS.items():
        assert f"{symbol}{status}" in legend


def test_page_structure_for_assistive_technology(hostile_document: dict[str, Any]) -> None:
    """lang, a title, headers with scope, sort buttons with aria-sort, a labelled chart."""
    dom = parse(gradebook_render.page(hostile_document))
    (html,) = dom.find_all("html")
    assert html.attrs["lang"] == "en"
    assert dom.find_all("title")[0].text() == "gtcheck: Class gradebook"
    for table_id in ("gb-matrix", "gb-steps"):
        table = dom.by_id(table_id)
        for th in table.find_all("th"):
            assert th.attrs.get("scope") in ("col", "row"), th.text()
    sortable = [th for th in dom.by_id("gb-matrix").find_all("th") if "aria-sort" in th.attrs]
    assert [(th.text(), th.attrs["aria-sort"]) for th in sortable] == [
        ("Participant", "ascending"),
        ("Score", "none"),
    ]
    for th in sortable:
        (button,) = th.find_all("button")
        assert button.attrs["type"] == "button"
    (svg,) = dom.find_all("svg")
    assert svg.attrs["role"] == "img"
    assert svg.attrs["aria-label"].startswith("Score distribution")
    assert dom.by_id("gb-matrix").find_all("caption")


def test_histogram_counts_accepted_scores_per_tenth() -> None:
    rows = []
    for name, failed in (("a", {}), ("b", {}), ("c", {"ex1_user_created": "failed"})):
        rows.append(gradebook.participant_row(report(name, **failed), SPECS, source="graded",
                                              link=f"{name}.json"))  # fmt: skip
    rows.append(gradebook.rejected_row("d", Rejection("missing-step", {"step": "x"}), SPECS,
                                       link="d.json"))  # fmt: skip
    dom = parse(gradebook_render.page(document(rows)))
    label = dom.by_id("gb-histogram").attrs["aria-label"]
    for band in ("50-59 %: 1", "100 %: 2", "0-9 %: 0"):
        assert band in label
