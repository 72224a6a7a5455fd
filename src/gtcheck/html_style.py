"""How gtcheck's fragments of the HTML report look, kept legible (WCAG 2.1 AA).

pytest-html greys its page's text (#999, 2.8:1 on white); every fragment gtcheck adds sets
its own colours, each at least 4.5:1 on the backgrounds it is drawn on (checked in
tests/test_accessibility.py). A status is never told by colour alone: `STATUS_ICONS` go with it.
"""

from __future__ import annotations

from gtcheck.rubric import Status

TEXT = "#1a1a1a"
MUTED = "#595959"
PAGE = "#ffffff"
LINK = "#1a4d8f"
TRACK = "#e6e6e6"  # an empty score bar, and pytest-html's log panel
DIFF = "#fde2e1"  # an evidence cell that differs from what was expected
STATUS_COLOURS = {
    Status.PASSED: "#1e6b41",
    Status.FAILED: "#b02a1e",
    Status.ERROR: "#7a3592",
    Status.SKIPPED: "#8a5a00",
}
STATUS_ICONS = {
    Status.PASSED: "\u2714",  # heavy check mark
    Status.FAILED: "\u2718",  # heavy ballot x
    Status.ERROR: "\u26a0",  # warning sign
    Status.SKIPPED: "\u2013",  # en dash: not run
}
DIFF_MARK = "\u2260"  # not equal to
# (text colour, background) pairs gtcheck draws; tests hold each to 4.5:1.
PAIRS = (
    (TEXT, PAGE),
    (TEXT, DIFF),
    (MUTED, PAGE),
    (LINK, PAGE),
    *((colour, background) for colour in STATUS_COLOURS.values() for background in (PAGE, TRACK)),
)

_STATUS_CSS = "".join(
    f".gt-status-{status.value}{{color:{colour}}}" for status, colour in STATUS_COLOURS.items()
)
STYLE = f"""
<style>
.gt-head,.gt-panel,.gt-evidence,.gt-cell{{color:{TEXT}}}
.gt-head{{font:14px/1.4 system-ui,sans-serif;margin:0 0 1em}}
.gt-head h2{{margin:.2em 0}}.gt-score{{font-size:2em;font-weight:700}}
.gt-bars{{display:grid;grid-template-columns:max-content 16em max-content;gap:.3em .8em;
 align-items:center;margin:.6em 0}}
.gt-bar{{background:{TRACK};border:1px solid {MUTED};border-radius:3px;height:.9em;
 overflow:hidden}}
.gt-bar>span{{display:block;height:100%;background:{STATUS_COLOURS[Status.PASSED]}}}
.gt-panel{{border:1px solid #ccc;border-radius:4px;padding:.5em 1em;margin:.6em 0}}
.gt-panel table,.gt-evidence table{{border-collapse:collapse;margin:.3em 0}}
.gt-panel td,.gt-panel th,.gt-evidence td,.gt-evidence th{{border:1px solid #ddd;
 padding:2px 6px;text-align:left;vertical-align:top;font:12px/1.3 ui-monospace,monospace}}
.gt-evidence .gt-diff{{background:{DIFF};font-weight:700}}
.gt-evidence .gt-diff::before{{content:"{DIFF_MARK} "}}
.gt-evidence .gt-missing{{color:{MUTED};font-style:italic}}
{_STATUS_CSS}
[class*="gt-status-"]{{white-space:nowrap}}
.gt-latency-note{{color:{MUTED}}}
.gt-hist text{{font:10px sans-serif;fill:{TEXT}}}
.gt-cause{{color:{TEXT};font:11px ui-monospace,monospace}}
</style>
"""
# pytest-html's own page is grey on white; these rules (CSS from a hook's fragment, the
# template untouched) give its text, links, buttons and result words legible colours. A
# selector pytest-html drops later only stops matching.
_FAILED, _SKIPPED = STATUS_COLOURS[Status.FAILED], STATUS_COLOURS[Status.SKIPPED]
TEMPLATE_STYLE = f"""
<style>
body,#results-table,.filters button,.collapse button{{color:{TEXT}}}
a{{color:{LINK}}}.filters button:hover,.collapse button:hover{{color:{MUTED}}}
span.passed,.passed .col-result{{color:{STATUS_COLOURS[Status.PASSED]}}}
span.skipped,span.xfailed,span.rerun,.skipped .col-result,.xfailed .col-result,
.rerun .col-result{{color:{_SKIPPED}}}
span.error,span.failed,span.xpassed,.error .col-result,.failed .col-result,
.xpassed .col-result{{color:{_FAILED}}}
</style>
"""


def relative_luminance(colour: str) -> float:
    """WCAG 2.1's relative luminance of a #rrggbb colour."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    """WCAG 2.1's contrast ratio of two #rrggbb colours (1 to 21)."""
    light, dark = sorted(
        (relative_luminance(foreground), relative_luminance(background)), reverse=True
    )
    return (light + 0.05) / (dark + 0.05)
