"""The roster: what a class list may hold, and one line naming file and line otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from gtcheck.errors import UsageError
from gtcheck.roster import Entry, parse, read


def test_rows_share_the_table_unless_they_name_their_own() -> None:
    text = (
        "# class of December\n"
        "participant,product_id,endpoint_url,profile,role_arn,table\n"
        "\n"
        "ana,,,,,\n"
        "bo,b-1,http://127.0.0.1:4566,,,\n"
        "cy,,,,arn:aws:iam::123456789012:role/gtcheck-read,demo-ecommerce-freetier\n"
    )
    ana, bo, cy = parse(text, "class.csv")
    assert ana == Entry("ana", 4)
    assert not ana.own_account
    assert (bo.product_id, bo.endpoint_url) == ("b-1", "http://127.0.0.1:4566")
    assert bo.own_account
    assert cy.role_arn == "arn:aws:iam::123456789012:role/gtcheck-read"


def test_names_are_kept_as_typed() -> None:
    (entry,) = parse('participant\n"=1+1, Nguyễn <b>"\n', "x.csv")
    assert entry.participant == "=1+1, Nguyễn <b>"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "x.csv: no header row"),
        ("name,table\nana,t\n", "x.csv:1: no participant column"),
        ("participant,colour\nana,red\n", "x.csv:1: unknown column 'colour'"),
        ("participant\n", "x.csv: no participant rows"),
        ("participant\nana\n\nana\n", "x.csv:4: participant 'ana' is already on line 2"),
        ("participant,profile\n,p\n", "x.csv:2: --participant must not be empty"),
        ("participant\nana,extra\n", "x.csv:2: 2 cells where the header has 1"),
        ('participant\n"ana\n', "x.csv:2: not CSV"),
        ("participant,role_arn\nana,admin\n", "x.csv:2: role_arn 'admin' is not"),
        ("participant,endpoint_url\nana,localhost\n", "x.csv:2: endpoint_url must start"),
        ("participant\x00\nana\n", "x.csv: not a CSV file"),
    ],
)
def test_bad_rosters_are_one_line_naming_file_and_line(text: str, message: str) -> None:
    with pytest.raises(UsageError) as raised:
        parse(text, "x.csv")
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_missing_or_binary_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot be read"):
        read(tmp_path / "absent.csv")
    binary = tmp_path / "class.xlsx"
    binary.write_bytes(b"PK\x03\x04\xff\xfe\x00")
    with pytest.raises(UsageError, match=r"class\.xlsx"):
        read(binary)
