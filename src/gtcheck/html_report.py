"""HTML fragments for the pytest-html report: the header, the environment panel, the
CloudWatch latency chart and failure evidence. Every value that came from the table or the command
line is escaped here: participant data is hostile. Labels are in the run's language."""

from __future__ import annotations

from html import escape
from typing import Any

from gtcheck.html_style import STATUS_ICONS, STYLE, TEMPLATE_STYLE
from gtcheck.i18n import N_, _, language
from gtcheck.rubric import EXERCISES, Status, exercise_points, status_label

STATES = {"identical": N_("identical"), "missing": N_("missing"), "differs": N_("differs")}
STATE_COLUMNS = (N_("Region"), N_("Copy"), N_("When"))
LATENCY_NOTE = N_(
    "From CloudWatch (AWS/DynamoDB ReplicationLatency, last 3 hours), in milliseconds; the "
    "dashed line marks the workshop's usual 2 s."
)
USUAL_MS = 2000.0
SORTABLE = "sortable "
STATUSES = frozenset(status.value for status in Status)
ENVIRONMENT_COLUMNS = (N_("Check"), N_("Status"), N_("Details"))
ENVIRONMENT_ROWS = (
    ("env.table", N_("Table")),
    ("env.replicas", N_("Replicas")),
    ("env.indexes", N_("Indexes")),
    ("env.streams", N_("Streams")),
    ("mon.replication_latency", N_("CloudWatch ReplicationLatency")),
)


def text(value: Any) -> str:
    """Escape anything for HTML text or an attribute value."""
    return escape(str(value), quote=True)


def markup(message: str, **html: str) -> str:
    """A (translated) message as HTML: its own text escaped, `html` (already safe) inserted."""
    return text(message).format(**html)


def status_text(status: str) -> str:
    """A step status as shown (translated); its CSS class keeps the English value."""
    try:
        return text(status_label(status))
    except ValueError:
        return text(status)


def status_cell(status: str, css: str = "") -> str:
    """A status cell: icon and word, then colour, so colour never tells it alone."""
    icon = STATUS_ICONS.get(Status(status)) if status in STATUSES else None
    shown = f'<span aria-hidden="true">{icon}</span> ' if icon else ""
    return (
        f'<td class="{css}gt-cell gt-status-{text(status)}">{shown}{status_text(status)}</td>'
    )


# pytest-html's template writes `<html>` without `lang`, and its result filters are
# checkboxes without a label; no hook reaches either. This script, in a summary fragment
# (pytest-html's page runs scripts), sets `lang` to the run's language as the page loads and
# names each filter by the words beside it. It only reads the template's markup: a filter
# pytest-html labels itself, or markup it changes, is left as it is.
TEMPLATE_SCRIPT = """<script id="gt-template-a11y">
document.documentElement.lang = "%s";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("input.filter[data-test-result]").forEach(function (box) {
    var words = box.nextElementSibling;
    if (box.labels.length || box.hasAttribute("aria-label") || !words) return;
    box.setAttribute("aria-label", words.textContent.replace(/,\\s*$/, "").trim());
  });
});
</script>"""


def template_fixes() -> str:
    """CSS and a script for what pytest-html's own template leaves inaccessible; only for
    pytest-html's page (plugin.py's results summary), not for pages gtcheck writes whole."""
    return TEMPLATE_STYLE + TEMPLATE_SCRIPT % language()


def header(report: dict[str, Any]) -> str:
    """Who, where, when, the score, and one progress bar per exercise."""
    score, maximum = report["score"], report["max_score"]
    rows = []
    for exercise, (earned, possible) in sorted(exercise_points(report["steps"]).items()):
        share = 0 if not possible else round(100 * earned / possible)
        name = _(EXERCISES[exercise]) if exercise in EXERCISES else ""
        label = f"gt-exercise-{exercise}"
        rows.append(
            f'<div id="{label}">{markup(_("Exercise {number}"), number=str(exercise))} '
            f"<small>{text(name)}</small></div>"
            f'<div class="gt-bar" role="progressbar" aria-labelledby="{label}" '
            f'aria-valuenow="{share}" aria-valuemin="0" aria-valuemax="100" '
            f'aria-valuetext="{earned} / {possible}"><span style="width:{share}%"></span></div>'
            f'<div aria-hidden="true">{earned} / {possible}</div>'
        )
    return (
        f'{STYLE}<div class="gt-head" id="gtcheck-summary">'
        "<h2>"
        + markup(
            _("Participant: {name}"),
            name=f'<span id="gt-participant">{text(report["participant"])}</span>',
        )
        + "</h2><div>"
        + markup(
            _("Table {table} in {regions} · checked {started} in {seconds} s"),
            table=f"<b>{text(report['table'])}</b>",
            regions=text(", ".join(report["regions"])),
            started=text(report["started_at"]),
            seconds=f"{report['duration_s']:.1f}",
        )
        + "</div>"
        f'<div class="gt-score" id="gt-score">{score} / {maximum}</div>'
        f'<div class="gt-bars">{"".join(rows)}</div></div>'
    )


def environment(report: dict[str, Any]) -> str:
    """Replicas, indexes, streams and CloudWatch latency, as the env and mon steps saw them."""
    steps = {step["id"]: step for step in report["steps"]}
    rows = []
    for step_id, name in ENVIRONMENT_ROWS:
        step = steps.get(step_id)
        if step is None:
            continue
        details = "; ".join(
            f"{region}: {_flat(value)}" for region, value in step["evidence"].items()
        )
        rows.append(
            f'<tr><th scope="row">{text(_(name))}</th>{status_cell(step["status"])}'
            f"<td>{text(details or step['hint'] or '')}</td></tr>"
        )
    head = "".join(f'<th scope="col">{text(_(name))}</th>' for name in ENVIRONMENT_COLUMNS)
    return (
        f'<div class="gt-panel" id="gt-environment"><h3>{text(_("Environment"))}</h3>'
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _flat(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {_flat(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_flat(v) for v in value)
    return str(value)


def cloudwatch_latency(report: dict[str, Any]) -> str:
    """CloudWatch's ReplicationLatency per receiving region, at its own millisecond
    resolution: an average bar and a maximum bar, against the workshop's "under 2 s"."""
    step = next((s for s in report["steps"] if s["id"] == "mon.replication_latency"), None)
    figures = {
        region: value
        for region, value in (step or {}).get("evidence", {}).items()
        if isinstance(value, dict) and "average_ms" in value
    }
    if not figures:
        return ""
    charts = [_latency_bars(region, value) for region, value in sorted(figures.items())]
    return (
        f'<div class="gt-panel" id="gt-latency"><h3>{text(_("Replication latency"))}</h3>'
        f'<small class="gt-latency-note">{text(_(LATENCY_NOTE))}</small>{"".join(charts)}</div>'
    )


def _latency_bars(region: str, value: dict[str, Any], width: int = 320) -> str:
    average, maximum = float(value["average_ms"]), float(value["maximum_ms"])
    label = _(
        "into {region}: average {average:.0f} ms, maximum {maximum:.0f} ms ({samples} samples)"
    ).format(region=region, average=average, maximum=maximum, samples=value.get("samples", 0))
    scale = max(maximum, USUAL_MS) / (width - 10)
    usual = USUAL_MS / scale
    bars = "".join(
        f'<rect x="0" y="{y}" width="{figure / scale:.1f}" height="12" fill="{colour}">'
        f"<title>{text(name)} {figure:.0f} ms</title></rect>"
        for y, name, figure, colour in (
            (4, _("average"), average, "#2f6690"),
            (20, _("maximum"), maximum, "#7a3e9d"),
        )
    )
    return (
        f"<div>{text(label)}"
        f'<svg class="gt-latency" width="{width}" height="40" role="img" '
        f'aria-label="{text(label)}" xmlns="http://www.w3.org/2000/svg">{bars}'
        f'<line x1="{usual:.1f}" x2="{usual:.1f}" y1="0" y2="36" stroke="#333" '
        f'stroke-dasharray="3,2"><title>{text(_("usually under 2 s"))}</title></line></svg></div>'
    )


def cells(step: dict[str, Any]) -> list[str]:
    """The rubric columns of one row: step, exercise, points, status, waited, hint."""
    return [
        f'<td class="col-step gt-cell">{text(step["id"])}</td>',
        f'<td class="col-exercise gt-cell">{step["exercise"]}</td>',
        f'<td class="col-points gt-cell">{step["points"]} / {step["max_points"]}</td>',
        status_cell(step["status"], "col-status "),
        f'<td class="col-waited gt-cell">{step["waited_s"]:.1f} s</td>',
        f'<td class="col-hint gt-cell">{text(step["hint"] or "")}{_cause(step.get("cause"))}</td>',
    ]


def empty_cells() -> list[str]:
    """The rubric columns of a row that is not a rubric step."""
    return [f'<td class="col-{column} gt-cell"></td>' for column, _h, _s in HEADER_COLUMNS]


def _cause(cause: str | None) -> str:
    """A step's cause id, small, under its hint: the same words in every language."""
    return "" if cause is None else f'<br><small class="gt-cause">{text(cause)}</small>'


HEADER_COLUMNS = (
    ("step", N_("Step"), True),
    ("exercise", N_("Exercise"), True),
    ("points", N_("Points"), False),
    ("status", N_("Status"), True),
    ("waited", N_("Waited"), False),
    ("hint", N_("Hint"), False),
)


def header_cells(*, sortable: bool = True) -> list[str]:
    """The rubric columns' headings, in the run's language (sortable in pytest-html's
    table, plain in a page of gtcheck's own, which has no script)."""
    return [
        f'<th scope="col" class="{SORTABLE if sortable and can_sort else ""}gt-cell" '
        f'data-column-type="{column}">{text(_(heading))}</th>'
        for column, heading, can_sort in HEADER_COLUMNS
    ]


def evidence(step: dict[str, Any]) -> str:
    """For a step that did not pass: what was expected against what each region holds."""
    found = step["evidence"]
    parts = [f'<div class="gt-evidence"><b>{text(step["title"])}</b>']
    if step["hint"]:
        parts.append(f"<p>{text(step['hint'])}</p>")
    copies = found.get("copies")
    if isinstance(copies, dict) and copies:
        parts.append(_copies_table(found.get("expected", {}), copies, found.get("problems", [])))
    regions = found.get("regions")
    if isinstance(regions, dict) and regions:
        rows = "".join(
            f'<tr><th scope="row">{text(region)}</th>'
            f"<td>{text(_state(state.get('state', '')))}</td>"
            f"<td>{text(_converged(state))}</td></tr>"
            for region, state in regions.items()
        )
        head = "".join(f'<th scope="col">{text(_(name))}</th>' for name in STATE_COLUMNS)
        parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
    other = {
        k: v for k, v in found.items() if k not in ("copies", "expected", "problems", "regions")
    }
    if other:
        parts.append(f"<p><small>{text(_flat(other))}</small></p>")
    parts.append("</div>")
    return "".join(parts)


def _state(state: str) -> str:
    return _(STATES[state]) if state in STATES else state


def _converged(state: dict[str, Any]) -> str:
    if "matched_at_s" in state:
        return _("identical {seconds:.1f} s into the run").format(seconds=state["matched_at_s"])
    if state.get("differences"):
        return "; ".join(state["differences"])
    return _("not there yet")


def _copies_table(expected: dict[str, str], copies: dict[str, Any], problems: list[str]) -> str:
    regions = list(copies)
    names = sorted(set(expected) | {n for c in copies.values() if c for n in c})
    wrong = {p.split(" ", 1)[0] for p in problems}
    head = "".join(f'<th scope="col">{text(r)}</th>' for r in regions)
    rows = []
    for name in names:
        cells_ = [f'<th scope="row">{text(name)}</th><td>{text(expected.get(name, ""))}</td>']
        values = [(copies[r] or {}).get(name) if copies[r] is not None else None for r in regions]
        # A region without the item is marked `gt-missing`; it does not make every
        # attribute of the other copies a difference.
        present = [v for r, v in zip(regions, values, strict=True) if copies[r] is not None]
        differs = len(set(present)) > 1
        for region, value in zip(regions, values, strict=True):
            if copies[region] is None:
                cells_.append(f'<td class="gt-missing">{text(_("no item"))}</td>')
                continue
            marked = name in wrong or differs
            css = ' class="gt-diff"' if marked else ""
            shown = _("(absent)") if value is None else value
            cells_.append(f"<td{css}>{text(shown)}</td>")
        rows.append(f"<tr>{''.join(cells_)}</tr>")
    names_head = "".join(
        f'<th scope="col">{text(_(name))}</th>' for name in (N_("Attribute"), N_("Expected"))
    )
    return (
        f"<table><thead><tr>{names_head}{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
