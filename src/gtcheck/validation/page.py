"""validation.json and validation.html: the document as data, and one self-contained page.

Every value is escaped (table names and details come from outside); a status is shown by
a symbol and a word beside its colour; each direction's latency is a histogram whose bins
are the probes' own resolution, so it never claims more precision than was measured.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any
from urllib.parse import quote

from gtcheck.html_report import text
from gtcheck.html_style import MUTED, STATUS_COLOURS, STATUS_ICONS, TEXT, TRACK
from gtcheck.i18n import N_, _
from gtcheck.report import write_atomically
from gtcheck.rubric import Status, status_label

JSON_NAME, HTML_NAME = "validation.json", "validation.html"
CHECK_NAMES = {
    "env.table": N_("Table"),
    "env.replicas": N_("Replicas"),
    "env.indexes": N_("Indexes"),
    "env.streams": N_("Streams"),
    "bot.solved": N_("Bot solved the workshop"),
    "bot.graded": N_("Bot graded"),
    "latency": N_("Latency probes"),
    "cleanup": N_("Clean-up"),
}
SCENARIO_NAMES = {
    "login-visible": N_("Global user login"),
    "inventory-race": N_("Inventory management"),
    "order-lifecycle": N_("Order processing"),
}


def write(report_dir: Path, document: dict[str, Any]) -> tuple[Path, Path]:
    """Both files, each whole or not at all."""
    json_path, html_path = report_dir / JSON_NAME, report_dir / HTML_NAME
    write_atomically(json_path, json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    write_atomically(html_path, html(document))
    return json_path, html_path


def _status(status: str) -> str:
    known = status in {s.value for s in Status}
    icon = STATUS_ICONS[Status(status)] if known else "?"
    word = status_label(status) if known else status
    return (
        f'<span class="st st-{text(status)}"><span aria-hidden="true">{icon}</span> '
        f"{text(word)}</span>"
    )


def html(document: dict[str, Any]) -> str:
    verdict = _("Environment validated") if document["ok"] else _("Environment not validated")
    if document.get("interrupted"):
        verdict = _("Interrupted before it ended: environment not validated; the clean-up ran")
    return "".join(
        [
            f'<!DOCTYPE html><html lang="{text(document.get("lang", "en"))}"><head>'
            '<meta charset="utf-8"><meta http-equiv="Content-Security-Policy" '
            "content=\"default-src 'none'; style-src 'unsafe-inline'\">"
            f"<title>{text(_('gtcheck validation'))}</title>{_style()}</head><body>",
            f"<h1>{_status('passed' if document['ok'] else 'failed')} {text(verdict)}</h1>",
            _facts(document),
            _checks(document),
            _latency(document),
            _scenarios(document),
            _cleanup(document),
            "</body></html>\n",
        ]
    )


def _style() -> str:
    colours = "".join(f".st-{s.value}{{color:{c}}}" for s, c in STATUS_COLOURS.items())
    return (
        f"<style>body{{font:14px/1.4 system-ui,sans-serif;color:{TEXT};margin:1.5em}}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;"
        f"text-align:left;vertical-align:top}}.muted{{color:{MUTED}}}"
        f".hist text{{font:10px sans-serif;fill:{TEXT}}}.st{{white-space:nowrap;font-weight:600}}"
        f"{colours}</style>"
    )


def _facts(document: dict[str, Any]) -> str:
    rows = [
        (_("Table"), document["table"]),
        (_("Regions"), ", ".join(document["regions"])),
        (_("Started"), document["started_at"]),
        (_("Duration"), f"{document['duration_s']} s"),
        (_("Bot participant"), document.get("bot", "")),
    ]
    cells = "".join(f"<tr><th scope=row>{text(k)}</th><td>{text(v)}</td></tr>" for k, v in rows)
    link = document.get("bot_report")
    if link:
        cells += (
            f"<tr><th scope=row>{text(_('Bot report'))}</th>"
            f'<td><a href="{quote(link)}">{text(link)}</a></td></tr>'
        )
    return f"<table>{cells}</table>"


def _checks(document: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><td>{text(_(CHECK_NAMES.get(c['id'], c['id'])))} "
        f"<code>{text(c['id'])}</code></td><td>{_status(c['status'])}</td>"
        f"<td>{text(c['detail'])}</td></tr>"
        for c in document["checks"]
    )
    head = f"<tr><th>{text(_('Check'))}</th><th>{text(_('Status'))}</th>"
    head += f"<th>{text(_('Details'))}</th></tr>"
    return f"<h2>{text(_('Checks'))}</h2><table>{head}{rows}</table>"


def _latency(document: dict[str, Any]) -> str:
    parts = [f"<h2>{text(_('Replication latency'))}</h2>"]
    claim = document.get("page_claim_ms", 2000.0)
    if not document["latency_ms"]:
        parts.append(f"<p class=muted>{text(_('not measured'))}</p>")
    for direction, entry in document["latency_ms"].items():
        figures = ", ".join(
            f"{name} {_ms(entry.get(name))}" for name in ("min", "p50", "p95", "max", "mean")
        )
        cloudwatch = entry.get("cloudwatch_avg")
        shown_cw = _ms(cloudwatch) if cloudwatch is not None else _("no datapoints")
        within = entry.get("within_page_claim")
        verdict = (
            _("median within the workshop's \"usually under 2 seconds\"")
            if within
            else _("median over the workshop's \"usually under 2 seconds\"")
            if within is False
            else _("no probe arrived")
        )
        parts.append(
            f"<h3>{text(direction)}</h3><p>"
            + text(
                _(
                    "{samples} of {sent} probes: {figures}; CloudWatch average {cloudwatch}; "
                    "{verdict}"
                ).format(
                    samples=entry.get("samples", 0),
                    sent=entry.get("sent", entry.get("samples", 0)),
                    figures=figures,
                    cloudwatch=shown_cw,
                    verdict=verdict,
                )
            )
            + "</p>"
            + histogram(direction, entry, claim)
        )
    return "".join(parts)


def _ms(value: Any) -> str:
    return "—" if value is None else f"{value:g} ms"


def histogram(direction: str, entry: dict[str, Any], claim: float, width: int = 480) -> str:
    """An SVG histogram of one direction's probes, one bin per resolution step."""
    samples = [p["latency_ms"] for p in entry.get("probes", [])]
    if not samples:
        return ""
    step = max(entry.get("resolution_ms") or 1.0, 1.0)
    low = math.floor(min(samples) / step) * step
    count = int((max(samples) - low) // step) + 1
    bins = [0] * count
    for value in samples:
        bins[min(int((value - low) // step), count - 1)] += 1
    height, top = 120, max(bins)
    bar = width / count
    rects = "".join(
        f'<rect x="{i * bar:.1f}" y="{height - n / top * (height - 20):.1f}" '
        f'width="{max(bar - 1, 1):.1f}" height="{n / top * (height - 20):.1f}" '
        f'fill="{STATUS_COLOURS[Status.PASSED]}"><title>{low + i * step:g} to '
        f"{low + (i + 1) * step:g} ms: {n}</title></rect>"
        for i, n in enumerate(bins)
        if n
    )
    label = _(
        "{direction}: {count} probes between {low} and {high} ms, in bins of {step} ms"
    ).format(
        direction=direction,
        count=len(samples),
        low=f"{min(samples):g}",
        high=f"{max(samples):g}",
        step=f"{step:g}",
    )
    axis = (
        f'<text x="0" y="{height + 12}">{low:g} ms</text>'
        f'<text x="{width}" y="{height + 12}" text-anchor="end">{low + count * step:g} ms</text>'
    )
    return (
        f'<svg class="hist" role="img" aria-label="{text(label)}" width="{width}" '
        f'height="{height + 16}" viewBox="0 0 {width} {height + 16}">'
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="{TRACK}"/>'
        f"{rects}{axis}</svg>"
        + "<p class=muted>"
        + text(_("the workshop says usually under {claim} ms").format(claim=f"{claim:g}"))
        + "</p>"
    )


def _scenarios(document: dict[str, Any]) -> str:
    items = "".join(
        f"<li><strong>{text(_(SCENARIO_NAMES.get(s['id'], s['id'])))}</strong> "
        f"<code>{text(s['id'])}</code> {_status(s['status'])}<br>{text(s['explanation'])}</li>"
        for s in document["scenarios"]
    )
    return f"<h2>{text(_('Real-world scenarios'))}</h2><ul>{items}</ul>"


def _cleanup(document: dict[str, Any]) -> str:
    removal = document["cleanup"]
    line = _("{written} item copies written, {deleted} deleted, {left} left").format(
        written=removal["written"], deleted=removal["deleted"], left=removal["left"]
    )
    changed = removal.get("changed") or []
    extra = (
        "<p>"
        + text(_("changed by another process, not deleted: {keys}").format(keys=", ".join(changed)))
        + "</p>"
        if changed
        else ""
    )
    return f"<h2>{text(_('Clean-up'))}</h2><p>{text(line)}</p>{extra}"
