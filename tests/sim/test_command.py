"""`gtcheck sim` and `gtcheck fault` as a user runs them: real processes, real signals."""

from __future__ import annotations

import json
import queue
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import boto3
import pytest

GTCHECK = [sys.executable, "-m", "gtcheck"]
START_SECONDS = 30.0  # bound on a sim becoming ready (imports moto, creates tables)
STOP_SECONDS = 5.0  # contract: a signal stops the sim within this
RUN_SECONDS = 30.0  # bound on any one short command


@dataclass
class RunningSim:
    process: subprocess.Popen[str]
    ready_line: str
    endpoint: str
    stderr_path: Path

    def stderr(self) -> str:
        return self.stderr_path.read_text()


def _read_line(stream: IO[str], timeout: float) -> str:
    """One line from `stream`, or "" if none comes within `timeout` seconds."""
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(stream.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        return ""


@contextmanager
def running_sim(tmp_path: Path, *flags: str) -> Iterator[RunningSim]:
    """`gtcheck sim --port 0 FLAGS` until the block ends; killed if still running then."""
    stderr_path = tmp_path / "sim-stderr.txt"
    with stderr_path.open("w") as stderr:
        process = subprocess.Popen(
            [*GTCHECK, "sim", "--port", "0", *flags],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    try:
        assert process.stdout is not None
        line = _read_line(process.stdout, START_SECONDS)
        if not line:
            pytest.fail(f"gtcheck sim printed no ready line: {stderr_path.read_text()}")
        match = re.search(r"ready at (http://127\.0\.0\.1:(\d+))", line)
        assert match, f"no endpoint in the ready line: {line!r}"
        assert int(match.group(2)) != 0
        yield RunningSim(process, line, match.group(1), stderr_path)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=STOP_SECONDS)
        if process.stdout is not None:
            process.stdout.close()


def gtcheck(*args: str) -> subprocess.CompletedProcess[str]:
    """Run one short `gtcheck` command to completion (killed after RUN_SECONDS)."""
    return subprocess.run(
        [*GTCHECK, *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=RUN_SECONDS,
    )


def fault(endpoint: str, *args: str) -> dict[str, Any]:
    """`gtcheck fault --endpoint-url ENDPOINT ARGS`, which must succeed; its JSON answer."""
    done = gtcheck("fault", "--endpoint-url", endpoint, *args)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return json.loads(done.stdout)


def assert_one_line_error(done: subprocess.CompletedProcess[str], code: int, *words: str) -> None:
    assert done.returncode == code, (done.returncode, done.stderr)
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    for word in words:
        assert word in lines[0]


@pytest.mark.server
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_sim_prints_one_ready_line_serves_and_stops_on_signal(tmp_path, signum):
    """`gtcheck sim --port 0` prints one ready line with its endpoint and a working
    `aws dynamodb` example, answers there, and exits 0 within 5 s of SIGTERM or SIGINT."""
    with running_sim(tmp_path) as sim:
        assert sim.ready_line.endswith("\n")
        example = sim.ready_line.split("try:", 1)[1]
        words = shlex.split(example)
        aws = words.index("aws")
        assert words[aws : aws + 2] == ["aws", "dynamodb"]
        option = dict(zip(words[aws + 3 :: 2], words[aws + 4 :: 2], strict=False))
        assert option["--endpoint-url"] == sim.endpoint

        with urllib.request.urlopen(f"{sim.endpoint}/_gtcheck/state", timeout=10) as response:
            state = json.loads(response.read())
        assert state["regions"] == ["us-east-1", "eu-west-1"]
        dynamodb = boto3.client(
            "dynamodb", region_name=option["--region"], endpoint_url=option["--endpoint-url"]
        )
        table = dynamodb.describe_table(TableName=option["--table-name"])["Table"]
        assert table["TableStatus"] == "ACTIVE"

        sim.process.send_signal(signum)
        try:
            code = sim.process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            pytest.fail(f"gtcheck sim still running {STOP_SECONDS:.0f} s after {signum.name}")
        assert code == 0, sim.stderr()
        assert sim.process.stdout is not None
        assert sim.process.stdout.read() == ""  # nothing after the one ready line
        assert "Traceback" not in sim.stderr()
        assert "stopped" in sim.stderr()


@pytest.mark.server
def test_fault_commands_change_a_running_sim(tmp_path):
    """pause, resume, lag and throttle each show in `gtcheck fault status`; a paused
    direction holds a write until it is resumed; a direction the sim lacks is refused."""
    with running_sim(tmp_path, "--lag", "0", "--jitter", "0") as sim:
        endpoint = sim.endpoint
        fault(endpoint, "pause", "--from", "us-east-1", "--to", "eu-west-1")
        status = fault(endpoint, "status")
        assert status["faults"]["paused"] == ["us-east-1>eu-west-1"]

        boto3.client("dynamodb", region_name="us-east-1", endpoint_url=endpoint).put_item(
            TableName="demo-ecommerce-freetier",
            Item={"PK": {"S": "USER#cmd-paused"}, "SK": {"S": "PROFILE"}},
        )
        status = fault(endpoint, "status")
        assert status["pending"] == {"us-east-1>eu-west-1": 1}
        assert status["delivered"] == 0

        fault(endpoint, "resume", "--from", "us-east-1", "--to", "eu-west-1")
        status = fault(endpoint, "status")
        assert status["faults"]["paused"] == []
        assert status["pending"] == {}
        assert status["delivered"] == 1

        fault(endpoint, "lag", "2", "--jitter", "0.1")
        status = fault(endpoint, "status")
        assert (status["faults"]["lag"], status["faults"]["jitter"]) == (2.0, 0.1)

        fault(endpoint, "throttle", "0.25")
        assert fault(endpoint, "status")["faults"]["throttle"] == 0.25

        refused = gtcheck(
            "fault",
            "--endpoint-url",
            endpoint,
            "pause",
            "--from",
            "us-east-1",
            "--to",
            "ap-south-1",
        )
        assert_one_line_error(refused, 2, "ap-south-1")
        assert fault(endpoint, "status")["faults"]["paused"] == []


@pytest.mark.parametrize(
    ("args", "word"),
    [
        (["sim", "--port", "0", "--regions", "us-east-1,mars-1"], "mars-1"),
        (["sim", "--port", "0", "--regions", "us-east-1"], "two regions"),
        (["sim", "--port", "0", "--regions", "us-east-1,us-east-1"], "twice"),
        (["sim", "--port", "0", "--lag", "-1"], "--lag"),
        (["sim", "--port", "0", "--jitter", "-0.5"], "--jitter"),
        (["sim", "--port", "0", "--throttle", "1.5"], "--throttle"),
        (["sim", "--port", "0", "--throttle", "-0.1"], "--throttle"),
        (["sim", "--port", "0", "--replica-create-seconds", "-5"], "--replica-create-seconds"),
        (["sim", "--port", "0", "--replica-create-seconds", "7200"], "replica_create_seconds"),
        (["sim", "--port", "0", "--burst-seconds", "-1"], "--burst-seconds"),
        (["sim", "--port", "0", "--burst-seconds", "inf"], "--burst-seconds"),
        (["sim", "--port", "0", "--round-trip", "-0.1"], "--round-trip"),
        (["sim", "--port", "0", "--round-trip", "7200"], "round_trip"),
        (["sim", "--port", "0", "--no-capacity", "yes"], "yes"),
        (["sim", "--port", "0", "--bogus"], "--bogus"),
        (["sim", "--port", "abc"], "abc"),
        (["sim", "--port", "0", "--lag", "nan"], "nan"),
        (["fault", "lag", "-1"], ">= 0"),
        (["fault", "throttle", "1.5"], "1.5"),
        (["fault", "throttle", "-0.1"], "-0.1"),
        (["fault", "pause", "--from", "us-east-1", "--to", "mars-1"], "mars-1"),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else None,
)
def test_bad_input_is_one_line_and_exit_2(args, word):
    """Each bad flag or value is refused before anything starts: one line, exit 2."""
    assert_one_line_error(gtcheck(*args), 2, word)


@pytest.mark.server
def test_sim_on_a_busy_port_is_one_line_and_exit_2():
    """A port someone else listens on is a usage error, not a traceback."""
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        done = gtcheck("sim", "--port", str(port))
    assert_one_line_error(done, 2, str(port), "already in use")


def test_fault_without_a_sim_is_one_line_and_exit_3():
    """`gtcheck fault` where nothing listens is an environment error: one line, exit 3."""
    with socket.socket() as reserved:  # bound but not listening: connections are refused
        reserved.bind(("127.0.0.1", 0))
        endpoint = f"http://127.0.0.1:{reserved.getsockname()[1]}"
        done = gtcheck("fault", "--endpoint-url", endpoint, "status")
    assert_one_line_error(done, 3, endpoint)


def test_sim_capacity_and_replica_options_reach_the_config():
    """--burst-seconds, --no-capacity, --replica-create-seconds and --round-trip parse as
    documented."""
    from gtcheck.cli import build_parser

    words = ["sim", "--burst-seconds", "0", "--no-capacity", "--replica-create-seconds", "30"]
    words += ["--round-trip", "0.08"]
    args = build_parser(words).parse_args(words)
    assert (args.burst_seconds, args.capacity, args.replica_create_seconds) == (0.0, False, 30.0)
    assert args.round_trip == 0.08
    defaults = build_parser(["sim"]).parse_args(["sim"])
    assert (defaults.burst_seconds, defaults.capacity, defaults.replica_create_seconds) == (
        300.0,
        True,
        0.0,
    )
    assert defaults.round_trip == 0.0
