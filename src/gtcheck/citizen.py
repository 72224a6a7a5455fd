"""gtcheck among other pytest plugins: option clashes, xdist and shuffled runs.

A participant's steps depend on each other and make one report, so a graded run keeps
the rubric's order (whatever pytest-randomly shuffled), refuses to be split over
pytest-xdist workers, and an option name another plugin also claims stops the run with
one line naming that plugin instead of argparse's traceback.
"""

from __future__ import annotations

import argparse
import inspect
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import pytest

from gtcheck.rubric import StepSpec, spec_of

ORDER_PLUGIN = "gtcheck-rubric-order"
SCHEDULER_PLUGIN = "gtcheck-participant-scheduling"
OPTION_NAME = re.compile(r"--?[A-Za-z0-9][\w-]*")


# ----- option clashes ---------------------------------------------------------------------
class _Recorder:
    """A stand-in for pytest's Parser and its groups: it only notes the option names."""

    def __init__(self) -> None:
        self.names: set[str] = set()
        self.extra_info: dict[str, Any] = {}
        self.gtcheck = False  # set when the options came through option_group: ours

    def getgroup(self, name: str, description: str = "", after: str | None = None) -> _Recorder:
        return self

    def addoption(self, *opts: str, **attrs: Any) -> None:
        self.names.update(opts)

    _addoption = addoption

    def addini(self, *args: Any, **kwargs: Any) -> None:
        pass


def options_of(hook: Callable[..., Any], pluginmanager: Any) -> set[str]:
    """The option names another plugin's pytest_addoption adds (none for gtcheck's own,
    and none when it needs more of the real parser than names)."""
    recorder = _Recorder()
    offered = {"parser": recorder, "pluginmanager": pluginmanager}
    try:
        wanted = inspect.signature(hook).parameters
        hook(**{name: value for name, value in offered.items() if name in wanted})
    except Exception:
        pass
    return set() if recorder.gtcheck else recorder.names


def owner_of(names: Iterable[str], pluginmanager: Any) -> str | None:
    """The name of the plugin that also adds any of `names`, if one can be found."""
    wanted = set(names)
    for name, plugin in pluginmanager.list_name_plugin():
        hook = getattr(plugin, "pytest_addoption", None)
        if plugin is not None and callable(hook) and options_of(hook, pluginmanager) & wanted:
            return name
    return None


def clash(option: str, pluginmanager: Any) -> pytest.UsageError:
    """One line naming the other plugin (and its distribution) and what to do."""
    name = owner_of([option], pluginmanager)
    if name is None:
        return pytest.UsageError(
            f"gtcheck's option {option} is also defined by another pytest plugin: "
            "leave that plugin out with -p no:NAME, or uninstall it"
        )
    plugin = pluginmanager.get_plugin(name)
    dist = next((d for p, d in pluginmanager.list_plugin_distinfo() if p is plugin), None)
    shown = f'"{name}"' + (f" ({dist.project_name} {dist.version})" if dist else "")
    return pytest.UsageError(
        f"gtcheck's option {option} is also defined by the pytest plugin {shown}: "
        f"leave that plugin out with -p no:{name}, or uninstall it"
    )


def _registered(parser: Any) -> set[str]:
    """Option names already on pytest's parser (pytest keeps them per group)."""
    groups = [getattr(parser, "_anonymous", None), *getattr(parser, "_groups", [])]
    return {
        name
        for group in groups
        if group is not None
        for option in group.options
        for name in option.names()
    }


class GuardedGroup:
    """gtcheck's option group: an option name already taken is a one-line UsageError.

    It also watches plugins registered after gtcheck until pytest configures, because a
    later plugin that reuses one of these names fails inside its own pytest_addoption
    (or at parse time, on pytest 8).
    """

    def __init__(self, parser: pytest.Parser, pluginmanager: Any, group: Any) -> None:
        self.parser, self.pluginmanager, self.group = parser, pluginmanager, group
        self.names: set[str] = set()
        self.watching = True
        pluginmanager.add_hookcall_monitoring(_ignore, self._after_hook)

    def addoption(self, *opts: str, **attrs: Any) -> None:
        taken = sorted(set(opts) & _registered(self.parser))
        if taken:
            raise clash(taken[0], self.pluginmanager)
        self.group.addoption(*opts, **attrs)
        self.names.update(opts)

    def _after_hook(
        self, outcome: Any, hook_name: str, hook_impls: Sequence[Any], kwargs: Mapping[str, Any]
    ) -> None:
        if not self.watching:
            return
        if hook_name == "pytest_configure":
            self.watching = False
            return
        problem = outcome.exception
        if hook_name not in ("pytest_addoption", "pytest_cmdline_parse") or not isinstance(
            problem, (argparse.ArgumentError, ValueError)
        ):
            return
        taken = sorted(self.names & set(OPTION_NAME.findall(str(problem))))
        if taken:
            outcome.force_exception(clash(taken[0], self.pluginmanager))


# ----- options gtcheck gave up to other plugins -------------------------------------------
# Names `gtcheck` keeps on its own command line (as the AWS CLI spells them) but leaves to
# the pytest plugins that own them under pytest: typed to pytest without that plugin, they
# are unknown options, and the error says whose they are and what gtcheck's name is.
FOREIGN_OPTIONS: dict[str, tuple[str, str]] = {
    "--timeout": ("pytest-timeout", "--replication-timeout"),
    "--profile": ("pytest-profiling", "--aws-profile"),
}


def foreign_options(args: Iterable[str], registered: set[str]) -> list[str]:
    """The names in FOREIGN_OPTIONS that `args` uses while no loaded plugin defines them."""
    used = {str(arg).split("=", 1)[0] for arg in args}
    return [name for name in FOREIGN_OPTIONS if name in used and name not in registered]


def foreign_option_error(name: str) -> pytest.UsageError:
    plugin, ours = FOREIGN_OPTIONS[name]
    return pytest.UsageError(
        f"{name} is an option of the pytest plugin {plugin}, which is not loaded here; "
        f"gtcheck's is {ours}"
    )


def explain_foreign_options(parser: pytest.Parser) -> None:
    """When pytest refuses the command line, and it holds one of FOREIGN_OPTIONS that no
    loaded plugin defines, say whose option that is instead of "unrecognized arguments".
    A command line pytest accepts is never touched."""
    for method in ("parse", "parse_setoption"):  # pytest 9; pytest 8's strict parse
        original = getattr(parser, method, None)
        if callable(original):
            setattr(parser, method, _explained(parser, original))


def _explained(parser: pytest.Parser, original: Callable[..., Any]) -> Callable[..., Any]:
    def parse(args: Sequence[Any], *rest: Any, **kwargs: Any) -> Any:
        try:
            return original(args, *rest, **kwargs)
        except pytest.UsageError:
            unknown = foreign_options(map(str, args), _registered(parser))
            if not unknown:
                raise
            raise foreign_option_error(unknown[0]) from None

    return parse


def _ignore(hook_name: str, hook_impls: Sequence[Any], kwargs: Mapping[str, Any]) -> None:
    pass


def option_group(
    parser: pytest.Parser | _Recorder, pluginmanager: Any, name: str, description: str
) -> GuardedGroup | _Recorder:
    """pytest's option group `name`, guarded against names other plugins also define."""
    if isinstance(parser, _Recorder):  # owner_of is asking: these are gtcheck's own
        parser.gtcheck = True
        return parser
    return GuardedGroup(parser, pluginmanager, parser.getgroup(name, description))


# ----- xdist ------------------------------------------------------------------------------
def distribution(config: pytest.Config) -> str | None:
    """How pytest-xdist would split this run over workers, as options; None if it won't."""
    if config.getoption("collectonly", False):
        return None
    workers = config.getoption("numprocesses", None)
    if workers:
        return f"-n {workers}"
    dist = config.getoption("dist", "no")
    if dist and dist != "no":
        return f"--dist {dist}"
    return None


def refuse_distribution(config: pytest.Config) -> None:
    """A graded run is one participant's one report: split over workers, each worker
    would grade a part and the report would be false, so stop before anything runs."""
    how = distribution(config)
    if how:
        raise pytest.UsageError(
            f"gtcheck grades one participant in one process, and pytest-xdist ({how}) "
            "would split the steps over workers that each see only some of them: "
            "run without -n (or with -n 0)"
        )


# ----- rubric order -----------------------------------------------------------------------
def rubric_position(item: pytest.Item) -> tuple[str, int, str]:
    """Where a step is declared: its module's file name, then its line in the module."""
    line = item.location[1]
    return (item.path.name, line if line is not None else -1, item.name)


def participant_index(item: pytest.Item) -> int:
    """Which participant of a class run a step grades (0 in a single check)."""
    callspec = getattr(item, "callspec", None)
    return callspec.indices.get("entry", 0) if callspec is not None else 0


def run_position(item: pytest.Item) -> tuple[int, str, int, str]:
    """A participant's steps together, each participant's in rubric order."""
    return (participant_index(item), *rubric_position(item))


def rubric_specs(items: Sequence[pytest.Item]) -> list[StepSpec]:
    """The steps among `items` in rubric order, whatever order they run in."""
    steps = sorted((item for item in items if spec_of(item) is not None), key=rubric_position)
    specs: dict[str, StepSpec] = {}  # a class run holds each step once per participant
    for spec in map(spec_of, steps):
        if spec is not None:
            specs.setdefault(spec.id, spec)
    return list(specs.values())


def in_rubric_order(items: list[pytest.Item]) -> None:
    """Put the steps back in rubric order (a step needs the ones before it); every other
    test keeps its place."""
    slots = [index for index, item in enumerate(items) if spec_of(item) is not None]
    steps = sorted((items[index] for index in slots), key=run_position)
    for index, item in zip(slots, steps, strict=True):
        items[index] = item


class RubricOrder:
    """Runs last among the collection hooks, so shufflers such as pytest-randomly go first."""

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        in_rubric_order(items)


def participant_of_nodeid(nodeid: str) -> str:
    """The participant id of a class run's step, from `module.py::test_step[ana]`."""
    _test, _bracket, rest = nodeid.rsplit("::", 1)[-1].partition("[")
    return rest[:-1] if rest.endswith("]") else nodeid


class ParticipantScheduling:
    """pytest-xdist's scheduler hook for a class run: whole participants go to workers
    (a participant's steps depend on each other and make one report)."""

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Any) -> Any:
        from xdist.scheduler import LoadScopeScheduling

        class ByParticipant(LoadScopeScheduling):  # type: ignore[misc]
            def _split_scope(self, nodeid: str) -> str:
                return participant_of_nodeid(nodeid)

        return ByParticipant(config, log)


def grades_a_class(config: pytest.Config) -> bool:
    return bool(config.getoption("gt_roster", None) or config.getoption("gt_all", False))


def configure(config: pytest.Config) -> None:
    """When grading is on: one participant refuses xdist; a class is spread over the
    workers a participant at a time. Either way the steps run in rubric order."""
    single = bool(config.getoption("participant", None))
    worker = hasattr(config, "workerinput")
    if not single and not grades_a_class(config):
        return
    if single and not worker:
        refuse_distribution(config)
    spread = not single and not worker and distribution(config)
    if spread and not config.pluginmanager.has_plugin(SCHEDULER_PLUGIN):
        config.pluginmanager.register(ParticipantScheduling(), SCHEDULER_PLUGIN)
    if not config.pluginmanager.has_plugin(ORDER_PLUGIN):
        config.pluginmanager.register(RubricOrder(), ORDER_PLUGIN)
