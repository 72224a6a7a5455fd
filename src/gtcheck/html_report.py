"""HTML fragments for the pytest-html report: the header, the environment panel, the
CloudWatch latency chart and failure evidence. Every value that came from the table or the command
line is escaped here: participant data is hostile. Labels are in the run's language."""

from __future__ import annotations

from html import escape
from typing import Any

from gtcheck.i18n import N_, _
from gtcheck.rubric import EXERCISES, exercise_points, status_label

STATES = {"identical": N_("identical"), "missing": N_("missing"), "differs": N_("differs")}
STATE_COLUMNS = (N_("Region"), N_("Copy"), N_("When"))
LATENCY_NOTE = N_(
    "From CloudWatch (AWS/DynamoDB ReplicationLatency, last 3 hours), in milliseconds; the "
    "dashed line marks the workshop's usual 2 s."
)
USUAL_MS = 2000.0
SORTABLE = ' class="sortable"'
ENVIRONMENT_ROWS = (
    ("env.table", N_("Table")),
    ("env.replicas", N_("Replicas")),
    ("env.indexes", N_("Indexes")),
    ("env.streams", N_("Streams")),
    ("mon.replication_latency", N_("CloudWatch ReplicationLatency")),
)
STYLE = """
<style>
.gt-head{font:14px/1.4 system-ui,sans-serif;margin:0 0 1em}
.gt-head h2{margin:.2em 0}.gt-score{font-size:2em;font-weight:700}
.gt-bars{display:grid;grid-template-columns:max-content 16em max-content;gap:.3em .8em;
 align-items:center;margin:.6em 0}
.gt-bar{background:#e6e6e6;border-radius:3px;height:.9em;overflow:hidden}
.gt-bar>span{display:block;height:100%;background:#2e8b57}
.gt-panel{border:1px solid #ccc;border-radius:4px;padding:.5em 1em;margin:.6em 0}
.gt-panel table,.gt-evidence table{border-collapse:collapse;margin:.3em 0}
.gt-panel td,.gt-panel th,.gt-evidence td,.gt-evidence th{border:1px solid #ddd;
 padding:2px 6px;text-align:left;vertical-align:top;font:12px/1.3 ui-monospace,monospace}
.gt-evidence .gt-diff{background:#fde2e1;font-weight:700}
.gt-evidence .gt-missing{color:#999;font-style:italic}
.gt-status-passed{color:#2e8b57}.gt-status-failed{color:#c0392b}
.gt-status-error{color:#8e44ad}.gt-status-skipped{color:#b9770e}
.gt-hist text{font:10px sans-serif}
.gt-cause{color:#666;font:11px ui-monospace,monospace}
</style>
"""


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


def header(report: dict[str, Any]) -> str:
    """Who, where, when, the score, and one progress bar per exercise."""
    score, maximum = report["score"], report["max_score"]
    rows = []
    for exercise, (earned, possible) in sorted(exercise_points(report["steps"]).items()):
        share = 0 if not possible else round(100 * earned / possible)
        name = _(EXERCISES[exercise]) if exercise in EXERCISES else ""
        rows.append(
            f"<div>{markup(_('Exercise {number}'), number=str(exercise))} "
            f"<small>{text(name)}</small></div>"
            f'<div class="gt-bar" role="progressbar" aria-valuenow="{share}" '
            f'aria-valuemin="0" aria-valuemax="100"><span style="width:{share}%"></span></div>'
            f"<div>{earned} / {possible}</div>"
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
            f"<tr><th>{text(_(name))}</th>"
            f'<td class="gt-status-{text(step["status"])}">{status_text(step["status"])}</td>'
            f"<td>{text(details or step['hint'] or '')}</td></tr>"
        )
    return (
        f'<div class="gt-panel" id="gt-environment"><h3>{text(_("Environment"))}</h3>'
        f"<table>{''.join(rows)}</table></div>"
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
        f"<small>{text(_(LATENCY_NOTE))}</small>{''.join(charts)}</div>"
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
        f'<td class="col-step">{text(step["id"])}</td>',
        f'<td class="col-exercise">{step["exercise"]}</td>',
        f'<td class="col-points">{step["points"]} / {step["max_points"]}</td>',
        f'<td class="col-status gt-status-{text(step["status"])}">'
        f"{status_text(step['status'])}</td>",
        f'<td class="col-waited">{step["waited_s"]:.1f} s</td>',
        f'<td class="col-hint">{text(step["hint"] or "")}{_cause(step.get("cause"))}</td>',
    ]


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


def header_cells() -> list[str]:
    """The rubric columns' headings, in the run's language."""
    return [
        f'<th{SORTABLE if sortable else ""} data-column-type="{column}">{text(_(heading))}</th>'
        for column, heading, sortable in HEADER_COLUMNS
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
            f"<tr><th>{text(region)}</th><td>{text(_state(state.get('state', '')))}</td>"
            f"<td>{text(_converged(state))}</td></tr>"
            for region, state in regions.items()
        )
        head = "".join(f"<th>{text(_(name))}</th>" for name in STATE_COLUMNS)
        parts.append(f"<table><tr>{head}</tr>{rows}</table>")
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
    head = "".join(f"<th>{text(r)}</th>" for r in regions)
    rows = []
    for name in names:
        cells_ = [f"<th>{text(name)}</th><td>{text(expected.get(name, ''))}</td>"]
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
    names_head = f"<th>{text(_('Attribute'))}</th><th>{text(_('Expected'))}</th>"
    return f"<table><tr>{names_head}{head}</tr>{''.join(rows)}</table>"
