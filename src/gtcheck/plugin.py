"""The pytest plugin: options, the `world`, `entry` and `step` fixtures, grading, reports.

Active only when `--participant` (one participant), `--roster FILE` or `--all` (a class)
is given, so the project's own tests are untouched. A class run parametrizes every step by
participant (`test_user_created[ana]`); participants sharing a table share one world.
The grader lives under a StashKey and never on xdist workers.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gtcheck import (
    __version__,
    accounts,
    aws,
    citizen,
    gradebook,
    gradebook_render,
    html_report,
    i18n,
    participant_page,
    workshop,
)
from gtcheck.accounts import Account
from gtcheck.budget import BURST_SECONDS, ReadBudget
from gtcheck.causes import ENVIRONMENT_CAUSES, Cause, Diagnosis, diagnosis
from gtcheck.config import Runtime, Settings, settings_from_options
from gtcheck.converge import World
from gtcheck.errors import (
    EXIT_ENVIRONMENT,
    EXIT_FAILED,
    EnvironmentProblem,
    GtcheckError,
)
from gtcheck.i18n import _
from gtcheck.redact import Redaction, credential_values
from gtcheck.report import report_path, safe_stem, write_atomically, write_json
from gtcheck.roster import Entry
from gtcheck.rubric import (
    EXERCISES,
    MARKER_HELP,
    STATUS_LABELS,
    Kind,
    Status,
    StepSpec,
    exercise_points,
    spec_of,
    status_label,
    text_bar,
)
from gtcheck.sheet import Sheet, class_exit_code, reports_exit_code
from gtcheck.verdict import Step, StepResult

GRADER_KEY = pytest.StashKey["Grader"]()
RUNTIME_KEY = pytest.StashKey[Runtime]()
STEP_KEY = pytest.StashKey["Step"]()


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    group = citizen.option_group(
        parser, pluginmanager, "gtcheck", "gtcheck: grade the DynamoDB Global Tables workshop"
    )
    if isinstance(parser, pytest.Parser):
        citizen.explain_foreign_options(parser)
    group.addoption("--participant", default=None, help="participant name N; turns grading on")
    group.addoption(
        "--roster",
        dest="gt_roster",
        default=None,
        help="grade a class: a CSV with a participant column (docs/pytest.md)",
    )
    group.addoption(
        "--all",
        dest="gt_all",
        action="store_true",
        default=False,
        help="grade a class: every participant profile in the primary region",
    )
    group.addoption("--product-id", default=None, help="the exercise 2 product id P")
    group.addoption(
        "--endpoint-url",
        dest="gt_endpoint_url",
        default=None,
        help="endpoint instead of AWS (e.g. a gtcheck sim)",
    )
    group.addoption(
        "--aws-profile",
        dest="gt_profile",
        default=None,
        help="AWS profile (gtcheck's --profile; pytest-profiling owns that name)",
    )
    group.addoption("--table", dest="gt_table", default=None, help="the workshop table")
    group.addoption(
        "--regions",
        dest="gt_regions",
        default="us-east-1,eu-west-1",
        help="comma-separated regions, the first is the primary",
    )
    group.addoption(
        "--replication-timeout",
        dest="gt_timeout",
        default="120",
        help="seconds to wait for replication in the whole run (gtcheck's --timeout; "
        "pytest-timeout owns that name)",
    )
    group.addoption(
        "--report-dir", dest="gt_report_dir", default="reports", help="where N.json is written"
    )
    group.addoption(
        "--read-budget",
        dest="gt_read_budget",
        default="0.5",
        help="fraction of the provisioned read capacity the run may use",
    )
    group.addoption(
        "--read-burst",
        dest="gt_read_burst",
        default=str(BURST_SECONDS),
        help="seconds of that rate the run may spend at once (1 to 300; default "
        f"{BURST_SECONDS:g}; 1 for a reader that runs for long, such as a class board)",
    )
    group.addoption(
        "--lang",
        dest="gt_lang",
        choices=i18n.LANGUAGES,
        default=None,
        help="language of titles, hints and reports: en or vi (default: from LANGUAGE, "
        "LC_ALL, LC_MESSAGES or LANG)",
    )


@pytest.hookimpl(tryfirst=True)  # before pytest-html reads --html
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    citizen.configure(config)
    single = config.getoption("participant")
    grading = single or config.getoption("gt_roster") or config.getoption("gt_all")
    if not grading or (single and hasattr(config, "workerinput")):
        return  # a class is graded on xdist's workers too, a participant each
    try:
        settings = settings_from_options(config.option)
    except GtcheckError as problem:
        raise pytest.UsageError(str(problem)) from None
    runtime = config.stash.get(RUNTIME_KEY, Runtime())
    previous_language = i18n.chosen_language()
    i18n.set_language(config.getoption("gt_lang") or i18n.default_language())
    if (
        getattr(config.option, "htmlpath", "missing") is None  # pytest-html on, no --html
        and not settings.grades_a_class  # one page per run: a participant's own report
    ):
        config.option.htmlpath = str(
            report_path(settings.report_dir, settings.participant, ".html")
        )
        config.option.self_contained_html = True
    grader = Grader(settings, runtime)
    grader.previous_language = previous_language
    grader.redaction = Redaction(credential_values(runtime.session)).install()
    config.stash[GRADER_KEY] = grader
    config.pluginmanager.register(grader, "gtcheck-grader")


def pytest_unconfigure(config: pytest.Config) -> None:
    grader = config.stash.get(GRADER_KEY, None)
    if grader is not None:
        grader.redaction.remove()
        i18n.set_language(grader.previous_language)
        del config.stash[GRADER_KEY]
        config.pluginmanager.unregister(grader)


class Grader:
    """Collects each step's verdict, computes the score, writes the report, sets the exit."""

    def __init__(self, settings: Settings, runtime: Runtime) -> None:
        self.settings = settings
        self.runtime = runtime
        self.specs: list[StepSpec] = []
        self.sheets: dict[str, Sheet] = {}
        self.class_reports: dict[str, dict[str, Any]] = {}  # participant -> N.json
        self.gradebook_files: list[Path] = []
        self._entries: list[Entry] | None = None
        self._worlds: dict[tuple[str | None, str | None, str | None, str], World] = {}
        self.started_at = datetime.now(UTC)
        self._monotonic = runtime.monotonic or time.monotonic  # the run's clock, injectable
        self._started = self._monotonic()
        self.environment_problem: str | None = None
        self._nodeids: dict[str, str] = {}
        self._current = ""
        self.redaction = Redaction([])
        self.live: Callable[[str], None] | None = None
        self.report_file: str | None = None
        self.previous_language: str | None = None

    # ----- who is graded, and where --------------------------------------------------------
    def entries(self) -> list[Entry]:
        """The participants of this run: one, a roster's, or every profile in the table."""
        if self._entries is None:
            settings = self.settings
            if settings.roster:
                self._entries = list(settings.roster)
            elif settings.discover_all:
                self._entries = self._discover()
            else:
                one = Entry(settings.participant, 0, product_id=settings.product_id)
                self._entries = [one]
        return self._entries

    def _discover(self) -> list[Entry]:
        """Every participant profile (near misses too) in the shared table's primary."""
        world = self.world()
        try:
            items = world.scan(world.target.primary)
        except GtcheckError as problem:
            self.environment_problem = str(problem)
            return []
        return [Entry(name, 0) for name in workshop.participants_in(items)]

    def sheet(self, participant: str) -> Sheet:
        if participant not in self.sheets:
            entry = next((e for e in self.entries() if e.participant == participant), None)
            target = self.account(entry).target if entry else self.settings.target
            self.sheets[participant] = Sheet(participant, target, self.specs)
        return self.sheets[participant]

    @property
    def results(self) -> dict[str, StepResult]:
        """One participant's results (a single check)."""
        return self.sheet(self.entries()[0].participant).results

    def report_json_path(self) -> Path:
        return report_path(self.settings.report_dir, self.settings.participant, ".json")

    def account(self, entry: Entry | None) -> Account:
        """Where `entry`'s table is read (None: the run's shared target)."""
        if entry is None:
            return Account(self.settings.target, self.runtime.session)
        target = accounts.target_for(entry, self.settings.target)
        return Account(target, accounts.session_for(entry, target, self.runtime.session))

    def table_of(self, entry: Entry | None) -> tuple[str | None, str | None, str | None, str]:
        """Which table `entry` is read in: participants with the same one share a world."""
        if entry is not None and not entry.own_account and not entry.table:
            entry = None
        return (
            entry.endpoint_url if entry else None,
            entry.profile if entry else None,
            entry.role_arn if entry else None,
            entry.table if entry and entry.table else self.settings.target.table,
        )

    def world(self, entry: Entry | None = None) -> World:
        """The world of `entry`'s table; every participant of a shared table shares it."""
        key = self.table_of(entry)
        if entry is not None and not entry.own_account and not entry.table:
            entry = None
        if key not in self._worlds:
            world = self._make_world(self.account(entry))
            world.on_wait = self._show_wait
            self._worlds[key] = world
        return self._worlds[key]

    def _make_world(self, account: Account) -> World:
        early = self.runtime.extra.get("first_look")  # a HeadStart (gtcheck.headstart)
        world = early.take(account.target) if early is not None else None
        if world is not None:
            return world
        clients = aws.Clients(account.target, account.session, read_only=True)
        for region in account.target.regions:  # made here, on the main thread: the first
            clients.dynamodb(region)  # looks of several tables run on threads
            clients.streams(region)
            clients.cloudwatch(region)
        return World(
            clients,
            timeout=self.settings.timeout,
            monotonic=self._monotonic,
            sleep=self.runtime.sleep or time.sleep,
            budget=self._budget(account),
            side_by_side=self.runtime.threads,
        )

    def _budget(self, account: Account) -> ReadBudget:
        """The table's read budget; the runtime keeps it for a caller that grades again."""
        fraction, burst = self.settings.budget_fraction, self.settings.budget_burst_s
        key = (account.key, fraction, burst)
        if key not in self.runtime.budgets:
            self.runtime.budgets[key] = ReadBudget(self._monotonic, fraction, burst)
        return self.runtime.budgets[key]

    def _show_wait(self, pending: str, seconds: float) -> None:
        """A live line while a step waits on replication (terminals only, never a log)."""
        if self.live is not None:
            line = (
                _("waiting for {step} {seconds:4.1f} s: {pending}").format(
                    step=self._current, seconds=seconds, pending=pending
                )
                if pending
                else ""
            )
            self.live(line)

    # ----- pytest hooks ----------------------------------------------------------------
    @pytest.hookimpl(trylast=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.live = live_line(session.config)
        gathered = _metadata(session.config)
        if gathered is not None:  # gathered before this grader was registered: redo it
            self.pytest_metadata(gathered, session.config)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Iterator[None]:
        spec = spec_of(item)
        self._current = spec.id if spec else item.name
        yield

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        self.specs[:] = citizen.rubric_specs(items)  # one rubric, shared by every sheet

    def participant_of(self, item: pytest.Item) -> str:
        """Whose step this item grades: its `entry` parameter in a class run."""
        callspec = getattr(item, "callspec", None)
        entry = callspec.params.get("entry") if callspec is not None else None
        return entry.participant if isinstance(entry, Entry) else self.entries()[0].participant

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Iterator[None]:
        outcome = yield
        report = outcome.get_result()
        spec = spec_of(item)
        if spec is None:
            return
        step = item.stash.get(STEP_KEY, None) or Step(spec)
        if report.when == "call" or (report.when == "setup" and not report.passed):
            sheet = self.sheet(self.participant_of(item))
            result = self._verdict(spec, step, report, call)
            sheet.results[spec.id] = result
            if result.status is Status.ERROR:
                sheet.environment_problem = sheet.environment_problem or result.hint
            self._nodeids[item.nodeid] = spec.id
            if result.status is not Status.PASSED:
                _attach_html(report, html_report.evidence(result.as_json()))
            if result.status is Status.ERROR and report.when == "call":
                # pytest (terminal, JUnit XML) tells errors from failures by the phase: an
                # environment error is an error, never a participant's failure.
                report.when = "setup"

    def _verdict(
        self, spec: StepSpec, step: Step, report: pytest.TestReport, call: pytest.CallInfo[None]
    ) -> StepResult:
        environment = call.excinfo is not None and call.excinfo.errisinstance(
            (EnvironmentProblem, aws.ReadOnlyViolation)
        )
        error_regions: tuple[str, ...] = ()
        cause: Diagnosis | None = None
        if report.passed:
            status, points = Status.PASSED, spec.points
        elif report.skipped:
            status, points = Status.SKIPPED, 0
            step.hint = step.hint or _skip_reason(report)
            cause = step.diagnosis or diagnosis(Cause.PREREQUISITE)
        elif environment:
            status, points = Status.ERROR, 0
            step.hint = str(call.excinfo.value) if call.excinfo else step.hint
            error_regions = getattr(call.excinfo.value, "regions", ()) if call.excinfo else ()
            self.environment_problem = self.environment_problem or step.hint
            cause = _environment_cause(step)
        elif report.when == "setup":
            status, points = Status.ERROR, 0
            step.hint = step.hint or _("the check could not start: {error}").format(
                error=report.longreprtext[-300:]
            )
            cause = _environment_cause(step)
        else:
            status, points = Status.FAILED, min(step.points, spec.points)
            if step.hint is None:
                step.hint = _failure_text(report)
            # Every check names its cause; a bare assert that fails is the check's own
            # trouble, not a mistake of the participant's.
            cause = step.diagnosis or diagnosis(Cause.ENVIRONMENT)
        return StepResult(
            spec,
            status,
            points,
            step.hint,
            step.waited_s,
            step.evidence,
            step.found or report.passed,
            error_regions,
            None if cause is None else cause.cause,
        )

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if exitstatus in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERNAL_ERROR):
            return
        if exitstatus == pytest.ExitCode.INTERRUPTED:
            return
        if self.settings.grades_a_class:
            self._finish_class(session.config)
        else:
            path = write_json(self.settings.report_dir, self.report())
            self.report_file = str(path)
        session.exitstatus = self.exit_code()

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.settings.grades_a_class:
            self._class_summary(terminalreporter)
            return
        write = terminalreporter.write_line
        terminalreporter.section("gtcheck: " + self.settings.participant)
        width = max(len(status_label(status)) for status in STATUS_LABELS)
        for spec in self.specs:
            result = self.results.get(spec.id)
            if result is None:
                continue
            write(
                f"{status_label(result.status):{width}} {result.points:>3}/{spec.points:<3} "
                f"{spec.id:26} {_(spec.title)}"
            )
            if result.hint and result.status is not Status.PASSED:
                write(f"{'':{width + 6}}-> {result.hint}")
        steps = [result.as_json() for result in self.results.values()]
        for exercise, (earned, possible) in sorted(exercise_points(steps).items()):
            name = _(EXERCISES[exercise]) if exercise in EXERCISES else ""
            label = _("Exercise {number}").format(number=exercise)
            write(f"{label:12} {text_bar(earned, possible)} {earned:>3}/{possible:<3} {name}")
        score, maximum = self.score()
        line = _("score {score} / {maximum}").format(score=score, maximum=maximum)
        if self.report_file:
            line += "   " + _("report: {path}").format(path=self.report_file)
        write(line)

    def _finish_class(self, config: pytest.Config) -> None:
        """Each participant's N.json and N.html, written once, by whoever graded them.

        In one process that is this grader, for every participant (one with no step run
        still gets a report). Under pytest-xdist each worker writes the participants it
        graded, and the controller, which ran no step, reads their reports back.
        """
        worker = hasattr(config, "workerinput")
        controller = not worker and config.pluginmanager.has_plugin("dsession")
        if controller:
            for entry in self.entries():
                path = report_path(self.settings.report_dir, entry.participant, ".json")
                if path.exists():
                    self.class_reports[entry.participant] = json.loads(path.read_text("utf-8"))
            self._write_gradebook()
            return
        if not worker:
            for entry in self.entries():
                self.sheet(entry.participant)
        for sheet in self.sheets.values():
            if worker and not sheet.results:
                continue  # graded by another worker: never a false, empty report
            data = self.sheet_report(sheet)
            write_json(self.settings.report_dir, data)
            html_path = report_path(self.settings.report_dir, sheet.participant, ".html")
            write_atomically(html_path, participant_page.page(data))
            self.class_reports[sheet.participant] = data
        if not worker:
            self._write_gradebook()

    def _write_gradebook(self) -> None:
        """gradebook.json, .csv and .html of the participants graded in this run."""
        if not self.specs and self.class_reports:  # an xdist controller collects nothing
            self.specs[:] = specs_of_report(next(iter(self.class_reports.values())))
        rows = [
            gradebook.participant_row(
                report,
                self.specs,
                source=gradebook.GRADED,
                link=f"{safe_stem(participant)}.json",
            )
            for participant, report in self.class_reports.items()
        ]
        target = self.settings.target
        document = gradebook.document(
            rows,
            self.specs,
            table=target.table,
            regions=target.regions,
            started_at=self.started_at.isoformat(timespec="seconds"),
            duration_s=round(self._monotonic() - self._started, 3),
            lang=i18n.language(),
        )
        self.gradebook_files = gradebook_render.write(
            self.settings.report_dir, document, refresh_s=self.runtime.extra.get("refresh_s")
        )

    def _class_summary(self, terminalreporter: Any) -> None:
        """A line per participant: score, a bar, and the first step that did not pass."""
        write = terminalreporter.write_line
        reports = self.class_reports
        terminalreporter.section(_("gtcheck: a class of {count}").format(count=len(reports)))
        if not reports and self.environment_problem:
            write(self.environment_problem)
        width = max((len(name) for name in reports), default=0)
        for name, report in sorted(reports.items()):
            first = next(
                (
                    f"{step['id']} {status_label(step['status'])}"
                    for step in report["steps"]
                    if step["status"] != Status.PASSED and step["kind"] != "info"
                ),
                "",
            )
            score, maximum = report["score"], report["max_score"]
            write(f"{name:{width}} {text_bar(score, maximum)} {score:>3}/{maximum:<3} {first}")
        write(_("reports: {path}").format(path=self.settings.report_dir))

    # ----- pytest-html ---------------------------------------------------------------------
    @pytest.hookimpl(optionalhook=True)
    def pytest_html_report_title(self, report: Any) -> None:
        report.title = f"gtcheck: {self.settings.participant}"  # the template escapes it

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_summary(
        self, prefix: list[str], summary: list[str], postfix: list[str], session: pytest.Session
    ) -> None:
        data = self.report()
        prefix.append(html_report.template_fixes())
        prefix.extend([html_report.header(data), html_report.environment(data)])
        prefix.append(html_report.cloudwatch_latency(data))

    @pytest.hookimpl(optionalhook=True)
    def pytest_metadata(self, metadata: dict[str, Any], config: pytest.Config) -> None:
        """The report's Environment table: what the run checked, not the Python it ran on."""
        target = self.settings.target
        metadata.clear()  # pytest-metadata may have gathered it before this grader existed
        metadata.update(
            {
                "gtcheck": __version__,
                _("Endpoint"): target.endpoint_url
                or self.runtime.extra.get("endpoint")
                or _("AWS (from the usual sources)"),
                _("Table"): target.table,
                _("Regions"): ", ".join(target.regions),
                _("Replication timeout"): f"{self.settings.timeout:g} s",
            }
        )

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_header(self, cells: list[str]) -> None:
        cells[2:2] = html_report.header_cells()

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_row(self, report: pytest.TestReport, cells: list[str]) -> None:
        step_id = self._nodeids.get(report.nodeid)
        result = self.results.get(step_id) if step_id else None
        if result is None:
            cells[2:2] = html_report.empty_cells()
            return
        cells[2:2] = html_report.cells(result.as_json())

    # ----- grading -----------------------------------------------------------------------
    def score(self) -> tuple[int, int]:
        return self.sheet(self.entries()[0].participant).score()

    def exit_code(self) -> int:
        """The run's exit: the worst participant's (no participant found: environment)."""
        if not self.entries():
            return EXIT_ENVIRONMENT if self.environment_problem else EXIT_FAILED
        if self.class_reports:
            return reports_exit_code(list(self.class_reports.values()))
        return class_exit_code([self.sheet(entry.participant) for entry in self.entries()])

    def report(self) -> dict[str, Any]:
        """A single check's report (the one participant's sheet)."""
        return self.sheet_report(self.sheet(self.entries()[0].participant))

    def sheet_report(self, sheet: Sheet) -> dict[str, Any]:
        return sheet.report(
            started_at=self.started_at.isoformat(timespec="seconds"),
            duration_s=round(self._monotonic() - self._started, 3),
            lang=i18n.language(),
        )

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        """Before any fixture reads AWS: skip a step whose prerequisite failed, and mark it
        error when a prerequisite could not be judged."""
        spec = spec_of(item)
        if spec is None:
            return
        sheet = self.sheet(self.participant_of(item))
        for required in spec.requires:
            result = sheet.results.get(required)
            if result is None:
                continue
            if result.status is Status.ERROR:
                confined = result.error_regions
                if spec.primary_only and confined and sheet.target.primary not in confined:
                    continue  # the problem is in regions this step does not read
                _prerequisite(item, spec, diagnosis(Cause.ENVIRONMENT, requires=required))
                raise EnvironmentProblem(
                    _("not judged: {step} could not be checked: {reason}").format(
                        step=required, reason=result.hint
                    ),
                    regions=confined,
                )
            if result.status is not Status.PASSED and not result.found:
                _prerequisite(item, spec, diagnosis(Cause.PREREQUISITE, requires=required))
                pytest.skip(
                    _("skipped: needs {step} ({title})").format(
                        step=required, title=_(result.spec.title)
                    )
                )


def _prerequisite(item: pytest.Item, spec: StepSpec, cause: Diagnosis) -> None:
    """Why a step will not run, kept where its verdict is made."""
    step = Step(spec)
    step.diagnose(cause)
    item.stash[STEP_KEY] = step


def _environment_cause(step: Step) -> Diagnosis:
    """An error's cause: the check's own when it named an environment cause (a missing
    replica), else `environment`."""
    found = step.diagnosis
    if found is not None and found.cause in ENVIRONMENT_CAUSES:
        return found
    return diagnosis(Cause.ENVIRONMENT)


# ----- fixtures -------------------------------------------------------------------------
def _grader(request: pytest.FixtureRequest) -> Grader:
    grader = request.config.stash.get(GRADER_KEY, None)
    if grader is None:
        pytest.skip(_("gtcheck checks need --participant NAME"))
    return grader


@pytest.fixture(scope="session")
def settings(request: pytest.FixtureRequest) -> Settings:
    """The run's validated settings."""
    return _grader(request).settings


@pytest.fixture(scope="session")
def entry(request: pytest.FixtureRequest) -> Entry:
    """The participant these steps grade (a class run parametrizes it, one per row)."""
    return _grader(request).entries()[0]


@pytest.fixture(scope="session")
def world(request: pytest.FixtureRequest, entry: Entry) -> World:
    """Everything read from the participant's table, shared by every step and by every
    participant of that table, one deadline."""
    return _grader(request).world(entry)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A class run: every step once per participant, `ex1.user_created[ana]`."""
    grader = metafunc.config.stash.get(GRADER_KEY, None)
    if grader is None or not grader.settings.grades_a_class:
        return
    if "entry" in metafunc.fixturenames:
        entries = grader.entries()
        metafunc.parametrize(
            "entry", entries, ids=[e.participant for e in entries], scope="session"
        )


@pytest.fixture
def step(request: pytest.FixtureRequest) -> Step:
    """This check's rubric step: records points, hint and evidence for the report."""
    _grader(request)
    spec = spec_of(request.node)
    if spec is None:
        raise pytest.UsageError(f"{request.node.nodeid} uses `step` without @pytest.mark.rubric")
    step = Step(spec)
    request.node.stash[STEP_KEY] = step
    return step


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return _("skipped")


def _failure_text(report: pytest.TestReport) -> str:
    text = report.longreprtext.strip().splitlines()
    return text[-1][:500] if text else _("failed")


def specs_of_report(report: dict[str, Any]) -> list[StepSpec]:
    """The rubric as a report lists it, for a process that collected no step itself."""
    return [
        StepSpec(
            id=step["id"],
            points=step["max_points"],
            exercise=step["exercise"],
            title=step["title"],
            kind=Kind(step["kind"]),
        )
        for step in report["steps"]
    ]


def _metadata(config: pytest.Config) -> dict[str, Any] | None:
    """pytest-metadata's dict for this run (pytest-html's Environment table), if loaded."""
    try:
        from pytest_metadata.plugin import metadata_key
    except ImportError:
        return None
    return config.stash.get(metadata_key, None)


def _attach_html(report: pytest.TestReport, fragment: str) -> None:
    """Add an HTML extra to a report row when pytest-html is there to show it."""
    try:
        from pytest_html import extras
    except ImportError:  # pragma: no cover - pytest-html is a dependency
        return
    report.extras = [*getattr(report, "extras", []), extras.html(fragment)]


def live_line(config: pytest.Config) -> Callable[[str], None] | None:
    """A writer that redraws one terminal line in place, or None when not on a terminal."""
    writer = config.get_terminal_writer()
    capture = config.pluginmanager.getplugin("capturemanager")
    if not writer.hasmarkup:  # a terminal that understands redrawing a line
        return None

    def show(line: str) -> None:
        width = max(20, writer.fullwidth - 1)
        text = line[:width]
        with capture.global_and_fixture_disabled():
            writer.write("\r" + text + "\x1b[K", flush=True)

    return show
