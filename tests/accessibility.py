"""axe-core's WCAG 2.1 AA rules run on a page in real headless Chromium, for any report test.

The page is opened as a person would open it (its own scripts have run), axe-core is
injected from tests/node_modules (installed from tests/package-lock.json by
`scripts/bootstrap --browser`), and its violations come back with the selectors of their
nodes. Chromium is driven through Debian's chromedriver with a fresh profile each run.
Without Chromium, chromedriver or axe-core the tests skip, except in CI (CI=true), which
installs all three and must not pass by skipping them.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests import browser

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
CHROMEDRIVER = shutil.which("chromedriver")
TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
SERIOUS = frozenset({"serious", "critical"})
TIMEOUT_S = 60
REQUIRED = os.environ.get("CI") == "true"

try:
    from selenium import webdriver
except ImportError:  # pragma: no cover - selenium is in the test extras
    webdriver = None  # type: ignore[assignment]


def missing() -> str | None:
    """Why axe cannot run here, or None when it can."""
    if browser.CHROMIUM is None:
        return "chromium is not installed (scripts/bootstrap --browser installs it)"
    if CHROMEDRIVER is None:
        return "chromedriver is not installed (scripts/bootstrap --browser installs it)"
    if not AXE.is_file():
        return "axe-core is not installed (scripts/bootstrap --browser runs npm ci in tests/)"
    if webdriver is None:
        return "selenium is not installed (pip install -e '.[test]')"
    return None


needs_axe = pytest.mark.skipif(missing() is not None and not REQUIRED, reason=missing() or "")

# Runs axe on the document; for every node also says whether it lies inside `mark`
# (a CSS selector, e.g. the parts of the page that one program wrote).
RUN = """
const [tags, mark, done] = arguments;
axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})
  .then(result => done(result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => {
      const selector = n.target.map(t => Array.isArray(t) ? t.join(' >>> ') : t);
      let element = null;
      try { element = document.querySelector(selector[selector.length - 1]); } catch (e) {}
      return {target: selector.join(' | '), html: n.html,
              marked: Boolean(mark && element && element.closest(mark))};
    }),
  }))))
  .catch(error => done({error: String(error)}));
"""


@dataclass(frozen=True)
class AxeNode:
    """One element a rule failed on: its CSS selector and the start of its markup."""

    target: str
    html: str
    marked: bool  # inside the `mark` selector given to violations()


@dataclass(frozen=True)
class Violation:
    """One failed axe rule and every node it failed on."""

    id: str
    impact: str
    help: str
    nodes: tuple[AxeNode, ...]

    @property
    def targets(self) -> tuple[str, ...]:
        return tuple(node.target for node in self.nodes)

    def summary(self) -> str:
        shown = "; ".join(f"{n.target} {n.html[:120]}" for n in self.nodes[:8])
        more = f" (+{len(self.nodes) - 8} more)" if len(self.nodes) > 8 else ""
        return f"{self.impact} {self.id} ({self.help}): {len(self.nodes)} nodes: {shown}{more}"


def violations(page: Path, *, mark: str | None = None) -> list[Violation]:
    """axe-core's WCAG 2.1 A and AA violations of `page` (a local file) after its scripts ran.

    `mark`, a CSS selector, flags the nodes inside it (`AxeNode.marked`), so a test can
    hold its own fragments to a stricter standard than a template it does not own.
    """
    reason = missing()
    if reason:
        (pytest.fail if REQUIRED else pytest.skip)(reason)
    found = _run_axe(page, mark)
    if isinstance(found, dict):
        raise RuntimeError(f"axe-core failed on {page}: {found.get('error')}")
    return [
        Violation(
            v["id"],
            v["impact"] or "",
            v["help"],
            tuple(AxeNode(n["target"], n["html"], n["marked"]) for n in v["nodes"]),
        )
        for v in found
    ]


def _run_axe(page: Path, mark: str | None) -> Any:
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    with tempfile.TemporaryDirectory(prefix="gtcheck-axe-", ignore_cleanup_errors=True) as home:
        options = Options()
        options.binary_location = str(browser.CHROMIUM)
        for flag in (*browser.BASE_FLAGS, f"--user-data-dir={home}", "--window-size=1280,2000"):
            options.add_argument(flag)
        # The driver's own path given: Selenium Manager is never asked to fetch one.
        driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
        try:
            driver.set_page_load_timeout(TIMEOUT_S)
            driver.set_script_timeout(TIMEOUT_S)
            driver.get(page.resolve().as_uri())
            driver.execute_script(AXE.read_text(encoding="utf-8"))
            return driver.execute_async_script(RUN, list(TAGS), mark)
        finally:
            driver.quit()


def counts(found: list[Violation]) -> dict[str, int]:
    """Nodes by impact, as axe's own summary counts them."""
    totals: dict[str, int] = {}
    for violation in found:
        totals[violation.impact] = totals.get(violation.impact, 0) + len(violation.nodes)
    return totals
