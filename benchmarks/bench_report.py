"""What writing the HTML report costs a check, measured side by side in one run.

Runs the same check with and without pytest-html, interleaved so machine noise hits both
alike, on the simulator in process (time injected, nothing to wait for: the worst case
for the ratio) and over HTTP with items written just before the check (real replication
waits: a participant's usual case). Prints medians, the ratio, and the report's size.

    .venv/bin/python benchmarks/bench_report.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.grading import write_workshop  # noqa: E402

from gtcheck import check  # noqa: E402
from gtcheck.config import Runtime  # noqa: E402
from gtcheck.sim import ManualClock, SimConfig, Simulator  # noqa: E402

MAX_RATIO = 1.10
MAX_BYTES = 2 * 1024 * 1024


def check_args(
    participant: str, report_dir: Path, *, no_html: bool, endpoint: str | None = None
) -> argparse.Namespace:
    return argparse.Namespace(
        participant=participant, product_id=None, endpoint_url=endpoint, profile=None,
        table="demo-ecommerce-freetier", regions=("us-east-1", "eu-west-1"), timeout=60.0,
        report_dir=report_dir, no_html=no_html,
    )  # fmt: skip


def timed(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def in_process(rounds: int, report_dir: Path) -> tuple[list[float], list[float]]:
    """Settled participant, injected time: the check is pure reading and reporting."""
    clock = ManualClock(start=time.time())
    sim = Simulator(SimConfig(lag=1.0, jitter=0.0), clock=clock)
    write_workshop(sim, "ana")
    runtime = Runtime(session=sim.session(), monotonic=clock.now, sleep=sim.advance)
    plain, html = [], []
    for index in range(rounds + 1):
        without = timed(
            lambda: check.run(check_args("ana", report_dir, no_html=True), runtime, quiet=True)
        )
        with_html = timed(
            lambda: check.run(check_args("ana", report_dir, no_html=False), runtime, quiet=True)
        )
        if index:  # the first round warms imports and caches
            plain.append(without)
            html.append(with_html)
    return plain, html


def over_http(rounds: int, report_dir: Path) -> tuple[list[float], list[float]]:
    """Items written just before each check over HTTP, lag 1 s: real waits included."""
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    sim = Simulator(SimConfig(lag=1.0, jitter=0.0))
    server = sim.serve("127.0.0.1", 0)
    plain, html = [], []
    try:
        for index in range(rounds):
            for no_html, sink in ((True, plain), (False, html)):
                name = f"p{index}{'a' if no_html else 'b'}"
                write_workshop(sim, name, settle=False)
                args = check_args(name, report_dir, no_html=no_html, endpoint=server.endpoint)
                sink.append(timed(lambda a=args: check.run(a, quiet=True)))
    finally:
        server.stop()
    return plain, html


def report(label: str, plain: list[float], html: list[float]) -> bool:
    base, with_html = statistics.median(plain), statistics.median(html)
    ratios = [b / a for a, b in zip(plain, html, strict=True)]
    ratio = statistics.median(ratios)
    ok = ratio <= MAX_RATIO
    print(f"{label}")
    print(f"  check without HTML, median       {base * 1000:8.1f} ms  ({len(plain)} runs)")
    print(f"  check with HTML, median          {with_html * 1000:8.1f} ms")
    print(f"  added by the report              {(with_html - base) * 1000:8.1f} ms")
    print(
        f"  ratio with/without (median of pairs) {ratio:.3f}  (needs <= {MAX_RATIO})  "
        f"{'ok' if ok else 'FAILED'}"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    quick = parser.parse_args().quick
    print(f"gtcheck report benchmark: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as folder:
        report_dir = Path(folder)
        ok = report(
            "in process, settled participant (worst case)",
            *in_process(4 if quick else 12, report_dir),
        )
        ok = (
            report(
                "over HTTP, items written just before the check (lag 1 s)",
                *over_http(2 if quick else 5, report_dir),
            )
            and ok
        )
        sizes = [path.stat().st_size for path in report_dir.glob("*.html")]
        largest = max(sizes)
        size_ok = largest <= MAX_BYTES
        print(
            f"largest report {largest / 1024:.0f} KiB (needs <= 2048 KiB)  "
            f"{'ok' if size_ok else 'FAILED'}"
        )
    print("all bars met" if ok and size_ok else "a bar was missed")
    return 0 if ok and size_ok else 1


if __name__ == "__main__":
    sys.exit(main())
