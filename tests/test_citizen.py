"""gtcheck among other pytest plugins: rubric order, xdist refusal, option clashes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from gtcheck import citizen


class FakeItem:
    """Just what the ordering reads of a collected test: marker, file, line and name."""

    def __init__(self, module: str, line: int, step: str | None = None) -> None:
        self.path = Path("/somewhere") / module
        self.location = (module, line, f"test_{line}")
        self.name = f"test_{line}"
        self.step = step

    def get_closest_marker(self, name: str) -> Any:
        if name != "rubric" or self.step is None:
            return None
        fields = {"id": self.step, "points": 1, "exercise": 1, "title": self.step}
        return SimpleNamespace(kwargs=fields)

    def __repr__(self) -> str:
        return self.step or self.name


def test_steps_go_back_to_rubric_order_and_other_tests_keep_their_place():
    """Shuffled steps return to file-then-line order into the steps' own slots."""
    other_a, other_b = FakeItem("test_zz.py", 1), FakeItem("test_aa.py", 9)
    env = FakeItem("test_env.py", 10, "env.table")
    ex1_late = FakeItem("test_ex1_user.py", 40, "ex1.user_replicated")
    ex1_early = FakeItem("test_ex1_user.py", 12, "ex1.user_created")
    mon = FakeItem("test_mon_latency.py", 5, "mon.replication_latency")
    items: list[Any] = [mon, other_a, ex1_late, env, other_b, ex1_early]

    citizen.in_rubric_order(items)

    assert items == [env, other_a, ex1_early, ex1_late, other_b, mon]


def test_rubric_specs_are_in_rubric_order_whatever_the_run_order():
    """The summary and reports list steps by file then line, not as the tests ran."""
    items: Any = [
        FakeItem("test_ex3_conflict.py", 7, "ex3.order_created"),
        FakeItem("test_aa.py", 1),
        FakeItem("test_env.py", 30, "env.replicas"),
        FakeItem("test_env.py", 3, "env.table"),
    ]
    ids = [spec.id for spec in citizen.rubric_specs(items)]
    assert ids == ["env.table", "env.replicas", "ex3.order_created"]


def fake_config(**options: Any) -> Any:
    def getoption(name: str, default: Any = None) -> Any:
        return options.get(name, default)

    return SimpleNamespace(getoption=getoption, pluginmanager=None)


@pytest.mark.parametrize(
    ("options", "shown"),
    [
        ({"numprocesses": 2, "dist": "load"}, "-n 2"),
        ({"numprocesses": 0, "dist": "no"}, None),
        ({"numprocesses": None, "dist": "loadscope"}, "--dist loadscope"),
        ({"numprocesses": 2, "dist": "load", "collectonly": True}, None),
        ({}, None),
    ],
)
def test_distribution_is_what_xdist_would_do(options: dict[str, Any], shown: str | None):
    """-n N and --dist other than no distribute; -n 0, no xdist and --collect-only do not."""
    assert citizen.distribution(fake_config(**options)) == shown


def test_a_graded_run_under_xdist_stops_with_one_line_saying_what_to_do():
    """--participant with -n 2 is a UsageError naming -n and how to run instead."""
    config = fake_config(participant="zed", numprocesses=2, dist="load")
    with pytest.raises(pytest.UsageError) as refused:
        citizen.configure(config)
    message = str(refused.value)
    assert "\n" not in message
    assert "-n 2" in message
    assert "run without -n" in message


def test_an_ungraded_run_under_xdist_goes_on():
    """Without --participant the plugin stays out of the way, xdist or not."""
    citizen.configure(fake_config(numprocesses=2, dist="load"))


CLASHING_PLUGIN = """
def pytest_addoption(parser):
    parser.getgroup("clashy").addoption("--regions", help="clashy's own regions")
"""


@pytest.mark.parametrize(
    "order", [["clashy", "gtcheck.plugin"], ["gtcheck.plugin", "clashy"]], ids=["before", "after"]
)
def test_an_option_clash_is_one_line_naming_the_other_plugin(tmp_path: Path, order: list[str]):
    """Whichever plugin registers first, a clash on --regions names "clashy", no traceback."""
    (tmp_path / "clashy.py").write_text(CLASHING_PLUGIN)
    plugins = [word for name in order for word in ("-p", name)]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", *plugins, "--collect-only", "-q"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
        env={**_environment(), "PYTHONPATH": str(tmp_path)},
    )  # fmt: skip
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert '"clashy"' in lines[0]
    assert "--regions" in lines[0]
    assert "-p no:clashy" in lines[0]
    assert "Traceback" not in result.stdout + result.stderr


def test_a_clash_names_the_distribution_when_the_plugin_has_one():
    """An installed plugin is shown with its distribution and version."""

    class Other:
        @staticmethod
        def pytest_addoption(parser: Any) -> None:
            parser.addoption("--table")

    other = Other()
    dist = SimpleNamespace(project_name="pytest-other", version="1.2")
    manager = SimpleNamespace(
        list_name_plugin=lambda: [("other", other)],
        get_plugin=lambda name: other if name == "other" else None,
        list_plugin_distinfo=lambda: [(other, dist)],
    )
    message = str(citizen.clash("--table", manager))
    assert '"other" (pytest-other 1.2)' in message
    assert "-p no:other" in message


def _environment() -> dict[str, str]:
    environment = dict(os.environ)
    environment.pop("PYTEST_ADDOPTS", None)
    return environment


@pytest.mark.parametrize(
    ("typed", "plugin", "ours"),
    [
        (["--timeout", "5"], "pytest-timeout", "--replication-timeout"),
        (["--profile=workshop"], "pytest-profiling", "--aws-profile"),
    ],
)
def test_an_option_gtcheck_left_to_another_plugin_names_that_plugin(
    tmp_path: Path, typed: list[str], plugin: str, ours: str
):
    """`gtcheck`'s --timeout or --profile typed to pytest without the plugin that owns the
    name (left out here with -p no:, in case it is installed): one line naming the plugin
    and gtcheck's own name, exit 4."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "gtcheck.plugin", "-p", "no:timeout",
         "-p", "no:profiling", "--participant", "ana", *typed, "--collect-only", "-q"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, env=_environment(),
    )  # fmt: skip
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert plugin in lines[0]
    assert ours in lines[0]
    assert typed[0].split("=")[0] in lines[0]


def test_other_unknown_options_keep_pytests_own_message(tmp_path: Path):
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "gtcheck.plugin", "--participant", "ana",
         "--no-such-option", "--collect-only", "-q"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, env=_environment(),
    )  # fmt: skip
    assert result.returncode == pytest.ExitCode.USAGE_ERROR
    assert "unrecognized arguments: --no-such-option" in result.stderr


def test_foreign_options_are_only_those_no_loaded_plugin_defines():
    args = ["--timeout=5", "--profile", "p", "--participant", "x"]
    assert citizen.foreign_options(args, set()) == ["--timeout", "--profile"]
    assert citizen.foreign_options(args, {"--timeout"}) == ["--profile"]
    assert citizen.foreign_options(["--timeouts", "--replication-timeout"], set()) == []
