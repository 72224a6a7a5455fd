"""The participant report under axe-core's WCAG 2.1 AA rules, as a new user would try it.

Everything gtcheck writes into the page (the elements with a `gt-` class or id: header,
score bars, environment panel, latency charts, its result-table cells, evidence) must
have no serious or critical violation. What is left belongs to pytest-html's template and
is listed in TEMPLATE_LEFT; see there why a hook cannot reach it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gtcheck import html_report, html_style
from gtcheck.rubric import Status
from tests import accessibility, browser
from tests.test_report import Graded, graded, make_sim, solve_bea_with_mistakes

# gtcheck's own elements: its fragments and cells carry gt-* classes or ids.
GTCHECK = '[class^="gt-"], [class*=" gt-"], [id^="gt-"], [id^="gtcheck-"]'

# Serious or critical violations that stay in pytest-html's own template, by axe rule id.
TEMPLATE_LEFT: set[str] = set()  # none: the Environment table holds gtcheck's plain facts
# Fixed from gtcheck's fragments although they are the template's: `lang` on <html> and
# labels on the result filters (a script), its grey text and result words (CSS).
FIXED_IN_TEMPLATE = {"html-has-lang", "label", "color-contrast"}


def solved_with_mistakes(report_dir: Path) -> Graded:
    """`bea` solved with three mistakes, then replication stopped and her profile changed in
    eu-west-1: failed steps with evidence, passed ones, and CloudWatch latency charts."""
    sim = make_sim(start_offset=-60)  # writes a minute ago: inside CloudWatch's window
    solve_bea_with_mistakes(sim)
    return graded(sim, "bea", report_dir, timeout=5)


def serious(found: list[accessibility.Violation]) -> list[accessibility.Violation]:
    return [v for v in found if v.impact in accessibility.SERIOUS]


@pytest.mark.browser
@accessibility.needs_axe
def test_gtcheck_parts_of_a_participant_report_pass_axe(tmp_path: Path) -> None:
    """No serious or critical WCAG 2.1 AA violation inside gtcheck's fragments of a report
    with failures, evidence and latency charts; what remains is TEMPLATE_LEFT's."""
    report = solved_with_mistakes(tmp_path)
    statuses = {step["status"] for step in report.report["steps"]}
    assert {"passed", "failed"} <= statuses
    latency = report.step("mon.replication_latency")["evidence"]
    assert any(isinstance(v, dict) and "average_ms" in v for v in latency.values())
    page = report.html
    for part in ('id="gtcheck-summary"', 'id="gt-environment"', 'class="gt-latency"'):
        assert part in page, part

    found = accessibility.violations(report.html_path, mark=GTCHECK)
    ours = [
        f"{v.id}: {n.target} {n.html[:160]}"
        for v in serious(found)
        for n in v.nodes
        if n.marked
    ]
    assert not ours, "\n".join(ours)
    left = {v.id for v in serious(found)}
    assert left <= TEMPLATE_LEFT, "\n".join(v.summary() for v in serious(found))
    assert not left & FIXED_IN_TEMPLATE


@pytest.mark.browser
@accessibility.needs_axe
def test_evidence_is_rendered_where_axe_looks(tmp_path: Path) -> None:
    """Not vacuous: after pytest-html's script ran, the evidence is in the DOM axe reads, so
    a violation there would be seen (grey text put into the first evidence block, here)."""
    report = solved_with_mistakes(tmp_path)
    html = report.html_path.read_text(encoding="utf-8")
    evidence = "class=\\&#34;gt-evidence\\&#34;"  # inside pytest-html's JSON attribute
    grey = evidence + " style=\\&#34;color:#bbbbbb\\&#34;"
    assert evidence in html, "no evidence in the report's data"
    page = tmp_path / "grey.html"
    page.write_text(html.replace(evidence, grey, 1), encoding="utf-8")
    found = accessibility.violations(page, mark=".gt-evidence")
    assert [v.id for v in found if any(n.marked for n in v.nodes)] == ["color-contrast"]


@pytest.mark.browser
@accessibility.needs_axe
def test_harness_reports_violations_and_marks_nodes(tmp_path: Path) -> None:
    """The harness can fail: a page without lang, an unlabelled input and grey text inside
    `mark` are reported with impact, help and selectors."""
    page = tmp_path / "bad.html"
    page.write_text(
        "<!DOCTYPE html><html><head><title>t</title></head><body><main>"
        '<input type="text"><p class="gt-x" style="color:#aaa">grey</p></main></body></html>',
        encoding="utf-8",
    )
    found = {v.id: v for v in accessibility.violations(page, mark=".gt-x")}
    assert {"html-has-lang", "label", "color-contrast"} <= set(found)
    assert found["label"].impact == "critical"
    assert found["label"].targets == ("input",)
    assert found["label"].help
    assert [n.marked for n in found["color-contrast"].nodes] == [True]
    assert [n.marked for n in found["label"].nodes] == [False]
    assert accessibility.counts(list(found.values()))["critical"] >= 1


def test_gtcheck_colours_are_legible() -> None:
    """Every text colour gtcheck draws is at least 4.5:1 on its background (WCAG 1.4.3)."""
    assert round(html_style.contrast("#000000", "#ffffff"), 2) == 21.0
    assert round(html_style.contrast("#999999", "#ffffff"), 2) == 2.85  # pytest-html's grey
    for foreground, background in html_style.PAIRS:
        ratio = html_style.contrast(foreground, background)
        assert ratio >= 4.5, (foreground, background, ratio)


def test_a_status_is_never_told_by_colour_alone() -> None:
    """Each status cell shows an icon and the word beside the colour its class gives."""
    for status in Status:
        cell = html_report.status_cell(status.value)
        assert html_style.STATUS_ICONS[status] in cell
        assert f"</span> {status.value}</td>" in cell
        assert f"gt-status-{status.value}" in cell
    assert "\u2260" in html_style.STYLE  # a differing evidence cell is marked, not only red


def test_the_page_language_follows_the_run(tmp_path: Path) -> None:
    """The script that sets <html lang> says the run's language."""
    for lang in ("en", "vi"):
        result = graded(make_sim(), "lan", tmp_path / lang, timeout=1, lang=lang)
        assert f'document.documentElement.lang = "{lang}";' in result.html


@pytest.mark.browser
@browser.needs_chromium
def test_the_page_language_is_set_in_a_browser(tmp_path: Path) -> None:
    """After the page's scripts ran, <html> carries the run's language."""
    result = graded(make_sim(), "lan", tmp_path, timeout=1, lang="vi")
    assert '<html lang="vi">' in browser.dump_dom(result.html_path).stdout
