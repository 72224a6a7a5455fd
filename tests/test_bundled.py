"""What ships inside the package: a template that cannot be used is one line, exit 2."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gtcheck import bundled, cli


class BrokenResource:
    def __init__(self, problem: str) -> None:
        self.problem = problem

    def joinpath(self, *parts: str) -> BrokenResource:
        return self

    def read_text(self, encoding: str = "utf-8") -> str:
        if self.problem == "unreadable":
            raise PermissionError(13, "Permission denied")
        if self.problem == "not-utf8":
            return b"\xff\xfe".decode("utf-8")
        return {"corrupt": '{"PK": ', "not-an-object": json.dumps(["PK"])}[self.problem]


@pytest.mark.parametrize("problem", ["unreadable", "not-utf8", "corrupt", "not-an-object"])
def test_a_broken_bundled_template_is_one_line_and_exit_2(
    problem: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    """`gtcheck solve` with a template it cannot read or parse: one line, exit 2."""
    real_files = bundled.resources.files

    def files(package: str) -> Any:
        return (
            BrokenResource(problem) if package == bundled.FIXTURES_PACKAGE else real_files(package)
        )

    monkeypatch.setattr(bundled.resources, "files", files)
    code = cli.main(["solve", "--participant", "ana", "--endpoint-url", "http://127.0.0.1:9"])
    captured = capsys.readouterr()
    assert code == 2
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("gtcheck solve: error: bundled template templates/")
    assert "Traceback" not in captured.err
