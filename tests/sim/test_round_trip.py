"""`gtcheck sim --round-trip`: answers come back as from a distant region, on injected time."""

from __future__ import annotations

from typing import Any

import pytest

from gtcheck.sim.config import SimConfig
from gtcheck.sim.gateway import CONTROL_PREFIX
from gtcheck.sim.server import RoundTrip


class Recorder:
    """A WSGI app and a sleep that write down, in order, what happened."""

    def __init__(self) -> None:
        self.events: list[Any] = []

    def app(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        self.events.append(("served", environ["PATH_INFO"]))
        start_response("200 OK", [])
        return [b"answer"]

    def sleep(self, seconds: float) -> None:
        self.events.append(("slept", seconds))


def call(app: Any, path: str) -> list[bytes]:
    return list(app({"PATH_INFO": path}, lambda *_: None))


def test_a_request_arrives_half_a_round_trip_late_and_its_answer_leaves_half_later():
    """The request is handled after half the round trip (a write is stamped on arrival);
    the answer is held for the other half; the body is the app's, untouched."""
    seen = Recorder()
    delayed = RoundTrip(seen.app, 0.2, sleep=seen.sleep)
    assert call(delayed, "/") == [b"answer"]
    assert seen.events == [("slept", 0.1), ("served", "/"), ("slept", 0.1)]


def test_the_control_api_is_not_delayed():
    """`/_gtcheck/` belongs to the operator (waiting for replication to settle), not to an
    AWS region: it answers at once."""
    seen = Recorder()
    delayed = RoundTrip(seen.app, 0.2, sleep=seen.sleep)
    call(delayed, f"{CONTROL_PREFIX}state")
    assert seen.events == [("served", f"{CONTROL_PREFIX}state")]


@pytest.mark.parametrize("seconds", [-0.1, float("nan"), float("inf"), 7200.0])
def test_a_round_trip_must_be_a_sane_number_of_seconds(seconds):
    from gtcheck.errors import UsageError

    with pytest.raises(UsageError, match="round_trip"):
        SimConfig(round_trip=seconds)


@pytest.mark.server
def test_a_served_simulator_holds_answers_and_still_answers_right():
    """Over real HTTP with boto3: a round trip set in the config delays the AWS door (the
    server's sleep is the injected recorder's) and the answers are the usual ones."""
    import boto3

    from gtcheck.sim import server as served
    from gtcheck.sim.engine import Simulator

    slept: list[float] = []
    original = served.RoundTrip.__init__

    def recording(self: RoundTrip, app: Any, seconds: float, sleep: Any = None) -> None:
        original(self, app, seconds, sleep=slept.append)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(served.RoundTrip, "__init__", recording)
        sim = Simulator(SimConfig(round_trip=0.3, lag=0.0, jitter=0.0))
        with sim.serve("127.0.0.1", 0) as running:
            client = boto3.client(
                "dynamodb",
                region_name="eu-west-1",
                endpoint_url=running.endpoint,
                aws_access_key_id="test",
                aws_secret_access_key="test",
            )
            table = client.describe_table(TableName=sim.config.table)["Table"]
    assert table["TableStatus"] == "ACTIVE"
    assert slept == [0.15, 0.15]
