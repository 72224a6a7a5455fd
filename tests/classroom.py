"""A class working through the workshop at its own pace, on a simulator's injected clock.

Each participant types the page's commands one after another, a few seconds apart: writes,
reads of the other region to watch replication, the conflicting updates, the GSI queries,
the timing item. The schedule is plain data; `Classroom.sleep` is the clock everybody
waits on: it moves the simulator's clock in small steps and, at each, sends whatever the
class has typed by then. Requests go without retries, so a throttled one is seen, and
counted, as the participant would see it.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError

from gtcheck import bot, templates
from gtcheck.sim import Simulator
from gtcheck.templates import Placeholders

TABLE = "demo-ecommerce-freetier"
THROTTLED = "ProvisionedThroughputExceededException"
NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"})
STEP_SECONDS = 0.25  # the clock moves this far at most before the class is looked at again


@dataclass(frozen=True)
class Action:
    """One command a participant types: when, where, which operation and its arguments."""

    at: float  # seconds after the class starts
    participant: str
    region: str
    operation: str  # put_item, get_item, update_item, query
    arguments: dict[str, Any]

    @property
    def reads(self) -> bool:
        return self.operation in ("get_item", "query")


@dataclass
class Pace:
    """How a class works: who starts when, how long between two commands, who stops early,
    who makes which mistake, and who types into the AWS CLI instead of boto3."""

    size: int = 40
    start_every_s: float = 1.5
    command_every_s: float = 12.0
    stops_halfway: Callable[[int], bool] = lambda index: index % 5 == 4
    mistakes: Callable[[int], frozenset[str]] = lambda index: (
        frozenset({"price-as-string"}) if index % 7 == 3 else frozenset()
    )
    on_cli: Callable[[int], bool] = lambda index: index == 0


def names(pace: Pace) -> list[str]:
    return [f"learner{index:02d}" for index in range(pace.size)]


def schedule(pace: Pace, regions: tuple[str, str]) -> list[Action]:
    """Every command the class types, in time order."""
    primary, replica = regions
    actions: list[Action] = []
    for index, name in enumerate(names(pace)):
        chosen = bot.plan(Placeholders(participant=name, product_id=name), pace.mistakes(index))
        steps = _workshop(chosen, primary, replica)
        if pace.stops_halfway(index):
            steps = steps[: len(steps) // 2]
        start = index * pace.start_every_s
        for number, (region, operation, arguments) in enumerate(steps):
            actions.append(
                Action(start + number * pace.command_every_s, name, region, operation, arguments)
            )
    return sorted(actions, key=lambda action: action.at)


def _workshop(chosen: bot.Plan, primary: str, replica: str) -> list[tuple[str, str, Any]]:
    """The page's commands for one participant; the timing item is stamped when typed."""
    order_key = bot.key_of(chosen.order)

    def put(item: dict[str, Any]) -> dict[str, Any]:
        return {"Item": templates.to_attributes(item)}

    def get(item: dict[str, Any]) -> dict[str, Any]:
        return {"Key": templates.to_attributes(bot.key_of(item))}

    def update(changes: dict[str, Any]) -> dict[str, Any]:
        values = templates.to_attributes(changes)
        return {
            "Key": templates.to_attributes(order_key),
            "UpdateExpression": "SET " + ", ".join(f"#a{i} = :v{i}" for i in range(len(values))),
            "ExpressionAttributeNames": {f"#a{i}": name for i, name in enumerate(values)},
            "ExpressionAttributeValues": {f":v{i}": v for i, v in enumerate(values.values())},
        }

    def query(index: str, item: dict[str, Any]) -> dict[str, Any]:
        return {
            "IndexName": index,
            "KeyConditionExpression": "#p = :p",
            "ExpressionAttributeNames": {"#p": f"{index}PK"},
            "ExpressionAttributeValues": {":p": {"S": str(item[f"{index}PK"])}},
        }

    product, order = chosen.product, chosen.order
    steps: list[tuple[str, str, Any]] = [
        (primary, "put_item", put(chosen.user)),
        (replica, "get_item", get(chosen.user)),
        (replica, "put_item", put(product)),
        (primary, "get_item", get(product)),
        (primary, "put_item", put(order)),
        (replica, "get_item", get(order)),
        (primary, "update_item", update(chosen.update_us)),
        (replica, "update_item", update(chosen.update_eu)),
        (primary, "get_item", get(order)),
        (replica, "get_item", get(order)),
    ]
    if "GSI1PK" in product:
        steps.append((replica, "query", query("GSI1", product)))
    if "GSI2PK" in order:
        steps.append((primary, "query", query("GSI2", order)))
    steps += [(primary, "put_item", {"timing": True}), (replica, "get_item", {"timing": True})]
    return steps


@dataclass
class Classroom:
    """Sends the class's commands as the simulator's clock reaches them."""

    sim: Simulator
    pace: Pace
    endpoint: str | None = None  # the simulator over HTTP, for the AWS CLI
    aws: str | None = None  # the AWS CLI's path
    sent: int = 0
    refused: list[Action] = field(default_factory=list)
    cli_commands: int = 0

    def __post_init__(self) -> None:
        regions = self.sim.config.regions
        self.started = self.sim.clock.now()
        self.pending = schedule(self.pace, (regions[0], regions[1]))
        self.total = len(self.pending)
        self._clients = {r: self.sim.client("dynamodb", r, NO_RETRIES) for r in regions}
        self._cli_names = {n for i, n in enumerate(names(self.pace)) if self.pace.on_cli(i)}
        self._timing: dict[str, dict[str, Any]] = {}

    @property
    def done(self) -> bool:
        return not self.pending

    def end_s(self) -> float:
        """When the last command is typed, in seconds after the class started."""
        return max((action.at for action in self.pending), default=0.0)

    def sleep(self, seconds: float) -> None:
        """Wait `seconds` on the injected clock while the class goes on working."""
        end = self.sim.clock.now() + max(0.0, seconds)
        self._type_due()
        while self.sim.clock.now() < end:
            self.sim.advance(min(STEP_SECONDS, end - self.sim.clock.now()))
            self._type_due()

    def finish(self) -> None:
        """Let the class type everything left, then let it replicate."""
        self.sleep(self.end_s() - (self.sim.clock.now() - self.started) + 5.0)

    def _type_due(self) -> None:
        now = self.sim.clock.now() - self.started
        while self.pending and self.pending[0].at <= now:
            self._send(self.pending.pop(0))

    def _send(self, action: Action) -> None:
        arguments = self._arguments(action)
        self.sent += 1
        if action.participant in self._cli_names and self.endpoint and self.aws:
            self._send_cli(action, arguments)
            return
        try:
            getattr(self._clients[action.region], action.operation)(
                TableName=TABLE, **arguments
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != THROTTLED:
                raise
            self.refused.append(action)

    def _arguments(self, action: Action) -> dict[str, Any]:
        if "timing" not in action.arguments:
            return action.arguments
        if action.operation == "put_item":
            name = action.participant
            placeholders = Placeholders(participant=name, product_id=name)
            item = bot.timing_item(placeholders, action.region, self.sim.clock.now())
            self._timing[action.participant] = item
            return {"Item": templates.to_attributes(item)}
        typed = self._timing[action.participant]
        return {"Key": templates.to_attributes(bot.key_of(typed))}

    def _send_cli(self, action: Action, arguments: dict[str, Any]) -> None:
        """The same command through the real AWS CLI, its arguments as JSON."""
        assert self.aws is not None
        assert self.endpoint is not None
        command = [self.aws, "dynamodb", action.operation.replace("_", "-")]
        command += ["--cli-input-json", json.dumps({"TableName": TABLE, **arguments})]
        command += ["--region", action.region, "--endpoint-url", self.endpoint]
        env = {
            **os.environ,
            "AWS_ACCESS_KEY_ID": "class",
            "AWS_SECRET_ACCESS_KEY": "class",
            "AWS_MAX_ATTEMPTS": "1",
            "AWS_RETRY_MODE": "standard",
            "AWS_PAGER": "",
        }
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
        self.cli_commands += 1
        if done.returncode == 0:
            return
        if THROTTLED not in done.stderr:
            raise AssertionError(f"aws {action.operation} failed: {done.stderr.strip()}")
        self.refused.append(action)
