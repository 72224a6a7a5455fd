"""A participant's report as one self-contained page, for runs that grade a class.

pytest-html writes one page per run, so a single check's N.html is pytest-html's; in a
class run each participant's N.html is this page, built from the same fragments (header,
environment panel, latency chart, a row per step, evidence for what did not pass) and
escaped the same way. No script, nothing fetched.
"""

from __future__ import annotations

from typing import Any

from gtcheck import html_report, i18n
from gtcheck.html_report import text
from gtcheck.i18n import _

PAGE_STYLE = """
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:1.5em;color:#1a1a1a}
table.gt-steps{border-collapse:collapse;margin:1em 0;width:100%}
table.gt-steps th,table.gt-steps td{border-bottom:1px solid #ccc;padding:.3em .5em;
 text-align:left;vertical-align:top}
</style>
"""


def page(report: dict[str, Any]) -> str:
    """The whole page for one participant's report dict (docs/reports.md)."""
    title = text(f"gtcheck: {report['participant']}")
    heads = "".join(html_report.header_cells(sortable=False))
    rows = []
    for step in report["steps"]:
        rows.append(f"<tr>{''.join(html_report.cells(step))}</tr>")
        if step["status"] != "passed":
            rows.append(f'<tr><td colspan="6">{html_report.evidence(step)}</td></tr>')
    return (
        f'<!DOCTYPE html><html lang="{text(i18n.language())}"><head><meta charset="utf-8">'
        f"<title>{title}</title>{PAGE_STYLE}</head><body><main>"
        f"{html_report.header(report)}{html_report.environment(report)}"
        f"{html_report.cloudwatch_latency(report)}"
        f'<table class="gt-steps"><caption>{text(_("Steps"))}</caption>'
        f"<thead><tr>{heads}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        "</main></body></html>\n"
    )
