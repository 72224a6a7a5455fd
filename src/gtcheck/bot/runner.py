"""The bot's hands: one DynamoDB call at a time, transient errors retried with tenacity,
and waiting by polling, all under the run's one deadline on injected time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential,
)
from tenacity.stop import stop_base

from gtcheck import templates
from gtcheck.aws import Clients, Transient, call
from gtcheck.bot.plans import Item, Key, key_of, show
from gtcheck.errors import EnvironmentProblem, ReplicationTimeout
from gtcheck.target import Target

# Polling: quick at first, so a replication time is measured to a quarter second, then
# gentler, so a long wait stays inside the table's 5 RCU.
POLL_STEP = 0.25
SLOW_POLL_STEP = 1.0
FAST_POLL_WINDOW = 5.0
# A single call's transient retries: at least this window even when the deadline is near,
# and never more than this many attempts whatever the clocks do.
MIN_RETRY_WINDOW = 10.0
MAX_ATTEMPTS = 100

Log = Callable[[str], None]


def quiet(line: str) -> None:
    """The default log: the bot is silent unless asked to talk."""


@dataclass
class SolveResult:
    """What was written and how long replication took, for the CLI to print."""

    written: list[tuple[str, Key]] = field(default_factory=list)  # (region, key), in order
    replication_s: dict[str, list[float]] = field(default_factory=dict)  # "a->b": seconds

    def record(self, source: str, target: str, seconds: float) -> None:
        self.replication_s.setdefault(f"{source}->{target}", []).append(seconds)


class _StopAt(stop_base):
    """Stop retrying once the injected clock passes a moment (tenacity's own uses real time)."""

    def __init__(self, monotonic: Callable[[], float], moment: float) -> None:
        self._monotonic = monotonic
        self._moment = moment

    def __call__(self, retry_state: RetryCallState) -> bool:
        return self._monotonic() >= self._moment


@dataclass
class Runner:
    """One solve or cleanup: the clients, injected time and the one deadline all waits share."""

    clients: Clients
    target: Target
    sleep: Callable[[float], None]
    monotonic: Callable[[], float]
    timeout: float
    log: Log
    deadline: float = 0.0
    consistent: bool = True  # False: `get` reads eventually consistent, at half the cost

    def __post_init__(self) -> None:
        self.deadline = self.monotonic() + self.timeout

    @property
    def primary(self) -> str:
        return self.target.regions[0]

    @property
    def replica(self) -> str:
        return self.target.regions[1]

    def others(self, region: str) -> list[str]:
        return [other for other in self.target.regions if other != region]

    def request(self, region: str, operation: str, **kwargs: Any) -> dict[str, Any]:
        """One DynamoDB call on the table; transient errors are retried, within bounds."""
        answer = self.request_unless(frozenset(), region, operation, **kwargs)
        assert answer is not None  # nothing is accepted as a refusal
        return answer

    def request_unless(
        self, refusals: frozenset[str], region: str, operation: str, **kwargs: Any
    ) -> dict[str, Any] | None:
        """As `request`, but None when DynamoDB refuses with one of `refusals` (e.g. a
        condition that no longer holds), which is an answer rather than a problem."""
        method = getattr(self.clients.dynamodb(region), operation)
        try:
            return self._retrying()(call, method, TableName=self.target.table, **kwargs)
        except Transient as problem:
            raise EnvironmentProblem(
                f"{operation} in {region} kept failing after retries: {problem}"
            ) from None
        except ClientError as problem:
            error = problem.response.get("Error", {})
            if error.get("Code") in refusals:
                return None
            raise EnvironmentProblem(
                f"{operation} in {region} was refused: "
                f"{error.get('Code', '?')}: {error.get('Message', '')}"
            ) from None

    def _retrying(self) -> Retrying:
        window = max(self.deadline - self.monotonic(), MIN_RETRY_WINDOW)
        return Retrying(
            stop=stop_after_delay(window)
            | _StopAt(self.monotonic, self.monotonic() + window)
            | stop_after_attempt(MAX_ATTEMPTS),
            wait=wait_exponential(multiplier=0.1, max=5.0),
            retry=retry_if_exception_type(Transient),
            sleep=self.sleep,
            reraise=True,
        )

    def pages(self, region: str, operation: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Every page of a Query or Scan."""
        while True:
            page = self.request(region, operation, **kwargs)
            yield page
            if not page.get("LastEvaluatedKey"):
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def get(self, region: str, key: Key) -> dict[str, Any] | None:
        """The item as `region` holds it, attribute values typed: strongly consistent, or
        (`consistent` False) eventually, which may show a write a moment late, never one
        that is not there: enough to wait for an arrival, at half the read capacity."""
        response = self.request(
            region, "get_item", Key=templates.to_attributes(key), ConsistentRead=self.consistent
        )
        return response.get("Item")

    def poll(self, done: Callable[[], bool], failure: Callable[[], str]) -> None:
        """Call `done` until it is true; past the deadline, raise ReplicationTimeout(failure())."""
        started = self.monotonic()
        while not done():
            now = self.monotonic()
            if now >= self.deadline:
                raise ReplicationTimeout(f"{failure()} within the {self.timeout:g} s timeout")
            step = POLL_STEP if now - started < FAST_POLL_WINDOW else SLOW_POLL_STEP
            self.sleep(min(step, self.deadline - now))


def put_and_replicate(run: Runner, result: SolveResult, step: str, region: str, item: Item) -> None:
    """Create the item in `region`, then query every other region until it is identical."""
    key, expected = key_of(item), templates.to_attributes(item)
    others = run.others(region)
    # A region that already holds this very copy (an earlier run) would time nothing.
    timed = [other for other in others if run.get(other, key) != expected]
    started = run.monotonic()
    run.request(region, "put_item", Item=expected)
    result.written.append((region, key))
    run.log(f"{step}: put {show(key)} in {region}")
    pending = list(others)

    def arrived() -> bool:
        for other in list(pending):
            if run.get(other, key) != expected:
                continue
            pending.remove(other)
            if other in timed:
                seconds = run.monotonic() - started
                result.record(region, other, seconds)
                run.log(f"{step}: replicated to {other} in {seconds:.2f} s")
            else:
                run.log(f"{step}: {other} already held this copy (not timed)")
        return not pending

    run.poll(
        arrived,
        lambda: (
            f"{step}: {show(key)} written in {region} did not arrive identical in "
            f"{', '.join(pending)}"
        ),
    )
