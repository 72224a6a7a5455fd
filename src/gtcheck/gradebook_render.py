"""The gradebook as files people open: a CSV for spreadsheets and one self-contained page.

Participant data is hostile to both. In the CSV a cell that a spreadsheet would run as a
formula is neutralised; in the page every value is escaped, and a Content-Security-Policy
lets only the page's own sorting script run, so even a slip in escaping runs nothing.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from gtcheck.gradebook import REJECTED, SELF_REPORTED, STATUSES
from gtcheck.html_report import markup, text
from gtcheck.i18n import N_, _
from gtcheck.report import write_atomically
from gtcheck.rubric import status_label

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_FIXED = ("participant", "source", "score", "max_score", "percent")
# A status is never told by colour alone: each has a symbol, explained in the legend.
SYMBOLS = {"passed": "✓", "failed": "✗", "skipped": "»", "error": "!"}
REJECTED_SYMBOL = "⊘"
SOURCES = {"graded": N_("graded"), SELF_REPORTED: N_("self-reported"), REJECTED: N_("rejected")}
BINS = 11  # 0-9, 10-19, ... 90-99 and 100 percent


# ----- CSV ---------------------------------------------------------------------------------
def neutralise(cell: str) -> str:
    """A cell a spreadsheet shows as text: a leading quote before what would start a formula."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def percent(score: int, max_score: int) -> str:
    return f"{100 * score / max_score:.1f}" if max_score else "0.0"


def csv_text(document: Mapping[str, Any]) -> str:
    """gradebook.csv: a header, then a row per participant with each step's points."""
    step_ids = [step["id"] for step in document["rubric"]]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralise(name) for name in (*CSV_FIXED, *step_ids)])
    for row in document["participants"]:
        points = [str(row["steps"][s]["points"]) if s in row["steps"] else "" for s in step_ids]
        cells = [
            row["participant"],
            row["source"],
            str(row["score"]),
            str(row["max_score"]),
            percent(row["score"], row["max_score"]),
            *points,
        ]
        writer.writerow([neutralise(cell) for cell in cells])
    return out.getvalue()


# ----- HTML --------------------------------------------------------------------------------
STYLE = """
body{font:14px/1.45 system-ui,sans-serif;color:#1f2937;background:#fff;margin:1.5em}
h1{font-size:1.6em;margin:0 0 .3em}h2{font-size:1.2em;margin:1.4em 0 .4em}
a{color:#1d4ed8}
.gb-facts th{text-align:left;padding-right:1em;font-weight:600}
table.gb{border-collapse:collapse;margin:.4em 0}
table.gb caption{text-align:left;padding:.2em 0}
table.gb th,table.gb td{border:1px solid #d1d5db;padding:3px 6px;text-align:left;
 vertical-align:top}
table.gb thead th{background:#e5e7eb;font-weight:600}
table.gb td.gb-num{text-align:right;font-variant-numeric:tabular-nums}
#gb-matrix td.gb-cell{white-space:nowrap;text-align:center}
#gb-matrix thead th.gb-step{font:12px/1.2 ui-monospace,monospace;max-width:8em}
#gb-matrix td.gb-num{white-space:nowrap}
.gb-passed{background:#dcfce7;color:#14532d}.gb-failed{background:#fee2e2;color:#7f1d1d}
.gb-skipped{background:#fef3c7;color:#713f12}.gb-error{background:#ede9fe;color:#4c1d95}
.gb-rejected{background:#f3f4f6;color:#111827}
.gb-sym{font-weight:700;margin-right:.25em}
th button{font:inherit;font-weight:600;color:inherit;background:none;border:0;padding:0;
 cursor:pointer;text-decoration:underline}
th button:focus-visible{outline:2px solid #1d4ed8;outline-offset:2px}
th[aria-sort=ascending] button::after{content:" \\25B2"}
th[aria-sort=descending] button::after{content:" \\25BC"}
.gb-legend span{display:inline-block;padding:1px 6px;margin-right:.5em;border-radius:3px}
.gb-sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);
 white-space:nowrap}
.gb-hist text{font:11px sans-serif;fill:#1f2937}
.gb-muted{color:#4b5563}
"""

# Sorts the matrix rows by the data-order (name, as Python sorted them) or data-score
# attributes; reads no text and writes no markup, so participant data is never code.
SCRIPT = """
(function () {
  var table = document.getElementById("gb-matrix");
  if (!table) { return; }
  var body = table.tBodies[0];
  function number(row, name) { return Number(row.getAttribute("data-" + name)); }
  function sort(by, direction) {
    var key = by === "score" ? "score" : "order";
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var d = number(a, key) - number(b, key);
      if (direction === "descending") { d = -d; }
      return d !== 0 ? d : number(a, "order") - number(b, "order");
    });
    rows.forEach(function (row) { body.appendChild(row); });
    table.querySelectorAll("thead th[aria-sort]").forEach(function (th) {
      var button = th.querySelector("button");
      th.setAttribute("aria-sort",
        button && button.getAttribute("data-sort") === by ? direction : "none");
    });
  }
  table.querySelectorAll("thead button[data-sort]").forEach(function (button) {
    button.addEventListener("click", function () {
      var th = button.parentNode;
      var now = th.getAttribute("aria-sort");
      var first = button.getAttribute("data-first");
      var next = now === "none" ? first : (now === "ascending" ? "descending" : "ascending");
      sort(button.getAttribute("data-sort"), next);
    });
  });
  table.setAttribute("data-sortable", "ready");
})();
"""


def script_hash(script: str = SCRIPT) -> str:
    """The CSP source that allows exactly this script and nothing else."""
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def csp() -> str:
    return (
        f"default-src 'none'; style-src 'unsafe-inline'; script-src {script_hash()}; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )


def href(link: str) -> str:
    """A relative link to a report file: percent-encoded, never a scheme such as javascript:."""
    encoded = quote(link, safe="/")
    return encoded if encoded.startswith("../") else "./" + encoded


def pass_rate(tally: Mapping[str, Any]) -> str:
    total = sum(tally[status] for status in STATUSES)
    return f"{round(100 * tally['passed'] / total)} %" if total else "-"


def step_summary(step_id: str, tally: Mapping[str, Any]) -> str:
    """What an instructor tells the room: `ex2.product_created: 7 failed, 5 number-as-string`."""
    parts = [
        f"{tally[status]} {status_label(status)}"
        for status in STATUSES
        if status != "passed" and tally[status]
    ]
    parts += [f"{count} {cause}" for cause, count in tally["causes"].items()]
    return f"{step_id}: {', '.join(parts)}"


def page(document: Mapping[str, Any], *, refresh_s: float | None = None) -> str:
    """gradebook.html: one self-contained page (nothing fetched), every value escaped;
    with `refresh_s`, a class board that reloads itself (`grade --watch`)."""
    title = _("Class gradebook")
    reload = ""
    if refresh_s:
        reload = f'<meta http-equiv="refresh" content="{max(1, round(refresh_s))}">'
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{text(document["lang"])}"><head><meta charset="utf-8">{reload}'
        f'<meta http-equiv="Content-Security-Policy" content="{csp()}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{text(f'gtcheck: {title}')}</title><style>{STYLE}</style></head>"
        f"<body><main><h1>{text(title)}</h1>"
        f"{_facts(document)}{_histogram(document)}{_matrix(document)}{_steps(document)}"
        f"</main><script>{SCRIPT}</script></body></html>\n"
    )


def _facts(document: Mapping[str, Any]) -> str:
    rows = document["participants"]
    by_source = {source: sum(r["source"] == source for r in rows) for source in SOURCES}
    facts = [
        (_("Table"), document["table"]),
        (_("Regions"), ", ".join(document["regions"])),
        (_("Graded at"), document["started_at"]),
        (_("Participants"), str(len(rows))),
        (_("Graded by gtcheck"), str(by_source["graded"])),
        (_("Self-reported"), str(by_source[SELF_REPORTED])),
        (_("Rejected"), str(by_source[REJECTED])),
    ]
    body = "".join(f'<tr><th scope="row">{text(k)}</th><td>{text(v)}</td></tr>' for k, v in facts)
    return f'<table class="gb-facts" id="gb-facts">{body}</table>'


def _histogram(document: Mapping[str, Any], width: int = 440, height: int = 150) -> str:
    """The score distribution: accepted participants per tenth of the maximum score."""
    counts = [0] * BINS
    for row in document["participants"]:
        if row["source"] != REJECTED and row["max_score"]:
            counts[min(BINS - 1, 100 * row["score"] // row["max_score"] // 10)] += 1
    labels = [f"{10 * i}-{10 * i + 9}" for i in range(BINS - 1)] + ["100"]
    tallest = max(counts) or 1
    slot = width / BINS
    plot = height - 30
    bars = []
    for i, (label, count) in enumerate(zip(labels, counts, strict=True)):
        tall = plot * count / tallest
        x = i * slot + 3
        bars.append(
            f'<rect x="{x:.1f}" y="{plot - tall + 12:.1f}" width="{slot - 6:.1f}" '
            f'height="{tall:.1f}" fill="#2f6690"><title>{text(label)} %: {count}</title></rect>'
            f'<text x="{x + (slot - 6) / 2:.1f}" y="{height - 4}" text-anchor="middle">'
            f"{text(label)}</text>"
        )
        if count:
            bars.append(
                f'<text x="{x + (slot - 6) / 2:.1f}" y="{plot - tall + 9:.1f}" '
                f'text-anchor="middle">{count}</text>'
            )
    pairs = zip(labels, counts, strict=True)
    described = ", ".join(f"{label} %: {count}" for label, count in pairs)
    label = _("Score distribution (participants per score band): {bands}").format(bands=described)
    note = _("Percent of the maximum score; rejected reports are not counted.")
    return (
        f'<section aria-labelledby="gb-h-distribution"><h2 id="gb-h-distribution">'
        f"{text(_('Score distribution'))}</h2>"
        f'<svg class="gb-hist" id="gb-histogram" role="img" aria-label="{text(label)}" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'xmlns="http://www.w3.org/2000/svg">{"".join(bars)}</svg>'
        f'<p class="gb-muted">{text(note)}</p>'
        "</section>"
    )


def _legend() -> str:
    items = [
        f'<span class="gb-{status}"><span class="gb-sym" aria-hidden="true">{SYMBOLS[status]}'
        f"</span>{text(status_label(status))}</span>"
        for status in STATUSES
    ]
    items.append(
        f'<span class="gb-rejected"><span class="gb-sym" aria-hidden="true">{REJECTED_SYMBOL}'
        f"</span>{text(_(SOURCES[REJECTED]))}</span>"
    )
    return f'<p class="gb-legend" id="gb-legend">{"".join(items)}</p>'


def _matrix(document: Mapping[str, Any]) -> str:
    rubric = document["rubric"]
    sortable = (
        ("name", _("Participant"), "ascending", "ascending"),
        ("score", _("Score"), "none", "descending"),
    )
    head = [
        f'<th scope="col" aria-sort="{state}"><button type="button" data-sort="{key}" '
        f'data-first="{first}">{text(label)}</button></th>'
        for key, label, state, first in sortable
    ]
    head.insert(1, f'<th scope="col">{text(_("Source"))}</th>')
    head += [
        f'<th scope="col" class="gb-step" title="{text(step["title"])}">'
        f"{_breakable(step['id'])}</th>"
        for step in rubric
    ]
    body = [_matrix_row(order, row, rubric) for order, row in enumerate(document["participants"])]
    rates = "".join(
        f'<td class="gb-num">{text(pass_rate(document["steps"][step["id"]]))}</td>'
        for step in rubric
    )
    caption = _(
        "Participants and steps: each step's points and status. Sort by name or score with "
        "the column buttons; a name links to that participant's report."
    )
    return (
        f'<section aria-labelledby="gb-h-participants"><h2 id="gb-h-participants">'
        f"{text(_('Participants'))}</h2>{_legend()}"
        f'<table class="gb" id="gb-matrix"><caption class="gb-muted">{text(caption)}</caption>'
        f"<thead><tr>{''.join(head)}</tr></thead><tbody>{''.join(body)}</tbody>"
        f'<tfoot><tr><th scope="row" colspan="3">{text(_("Pass rate"))}</th>{rates}</tr></tfoot>'
        "</table></section>"
    )


def _breakable(step_id: str) -> str:
    """A step id that may wrap after its dot and underscores, in a narrow column."""
    return text(step_id).replace(".", ".<wbr>").replace("_", "_<wbr>")


def _matrix_row(order: int, row: Mapping[str, Any], rubric: Sequence[Mapping[str, Any]]) -> str:
    name = (
        f'<th scope="row"><a href="{text(href(row["report"]))}">{text(row["participant"])}</a></th>'
    )
    source = f"<td>{text(_(SOURCES.get(row['source'], row['source'])))}</td>"
    score = f'<td class="gb-num">{row["score"]} / {row["max_score"]}</td>'
    if row["source"] == REJECTED:
        reason = markup(_("rejected: {reason}"), reason=text(row["reason"]))
        cells = (
            f'<td class="gb-rejected" colspan="{len(rubric)}">'
            f'<span class="gb-sym" aria-hidden="true">{REJECTED_SYMBOL}</span>{reason}</td>'
        )
    else:
        cells = "".join(_cell(row["steps"][step["id"]]) for step in rubric)
    return f'<tr data-order="{order}" data-score="{row["score"]}">{name}{source}{score}{cells}</tr>'


def _cell(step: Mapping[str, Any]) -> str:
    status = step["status"]
    label = status_label(status)
    if step["cause"]:
        label = _("{status}: {cause}").format(status=label, cause=step["cause"])
    return (
        f'<td class="gb-cell gb-{status}" title="{text(label)}">'
        f'<span class="gb-sym" aria-hidden="true">{SYMBOLS[status]}</span>{step["points"]}'
        f'<span class="gb-sr"> {text(label)}</span></td>'
    )


def _steps(document: Mapping[str, Any]) -> str:
    """Per step: the class's counts, pass rate and most frequent causes; then the sentences
    an instructor reads out, for the steps that not everyone passed."""
    columns = [_("Step"), _("Title"), *(status_label(s) for s in STATUSES)]
    columns += [_("Pass rate"), _("Most frequent causes")]
    head = "".join(f'<th scope="col">{text(c)}</th>' for c in columns)
    rows, sentences = [], []
    for step in document["rubric"]:
        tally = document["steps"][step["id"]]
        counts = "".join(f'<td class="gb-num">{tally[s]}</td>' for s in STATUSES)
        causes = ", ".join(f"{count} {cause}" for cause, count in tally["causes"].items())
        rows.append(
            f'<tr><th scope="row">{text(step["id"])}</th><td>{text(step["title"])}</td>{counts}'
            f'<td class="gb-num">{text(pass_rate(tally))}</td><td>{text(causes)}</td></tr>'
        )
        if any(tally[s] for s in STATUSES if s != "passed"):
            sentences.append(f"<li>{text(step_summary(step['id'], tally))}</li>")
    explain = (
        f'<ul id="gb-explain">{"".join(sentences)}</ul>'
        if sentences
        else f"<p>{text(_('Every accepted report passed every step.'))}</p>"
    )
    return (
        f'<section aria-labelledby="gb-h-steps"><h2 id="gb-h-steps">{text(_("Steps"))}</h2>'
        f'<table class="gb" id="gb-steps"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
        f'<h2 id="gb-h-explain">{text(_("What to explain"))}</h2>{explain}</section>'
    )


OUTPUTS = ("gradebook.json", "gradebook.csv", "gradebook.html")


def write(
    report_dir: Path, document: dict[str, Any], *, refresh_s: float | None = None
) -> list[Path]:
    """gradebook.json, .csv and .html, each written whole or not at all."""
    texts = (
        json.dumps(document, indent=2, ensure_ascii=False) + "\n",
        csv_text(document),
        page(document, refresh_s=refresh_s),
    )
    paths = [report_dir / name for name in OUTPUTS]
    for path, content in zip(paths, texts, strict=True):
        write_atomically(path, content)
    return paths
