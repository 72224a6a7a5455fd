"""What every benchmark prints: figures as they are measured, bars judged on the way, and
a summary whose exit code says whether every bar was met."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Bar:
    name: str
    shown: str
    limit: str
    ok: bool


@dataclass
class Report:
    """Rows printed as they are measured, and the bars judged on the way."""

    label_width: int = 52
    bars: list[Bar] = field(default_factory=list)

    def section(self, title: str) -> None:
        print(f"\n{title}", flush=True)

    def row(self, label: str, value: str) -> None:
        print(f"  {label:<{self.label_width}} {value}", flush=True)

    def bar(self, name: str, shown: str, limit: str, ok: bool) -> None:
        self.bars.append(Bar(name, shown, limit, ok))
        self.row(f"bar: {name}", f"{shown}  (needs {limit})  {'ok' if ok else 'FAILED'}")

    def guarded(self, name: str, part: Callable[[], None]) -> None:
        """Run one part; a crash fails its bar instead of hiding the other parts' figures."""
        try:
            part()
        except Exception as problem:  # any crash is a failed bar, shown in full
            traceback.print_exc()
            self.bar(f"{name} ran to the end", type(problem).__name__, "no error", False)

    def summary(self, elapsed: float, value_width: int = 10) -> int:
        """Print every bar and the verdict; 0 if all were met, else 1."""
        width = self.label_width
        print("\nsummary")
        print(f"  {'bar':<{width}} {'value':>{value_width}}  {'needs':<10} result")
        for bar in self.bars:
            verdict = "ok" if bar.ok else "FAILED"
            print(f"  {bar.name:<{width}} {bar.shown:>{value_width}}  {bar.limit:<10} {verdict}")
        print(f"  total time {elapsed:.1f} s")
        failed = [bar for bar in self.bars if not bar.ok]
        for bar in failed:
            print(f"FAILED: {bar.name} = {bar.shown}, needs {bar.limit}")
        print("all bars met" if not failed else f"{len(failed)} bar(s) failed")
        return 1 if failed else 0

    def measured_only(self, elapsed: float, value_width: int = 10) -> int:
        """The summary of a benchmark that reports bars without enforcing them: exit 0 when
        every part ran to the end, 2 when one crashed (its figures are missing)."""
        self.summary(elapsed, value_width)
        crashed = [bar.name for bar in self.bars if bar.name.endswith("ran to the end")]
        if crashed:
            print(f"exit 2: a part crashed ({', '.join(crashed)}); its figures are missing")
            return 2
        print("exit 0: the benchmark ran to the end; missed bars are reported above, not enforced")
        return 0


def print_machine(title: str) -> None:
    """The benchmark's name and the facts that make its figures comparable: machine,
    load, and the versions of what is measured."""
    import os
    import platform

    import boto3
    import moto

    cores = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    print(title)
    print(f"  machine: {platform.platform()}, {cores} cores ({usable} usable), load {load}")
    print(
        f"  python {platform.python_version()}, moto {moto.__version__}, boto3 {boto3.__version__}"
    )
