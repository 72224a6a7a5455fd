"""The snapshot, built by hand: what is pending where, and when copies matched."""

from __future__ import annotations

from gtcheck.snapshot import Snapshot

US, EU = "us-east-1", "eu-west-1"
KEY = ("USER#global-user-ana", "PROFILE")
ITEM = {"PK": {"S": KEY[0]}, "SK": {"S": KEY[1]}, "name": {"S": "Ana"}}


def read(snapshot: Snapshot, copies: dict[str, dict | None], now: float = 1.0) -> None:
    snapshot.watch(KEY)
    for region, copy in copies.items():
        snapshot.remember(region, KEY, copy, now)
    snapshot.first_read_done([KEY])


def test_a_copy_missing_in_one_region_is_pending_there_only() -> None:
    snapshot = Snapshot((US, EU))
    read(snapshot, {US: ITEM, EU: None})
    assert snapshot.pending_keys([US, EU]) == {EU: [KEY]}
    assert snapshot.alone_at_first == {KEY: US}


def test_copies_that_differ_are_pending_everywhere() -> None:
    snapshot = Snapshot((US, EU))
    read(snapshot, {US: ITEM, EU: {**ITEM, "name": {"S": "Other"}}})
    assert snapshot.pending_keys([US, EU]) == {US: [KEY], EU: [KEY]}


def test_agreeing_copies_are_not_pending_and_match_when_the_last_one_arrives() -> None:
    snapshot = Snapshot((US, EU), started=0.0)
    read(snapshot, {US: ITEM, EU: None}, now=1.0)
    snapshot.remember(EU, KEY, ITEM, 3.5)
    assert snapshot.pending_keys([US, EU]) == {}
    assert snapshot.matched_at_s(US, KEY) == snapshot.matched_at_s(EU, KEY) == 3.5


def test_a_region_without_the_table_is_never_pending() -> None:
    snapshot = Snapshot((US, EU))
    read(snapshot, {US: ITEM})
    assert snapshot.pending_keys([US]) == {}


def test_a_stream_sighting_after_the_last_read_makes_a_key_due() -> None:
    snapshot = Snapshot((US, EU))
    read(snapshot, {US: ITEM, EU: None}, now=1.0)
    assert not snapshot.shown_since_read(EU, KEY)
    snapshot.stream_showed(EU, [KEY], 2.0)
    assert snapshot.shown_since_read(EU, KEY)
    snapshot.remember(EU, KEY, ITEM, 2.1)
    assert not snapshot.shown_since_read(EU, KEY)


def test_an_index_partition_is_pending_once_its_item_has_arrived() -> None:
    snapshot = Snapshot((US, EU))
    item = {**ITEM, "GSI1PK": {"S": "CATEGORY#x"}}
    read(snapshot, {US: item, EU: None})
    snapshot.index_watches.add(("GSI1", "CATEGORY#x", KEY))
    snapshot.remember_index((US, "GSI1", "CATEGORY#x"), {KEY}, 1.0)
    snapshot.remember_index((EU, "GSI1", "CATEGORY#x"), set(), 1.0)
    assert snapshot.pending_index([US, EU]) == []  # not in eu-west-1 yet: nothing to ask
    snapshot.remember(EU, KEY, item, 2.0)
    assert snapshot.pending_index([US, EU]) == [(EU, "GSI1", "CATEGORY#x")]


def test_a_key_named_after_a_whole_table_read_was_absent_at_that_read() -> None:
    """The first look may scan before any key is named: a key missing from a region's
    scan is absent there as of the scan, not unread (which would re-read it at once)."""
    snapshot = Snapshot((US, EU))
    snapshot.remember_scan(US, [ITEM], {KEY: ITEM}, 2.0)
    snapshot.remember_scan(EU, [], {}, 2.5)
    snapshot.watch(KEY)
    assert snapshot.copies(KEY) == {US: ITEM, EU: None}
    assert snapshot.last_read(EU, KEY) == 2.5
    snapshot.first_read_done([KEY])
    assert snapshot.pending_keys([US, EU]) == {EU: [KEY]}
    assert not snapshot.shown_since_read(EU, KEY)
    snapshot.stream_showed(EU, [KEY], 3.0)
    assert snapshot.shown_since_read(EU, KEY)
