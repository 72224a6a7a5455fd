"""The reader against a fake client: retries under the deadline, unprocessed keys, budget."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from gtcheck.errors import EnvironmentProblem
from gtcheck.items import key_attributes
from gtcheck.reader import Reader
from gtcheck.target import Target

TABLE = "demo-ecommerce-freetier"
KEYS = [("A", "1"), ("B", "2")]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class FakeDynamoDB:
    """Answers BatchGetItem from a script of responses; throttles when told to."""

    def __init__(self, responses: list[dict[str, Any]] | None = None, throttle: bool = False):
        self.responses = responses or []
        self.throttle = throttle
        self.calls: list[dict[str, Any]] = []

    def batch_get_item(self, **request: Any) -> dict[str, Any]:
        self.calls.append(request)
        if self.throttle:
            error = {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": ""}}
            raise ClientError(error, "BatchGetItem")
        return self.responses.pop(0)


class FakeClients:
    def __init__(self, dynamodb: FakeDynamoDB) -> None:
        self.target = Target(TABLE, ("us-east-1", "eu-west-1"))
        self._dynamodb = dynamodb

    def dynamodb(self, region: str) -> FakeDynamoDB:
        return self._dynamodb


def item(key: tuple[str, str]) -> dict[str, Any]:
    return {**key_attributes(key), "x": {"S": "y"}}


def reader(client: FakeDynamoDB, clock: Clock, deadline: float = 30.0) -> Reader:
    return Reader(
        FakeClients(client),  # type: ignore[arg-type]
        deadline=deadline,
        monotonic=clock.monotonic,
        sleep=clock.sleep,
    )


def test_unprocessed_keys_are_asked_again_until_answered() -> None:
    """DynamoDB may leave keys unprocessed under load: they are asked again, with backoff."""
    clock = Clock()
    client = FakeDynamoDB(
        [
            {"Responses": {TABLE: [item(KEYS[0])]},
             "UnprocessedKeys": {TABLE: {"Keys": [key_attributes(KEYS[1])]}}},
            {"Responses": {TABLE: [item(KEYS[1])]}},
        ]
    )  # fmt: skip
    found = reader(client, clock).batch_get("us-east-1", KEYS, wait_for_budget=True)
    assert found == {KEYS[0]: item(KEYS[0]), KEYS[1]: item(KEYS[1])}
    assert client.calls[1]["RequestItems"] == {TABLE: {"Keys": [key_attributes(KEYS[1])]}}
    assert clock.now > 0  # it backed off before asking again


def test_an_absent_key_is_none() -> None:
    clock = Clock()
    client = FakeDynamoDB([{"Responses": {TABLE: [item(KEYS[0])]}}])
    found = reader(client, clock).batch_get("us-east-1", KEYS, wait_for_budget=True)
    assert found == {KEYS[0]: item(KEYS[0]), KEYS[1]: None}


def test_throttling_past_the_deadline_is_the_environments_fault() -> None:
    """Every attempt throttled: retries stop near the deadline, and it is an environment
    problem, never a participant's failure."""
    clock = Clock()
    client = FakeDynamoDB(throttle=True)
    with pytest.raises(EnvironmentProblem, match="throttled"):
        reader(client, clock, deadline=1.0).batch_get("us-east-1", KEYS, wait_for_budget=True)
    assert clock.now <= 1.0 + 2.0 + 2.0  # the deadline, the grace, one last backoff at most


def test_the_budget_says_not_now_without_waiting() -> None:
    clock = Clock()
    client = FakeDynamoDB([{"Responses": {TABLE: []}}] * 100)
    read = reader(client, clock)
    read.budget.provision("us-east-1", TABLE, 1.0)  # 0.5 RCU/s, 5 RCU of burst
    keys = [(str(n), "x") for n in range(10)]  # 5 RCU: the whole bucket
    assert read.batch_get("us-east-1", keys, wait_for_budget=False) is not None
    assert read.batch_get("us-east-1", keys, wait_for_budget=False) is None
    assert clock.now == 0.0


def test_a_remembered_environment_problem_is_raised_with_a_short_traceback() -> None:
    """Every step of every participant meets the same missing credentials: each raise
    carries only its own frames, so a class of 500 does not format ever longer tracebacks."""

    class NoCredentials(FakeDynamoDB):
        def describe_table(self, **request: Any) -> dict[str, Any]:
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": ""}}, "X")

    read = reader(NoCredentials(), Clock())
    depths = []
    for _ in range(50):
        with pytest.raises(EnvironmentProblem) as raised:
            read.describe("us-east-1")
        depths.append(len(raised.traceback))
    assert depths[-1] == depths[1]
