"""Shared fixtures: the simulator in process (injected time) and over HTTP."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from gtcheck.sim import ManualClock, SimConfig, Simulator

TABLE = "demo-ecommerce-freetier"


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory):
    """No test may reach AWS or read the developer's profile and credentials."""
    home = tmp_path_factory.mktemp("aws-home")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "credentials"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("LANGUAGE", "en")  # hints and titles in English, whatever the locale


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sim(clock: ManualClock) -> Simulator:
    """Two regions, 1 s lag, no jitter, time turned by hand (`sim.advance`)."""
    return Simulator(SimConfig(lag=1.0, jitter=0.0), clock=clock)


@pytest.fixture
def served_sim() -> Iterator[Simulator]:
    """The simulator over real HTTP on 127.0.0.1 (a free port), real time, 3 s lag.

    The lag is long enough that a freshly started AWS CLI process can look before the
    item arrives, and short enough to keep the suite quick.
    """
    simulator = Simulator(SimConfig(lag=3.0, jitter=0.0))
    server = simulator.serve("127.0.0.1", 0)
    simulator.endpoint = server.endpoint  # type: ignore[attr-defined]
    try:
        yield simulator
    finally:
        server.stop()


@pytest.fixture
def aws_env() -> dict[str, str]:
    """The environment for an AWS CLI subprocess: dummy credentials, no pager, no profile."""
    env = dict(os.environ)
    env.update(AWS_PAGER="", AWS_DEFAULT_OUTPUT="json")
    return env
