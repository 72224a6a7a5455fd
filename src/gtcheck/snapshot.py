"""What a run has read of the workshop table, where and when: plain data.

The snapshot holds no client and reads nothing; the reader fills it and the world asks it
what is still pending. Unit tests build one by hand.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from gtcheck.items import Attributes, Key, identical

IndexPartition = tuple[str, str, str]  # (region, index, partition value)


@dataclass
class Snapshot:
    """Copies per region and key, when each was read, and what the streams showed since."""

    regions: tuple[str, ...]
    started: float = 0.0
    # Keys in the order they were named (a dict: ordered, and a class's thousands of
    # keys are looked up in constant time).
    watched: dict[Key, None] = field(default_factory=dict)
    read_keys: set[Key] = field(default_factory=set)
    items: dict[tuple[str, Key], Attributes | None] = field(default_factory=dict)
    read_at: dict[tuple[str, Key], float] = field(default_factory=dict)
    matched_at: dict[tuple[str, Key], float] = field(default_factory=dict)
    alone_at_first: dict[Key, str] = field(default_factory=dict)
    scans: dict[str, list[Attributes]] = field(default_factory=dict)
    scanned_at: dict[str, float] = field(default_factory=dict)  # whole-table reads only
    index: dict[IndexPartition, set[Key]] = field(default_factory=dict)
    index_read_at: dict[IndexPartition, float] = field(default_factory=dict)
    index_watches: set[tuple[str, str, Key]] = field(default_factory=set)
    stream_seen: dict[tuple[str, Key], float] = field(default_factory=dict)

    # ----- what is known -----------------------------------------------------------------
    _unread: dict[Key, None] = field(default_factory=dict)

    def watch(self, *keys: Key) -> None:
        """Keys to keep fresh. A region already read whole answered for a new key too:
        where the key was not in it, it was absent at that read (so a wait re-reads it
        when the stream shows it, not at once)."""
        for key in keys:
            if key not in self.watched:
                self.watched[key] = None
                if key not in self.read_keys:
                    self._unread[key] = None
                for region, read_at in self.scanned_at.items():
                    if (region, key) not in self.items:
                        self.remember(region, key, None, read_at)

    def unread(self) -> list[Key]:
        return list(self._unread)

    def copies(self, key: Key) -> dict[str, Attributes | None]:
        return {region: self.items.get((region, key)) for region in self.regions}

    def last_read(self, region: str, key: Key) -> float:
        return self.read_at.get((region, key), -math.inf)

    def matched_at_s(self, region: str, key: Key) -> float:
        """When `region`'s copy of `key` first matched every other, from the run's start."""
        return round(self.matched_at.get((region, key), self.started) - self.started, 3)

    # ----- recording reads -----------------------------------------------------------------
    def remember(self, region: str, key: Key, item: Attributes | None, now: float) -> None:
        """A copy read now; when every region's copy agrees, they all matched now."""
        self.items[(region, key)] = item
        self.read_at[(region, key)] = now
        copies = self.copies(key).values()
        if item is not None and all(identical(copy, item) for copy in copies):
            for other in self.regions:
                self.matched_at.setdefault((other, key), now)

    def first_read_done(self, keys: list[Key]) -> None:
        """The first read of `keys` is over: an item only one region held was written there."""
        for key in keys:
            holders = [r for r in self.regions if self.items.get((r, key)) is not None]
            if len(holders) == 1:
                self.alone_at_first[key] = holders[0]
            self._unread.pop(key, None)
        self.read_keys.update(keys)

    def remember_scan(
        self, region: str, items: list[Attributes], keyed: dict[Key, Attributes], now: float
    ) -> None:
        """A whole-table read of `region`: absent means absent for every watched key."""
        self.scans[region] = items
        self.scanned_at[region] = now
        for key in self.watched:
            if (region, key) not in self.items:
                self.remember(region, key, keyed.get(key), now)
        for key, item in keyed.items():
            if (region, key) not in self.items:
                self.remember(region, key, item, now)

    def remember_index(self, partition: IndexPartition, keys: set[Key], now: float) -> None:
        self.index[partition] = keys
        self.index_read_at[partition] = now

    def stream_showed(self, region: str, keys: set[Key] | list[Key], now: float) -> None:
        for key in keys:
            self.stream_seen[(region, key)] = now

    def shown_since_read(self, region: str, key: Key) -> bool:
        """Did the region's stream show a write to `key` after it was last read there?"""
        seen = self.stream_seen.get((region, key))
        return seen is not None and seen >= self.last_read(region, key)

    # ----- what is pending -----------------------------------------------------------------
    def pending_keys(self, readable: list[str]) -> dict[str, list[Key]]:
        """Per readable region, the keys to re-read there: where a copy is missing while the
        others agree, only the regions missing it; where copies differ, every region."""
        pending: dict[str, list[Key]] = {}
        for key in self.watched:
            if key not in self.read_keys:
                continue
            copies = {region: self.items.get((region, key)) for region in readable}
            if agree(copies.values()):
                continue
            present = [copy for copy in copies.values() if copy is not None]
            behind = [r for r, c in copies.items() if c is None] if agree(present) else []
            for region in behind or readable:
                pending.setdefault(region, []).append(key)
        return pending

    def pending_index(self, readable: list[str]) -> list[IndexPartition]:
        """Index partitions to query again: the item has arrived, its index entry has not."""
        pending = set()
        for index, partition, key in self.index_watches:
            for region in readable:
                cached = self.index.get((region, index, partition))
                item = self.items.get((region, key))
                listed = item is not None and item.get(f"{index}PK") == {"S": partition}
                if cached is not None and key not in cached and listed:
                    pending.add((region, index, partition))
        return sorted(pending)


def agree(copies: object) -> bool:
    """Regions agree when every copy is identical (all absent counts as agreeing)."""
    values = list(copies)  # type: ignore[call-overload]
    return all(identical(copy, values[0]) for copy in values)
