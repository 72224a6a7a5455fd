"""The pytest plugin of a validation run: its options, the run as a fixture, the report.

`gtcheck validate` loads it for its own pytest run; plain pytest can too:
`pytest -p gtcheck.validation.plugin --pyargs gtcheck.validation --endpoint-url URL`.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

import pytest

from gtcheck import argtypes
from gtcheck.config import Runtime
from gtcheck.errors import EnvironmentProblem, UsageError
from gtcheck.plugin import RUNTIME_KEY
from gtcheck.target import Target
from gtcheck.validation import page
from gtcheck.validation.run import DEFAULT_PROBES, MAX_PROBES, Settings, ValidationRun
from gtcheck.workshop import DEFAULT_REGIONS, WORKSHOP_TABLE, parse_regions

RUN_KEY = pytest.StashKey[ValidationRun]()


def probe_count(text: str) -> int:
    """Probes per direction: a whole number from 1 to MAX_PROBES."""
    try:
        value = int(text)
    except ValueError:
        raise UsageError(f"--probes must be a whole number, got {text!r}") from None
    if not 1 <= value <= MAX_PROBES:
        raise UsageError(f"--probes must be between 1 and {MAX_PROBES}, got {value}")
    return value


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gtcheck-validate", "gtcheck validate")
    group.addoption("--endpoint-url", dest="gv_endpoint_url", default=None)
    group.addoption("--aws-profile", dest="gv_profile", default=None)
    group.addoption("--table", dest="gv_table", default=WORKSHOP_TABLE)
    group.addoption("--regions", dest="gv_regions", default=",".join(DEFAULT_REGIONS))
    group.addoption("--replication-timeout", dest="gv_timeout", default="120")
    group.addoption("--report-dir", dest="gv_report_dir", default="reports")
    group.addoption("--probes", dest="gv_probes", default=str(DEFAULT_PROBES))


def settings_from(config: pytest.Config) -> Settings:
    option = config.option
    try:
        timeout = argtypes._seconds(option.gv_timeout)
        return Settings(
            target=Target(
                table=option.gv_table,
                regions=parse_regions(option.gv_regions),
                endpoint_url=option.gv_endpoint_url,
                profile=option.gv_profile,
            ),
            probes=probe_count(option.gv_probes),
            timeout=timeout,
            report_dir=Path(option.gv_report_dir),
        )
    except UsageError as problem:
        raise pytest.UsageError(str(problem)) from None


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    if RUN_KEY in config.stash:
        return
    runtime = config.stash.get(RUNTIME_KEY, None) or Runtime()
    config.stash[RUN_KEY] = ValidationRun(settings_from(config), runtime)


@pytest.fixture(scope="session")
def validation(request: pytest.FixtureRequest) -> Generator[ValidationRun, None, None]:
    """The run; its clean-up also runs at teardown, so an interrupted run removes what it
    wrote too."""
    run = request.config.stash[RUN_KEY]
    try:
        yield run
    finally:
        run.clean_up()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A part the environment kept from running is reported in the setup phase, which is
    how pytest (terminal, JUnit XML) tells an error from a failure."""
    report = yield
    if (
        report.when == "call"
        and report.failed
        and call.excinfo is not None
        and call.excinfo.errisinstance(EnvironmentProblem)
    ):
        report.when = "setup"  # type: ignore[misc]
    return report


@pytest.hookimpl(wrapper=True)
def pytest_sessionfinish(session: pytest.Session) -> Generator[None, None, None]:
    """After every teardown (the clean-up included): write the report, also for a run
    stopped before its first part ended (it says it was interrupted)."""
    result = yield
    run = session.config.stash.get(RUN_KEY, None)
    if run is not None and session.exitstatus == pytest.ExitCode.INTERRUPTED:
        run.interrupted = True
    if run is not None and (run.checks or run.interrupted):
        page.write(run.settings.report_dir, run.document())
    return result
