"""One validation run: its settings, its injected time, and each part's result as data.

The parts (environment, bot, latency, scenarios, clean-up) are methods the validation
tests call in order; each records what it found and never raises for what it judges, so
the report holds every part whatever happened. The clean-up runs once, whoever asks first:
its test, the session's teardown (Ctrl-C, SIGTERM) or the command's own `finally`; one
stopped mid-way is started over by the next of them.
"""

from __future__ import annotations

import argparse
import io
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from gtcheck import bundled, check, marks, plugin, probe, scenarios
from gtcheck.aws import make_session
from gtcheck.bot import solve
from gtcheck.bot.runner import Runner, quiet
from gtcheck.config import Runtime
from gtcheck.errors import (
    GtcheckError,
    ReplicationTimeout,
)
from gtcheck.i18n import _
from gtcheck.overlap import Overlap
from gtcheck.target import Target
from gtcheck.templates import Placeholders
from gtcheck.turns import RealTurns, Turns, VirtualTurns
from gtcheck.validation import cloudwatch, environment
from gtcheck.validation.ledger import Ledger, Removal, SpiedClients, remove
from gtcheck.validation.spend import Spend

SCHEMA = "gtcheck.validation/1"
PASSED, FAILED, ERROR = "passed", "failed", "error"
ENV_STEPS = ("env.table", "env.replicas", "env.indexes", "env.streams")
BOT_PREFIX = "gtcheck-bot-"
BOT_REPORTS = "validation-bot"  # folder under --report-dir
MAX_PROBES = 1000
DEFAULT_PROBES = 20
CLEANUP_GRACE_S = 5.0  # past the run's deadline, the clean-up still waits this long


class NotMeasured(NamedTuple):
    """Why the probes gave no figures."""

    status: str
    detail: str


@dataclass
class Settings:
    """What `gtcheck validate` (or the plugin's options) asked for."""

    target: Target
    probes: int = DEFAULT_PROBES
    timeout: float = 120.0
    report_dir: Path = Path("reports")


@dataclass
class ValidationRun:
    """The run's state: what each part found, and what was written."""

    settings: Settings
    runtime: Runtime
    run_id: str = field(default_factory=marks.new_run_id)
    checks: list[dict[str, Any]] = field(default_factory=list)
    latency: dict[str, dict[str, Any]] = field(default_factory=dict)
    scenarios: list[dict[str, Any]] = field(default_factory=list)
    removal: Removal | None = None
    ledger: Ledger = field(default_factory=Ledger)
    ready: bool = False
    interrupted: bool = False
    solved: bool = False
    bot_graded: bool = False  # the bot's report was written
    environment_problem: str | None = None
    phases_s: dict[str, list[float]] = field(default_factory=dict)  # part -> [start, end]

    def __post_init__(self) -> None:
        self.monotonic: Callable[[], float] = self.runtime.monotonic or time.monotonic
        injected = self.runtime.sleep
        self.turns: Turns = (
            VirtualTurns(injected, self.monotonic) if injected is not None else RealTurns()
        )
        self.overlap = Overlap(self.turns, self.turns.sleep)
        self.probes_out = threading.Event()
        self.sleep: Callable[[float], None] = self.overlap.sleep  # ends a part when stopping
        self.now: Callable[[], float] = self.runtime.extra.get("now") or marks.wall_clock
        self.started = self.monotonic()
        self.started_at = datetime.fromtimestamp(self.now(), tz=UTC)
        self.session = self.runtime.session or make_session(self.settings.target)
        self.spend = Spend(
            self.target.table, self.target.regions, self.monotonic, self.turns.sleep, self.run_id
        )
        self.deadline = self.started + self.settings.timeout  # the whole run's, shared
        self.spend.deadline = self.deadline
        self.spend.register(self.session)  # before any client is made: they all keep to it
        # The login scenario times an arrival by reading, and the inventory's decrements
        # must meet inside one replication window: their requests are not held.
        self.spend.unheld_reads.add(self._scenario_pk("login"))
        self.spend.unheld_writes.add(self._scenario_pk("inventory"))
        self.clients = SpiedClients(
            self.settings.target, self.session, read_only=False, ledger=self.ledger
        )

    def _scenario_pk(self, name: str) -> str:
        return str(marks.scenario_key(self.run_id, name)["PK"]["S"])

    @property
    def target(self) -> Target:
        return self.settings.target

    @property
    def bot(self) -> str:
        """The bot participant: unique per run, so its items are the run's own."""
        return f"{BOT_PREFIX}{self.run_id}"

    @property
    def bot_report_dir(self) -> Path:
        """The bot's own report, in a folder of its own: `grade --collect` of the class's
        report folder must not take the bot for a participant."""
        return self.settings.report_dir / BOT_REPORTS

    def remaining(self) -> float:
        """Seconds left before the run's one deadline: every part waits inside it, so a
        run ends by --timeout (plus the clean-up's grace) whatever fails."""
        return max(self.deadline - self.monotonic(), 0.0)

    def runner(self, timeout: float | None = None) -> Runner:
        """A runner whose deadline is the run's (or `timeout` from now)."""
        return Runner(
            self.clients,
            self.target,
            self.sleep,
            self.monotonic,
            self.remaining() if timeout is None else timeout,
            quiet,
        )

    def _timed_out(self) -> str:
        return _("the run's {seconds} s timeout had passed").format(
            seconds=f"{self.settings.timeout:g}"
        )

    def record(self, check_id: str, status: str, detail: str) -> str:
        self.checks.append({"id": check_id, "status": status, "detail": detail})
        if status == ERROR and self.environment_problem is None:
            self.environment_problem = detail
        return status

    # ----- 1. the environment ------------------------------------------------------------
    def environment(self) -> list[dict[str, Any]]:
        """Wait until the table and every replica are ACTIVE (or the deadline), then run
        the workshop's own environment steps."""
        with self.phase("environment"):
            self._environment()
        if self.ready:
            self.start_parts()
        return self.checks

    def _environment(self) -> None:
        seen: dict[str, str] = {}
        try:
            waited = environment.wait_ready(self.runner(), self.sleep, seen)
            for region in self.target.regions:
                table = self.runner().request(region, "describe_table")["Table"]
                self.spend.provision(region, table.get("ProvisionedThroughput") or {})
        except GtcheckError as problem:
            self.record("env.replicas", ERROR, str(problem))
            return
        _code, report = self.grade(self.bot, env_only=True)
        for step in report.get("steps", []):
            if step["id"] not in ENV_STEPS:
                continue
            status = {"passed": PASSED, "failed": FAILED}.get(step["status"], ERROR)
            detail = step.get("hint") or step.get("title") or ""
            if step["id"] == "env.replicas" and status == PASSED:
                detail = _("{regions} ACTIVE (waited {seconds} s)").format(
                    regions=", ".join(self.target.regions), seconds=round(waited, 1)
                )
                if seen:
                    detail += "; " + _("was {states}").format(
                        states=", ".join(f"{r} {s}" for r, s in seen.items())
                    )
            self.record(step["id"], status, detail)
        self.ready = bool(report) and all(c["status"] == PASSED for c in self.checks)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Note when a part ran, in seconds from the run's start: where the time goes."""
        start = self.monotonic() - self.started
        try:
            yield
        finally:
            end = self.monotonic() - self.started
            self.phases_s[name] = [round(start, 3), round(end, 3)]

    def _timed(self, name: str, work: Callable[[], Any]) -> Callable[[], Any]:
        def timed() -> Any:
            with self.phase(name):
                return work()

        return timed

    def start_parts(self) -> None:
        """The probes, the bot and every scenario run side by side: each mostly waits for
        replication, so together they take about as long as the longest. The others start
        once the probes' waves are out, so nothing bunches them."""
        self.overlap.start("latency", self._timed("latency", self._measure))
        self.overlap.wait(self.probes_out, "latency")  # the waves go out undisturbed
        self.overlap.start("bot", self._timed("bot.solved", self._solve))
        for scenario_id in scenarios.SCENARIOS:
            play = self._timed(scenario_id, lambda s=scenario_id: self._play(s))
            self.overlap.start(scenario_id, play)

    def _awaited(self, name: str, work: Callable[[], Any]) -> Any:
        """A started part's result (waiting for it), else the part run here and now."""
        return self.overlap.result(name) if self.overlap.started(name) else work()

    # ----- 2. the bot ----------------------------------------------------------------------
    def solve_bot(self) -> str:
        status, detail = self._awaited("bot", self._solve)
        if status == PASSED:
            self.solved = True
        return self.record("bot.solved", status, detail)

    def _solve(self) -> tuple[str, str]:
        """`gtcheck solve` of the bot (a part of its own): its status and detail."""
        if self.remaining() <= 0:
            return FAILED, _("not run: {why}").format(why=self._timed_out())
        try:
            solve(
                self.clients,
                self.target,
                Placeholders(participant=self.bot, product_id=self.bot),
                timeout=self.remaining(),
                sleep=self.sleep,
                monotonic=self.monotonic,
                now=self.now,
                consistent=False,  # waiting at half the read capacity: the probes time
            )
        except ReplicationTimeout as problem:
            return FAILED, str(problem)
        except GtcheckError as problem:
            return ERROR, str(problem)
        return PASSED, _("{bot} performed every workshop step").format(bot=self.bot)

    def grade_bot(self) -> str:
        with self.phase("bot.graded"):
            _code, report = self.grade(self.bot)
        if not report:
            return self.record("bot.graded", ERROR, _("the bot's check did not run"))
        self.bot_graded = True
        counted = [s for s in report["steps"] if s["kind"] != "info"]
        missed = [f"{s['id']} {s['status']}" for s in counted if s["status"] != "passed"]
        if not missed:
            detail = _("{bot}: {score}/{max_score}, every graded step passed").format(
                bot=self.bot, score=report["score"], max_score=report["max_score"]
            )
            return self.record("bot.graded", PASSED, detail)
        detail = _("{bot}: {score}/{max_score}; not passed: {steps}").format(
            bot=self.bot,
            score=report["score"],
            max_score=report["max_score"],
            steps=", ".join(missed),
        )
        errors = any(s["status"] == "error" for s in counted)
        return self.record("bot.graded", ERROR if errors else FAILED, detail)

    def grade(self, participant: str, *, env_only: bool = False) -> tuple[int, dict[str, Any]]:
        """`gtcheck check` of `participant`, in process, on this run's session and clock."""
        with tempfile.TemporaryDirectory(prefix="gtcheck-validate-") as scratch:
            args = argparse.Namespace(
                participant=participant,
                product_id=participant,
                endpoint_url=self.target.endpoint_url,
                profile=None,
                table=self.target.table,
                regions=self.target.regions,
                timeout=self.remaining(),
                report_dir=Path(scratch) if env_only else self.bot_report_dir,
                no_html=env_only,
                lang=None,
            )
            argv = check.pytest_args(args)
            if env_only:
                argv[0] = str(bundled.checks_dir() / "test_env.py")
            inject = check.Inject(
                Runtime(
                    session=self.session,
                    monotonic=self.monotonic,
                    sleep=self.sleep,
                    threads=isinstance(self.turns, RealTurns),  # threads not in its turns
                )
            )
            with check.own_pytest(), redirect_stdout(io.StringIO()):
                status = pytest.main(argv, plugins=[plugin, inject])
            if status == pytest.ExitCode.INTERRUPTED:
                raise KeyboardInterrupt  # the inner run swallowed Ctrl-C: stop this one too
            grader = inject.grader
            if grader is None:
                return 2, {}
            return grader.exit_code(), grader.report()

    # ----- 3. latency ----------------------------------------------------------------------
    def measure_latency(self) -> str:
        measured = self._awaited("latency", self._measure)
        if isinstance(measured, NotMeasured):
            return self.record("latency", measured.status, measured.detail)
        summaries, window = measured
        stuck = []
        for direction, summary in summaries.items():
            entry = summary.as_json()
            receiving = direction.split("->")[1]
            entry["cloudwatch_avg"] = cloudwatch.average(
                self.clients, self.target, receiving, window
            )
            entry["within_page_claim"] = summary.within_page_claim
            entry["sent"] = summary.sent
            entry["probes"] = [
                {"latency_ms": s.latency_ms, "resolution_ms": s.resolution_ms}
                for s in summary.probes
            ]
            self.latency[direction] = entry
            if summary.not_arrived or summary.unconfirmed:
                stuck.append(
                    _("{direction}: {missing} of {sent} probes did not arrive").format(
                        direction=direction,
                        missing=summary.not_arrived + summary.unconfirmed,
                        sent=summary.sent,
                    )
                )
        if stuck:
            return self.record(
                "latency",
                FAILED,
                _("replication stuck: {directions}").format(directions="; ".join(stuck)),
            )
        shown = "; ".join(
            _("{direction} p50 {p50} ms").format(direction=d, p50=e["p50"])
            for d, e in self.latency.items()
        )
        return self.record("latency", PASSED, shown)

    def _measure(self) -> tuple[dict[str, probe.Summary], tuple[float, float]] | NotMeasured:
        """The probes (a part of its own): the summaries and their window."""
        if self.remaining() <= 0:
            return NotMeasured(FAILED, _("not run: {why}").format(why=self._timed_out()))
        window_start = self.now()
        try:
            summaries = probe.measure(
                self.clients,
                self.target,
                self.settings.probes,
                timeout=self.remaining(),
                sleep=self.sleep,
                monotonic=self.monotonic,
                now=self.now,
                run_id=self.run_id,
                settle=self.ledger.settle,
                out=self.probes_out.set,
                reads=self.spend.reads,
                writes=self.spend.writes,
                metered=True,
            )
        except GtcheckError as problem:
            return NotMeasured(ERROR, str(problem))
        return summaries, (window_start, self.now())

    # ----- 4. scenarios --------------------------------------------------------------------
    def play(self, scenario_id: str) -> str:
        verdict = self._awaited(scenario_id, lambda: self._play(scenario_id))
        self.scenarios.append(verdict.as_json())
        return verdict.status

    def _play(self, scenario_id: str) -> scenarios.Verdict:
        """One scenario (a part of its own), inside the run's deadline."""
        if self.remaining() <= 0:
            return scenarios.Verdict(
                scenario_id, FAILED, scenarios.NOT_RUN, {"problem": self._timed_out()}
            )
        stage = scenarios.Stage(
            self.runner(), self.run_id, marks.expires_at(self.now()), self._noted, self.now
        )
        return scenarios.SCENARIOS[scenario_id](stage)

    def _noted(self, region: str, key: dict[str, Any]) -> None:
        """The spied clients note every put; nothing more to do here."""

    # ----- 5. clean-up -----------------------------------------------------------------------
    def clean_up(self) -> Removal:
        """Remove everything written, once; a clean-up stopped mid-way (Ctrl-C, SIGTERM)
        is started over by the next caller, so nothing is left for want of one."""
        if self.removal is None:
            self.overlap.stop()  # every part ended: nothing is written after this
            self.removal = Removal()
            try:
                grace = max(self.remaining(), CLEANUP_GRACE_S)
                runner = self.runner(grace)
                runner.sleep = self.turns.sleep  # the clean-up goes on while stopping
                with self.phase("cleanup"):
                    self.removal = remove(runner, self.ledger, self.run_id)
            except KeyboardInterrupt:
                self.removal = None  # not done: the session's teardown or `finally` redoes it
                raise
            except GtcheckError as problem:
                self.removal = Removal(
                    written=len(self.ledger.written) * len(self.target.regions),
                    left=len(self.ledger.written) * len(self.target.regions),
                    problem=str(problem),
                )
        return self.removal

    def record_cleanup(self) -> str:
        removal = self.clean_up()
        if removal.problem:
            return self.record("cleanup", ERROR, removal.problem)
        detail = _("{deleted} of {written} item copies deleted, {left} left").format(
            deleted=removal.deleted, written=removal.written, left=removal.left
        )
        if removal.changed:
            detail += "; " + _("changed by another process, not deleted: {keys}").format(
                keys=", ".join(removal.changed)
            )
        return self.record("cleanup", PASSED if removal.left == 0 else FAILED, detail)

    # ----- the document ------------------------------------------------------------------------
    def statuses(self) -> list[str]:
        return [c["status"] for c in self.checks] + [s["status"] for s in self.scenarios]

    def exit_code(self) -> int:
        """3 for an environment error, 1 for a failure, 2 when stopped (as Ctrl-C is)."""
        if self.interrupted:
            return 2
        statuses = self.statuses()
        if ERROR in statuses:
            return 3
        if FAILED in statuses or not statuses:
            return 1
        return 0

    def document(self) -> dict[str, Any]:
        removal = self.removal or Removal()
        return {
            "schema": SCHEMA,
            "ok": self.exit_code() == 0,
            "table": self.target.table,
            "regions": list(self.target.regions),
            "started_at": self.started_at.isoformat(timespec="seconds"),
            "duration_s": round(self.monotonic() - self.started, 3),
            "lang": _lang(),
            "interrupted": self.interrupted,
            "run_id": self.run_id,
            "bot": self.bot,
            "bot_report": f"{BOT_REPORTS}/{self.bot}.html" if self.bot_graded else None,
            "page_claim_ms": probe.PAGE_CLAIM_MS,
            "checks": self.checks,
            "latency_ms": self.latency,
            "scenarios": self.scenarios,
            "cleanup": removal.as_json(),
            "units_spent": self.spend.spent(),
            "phases_s": dict(self.phases_s),
        }


def _lang() -> str:
    from gtcheck.i18n import language

    return language()
