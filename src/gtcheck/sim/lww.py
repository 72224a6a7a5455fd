"""Item-level last writer wins: versions per region and key, and the rule that orders them."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

ItemKey = tuple[str, Hashable]  # (table name, primary key)


@dataclass(frozen=True, order=True)
class Version:
    """When a write was applied (microseconds) and where; the larger version wins.

    Comparing the time first and the region name second gives every pair of writes one
    deterministic winner, in every region, whatever order they arrive in.
    """

    applied_us: int
    region: str
    deleted: bool = False


class VersionBook:
    """The version each region holds for each item, tombstones included."""

    def __init__(self) -> None:
        self._held: dict[str, dict[ItemKey, Version]] = {}

    def held(self, region: str, key: ItemKey) -> Version | None:
        return self._held.get(region, {}).get(key)

    def stamp_local(self, region: str, key: ItemKey, now: float, *, deleted: bool) -> Version:
        """Version a write made in `region` now; it always supersedes what the region held.

        A clock that stands still (tests) or lags a replicated write must not let a local
        write lose to what it overwrote, so the time is bumped past the held version.
        """
        applied_us = int(now * 1_000_000)
        held = self.held(region, key)
        if held is not None and applied_us <= held.applied_us:
            applied_us = held.applied_us + 1
        version = Version(applied_us, region, deleted)
        self._held.setdefault(region, {})[key] = version
        return version

    def admit(self, region: str, key: ItemKey, version: Version) -> bool:
        """Record a replicated version if it is newer than what `region` holds."""
        held = self.held(region, key)
        if held is not None and held >= version:
            return False
        self._held.setdefault(region, {})[key] = version
        return True

    def restore(self, region: str, key: ItemKey, version: Version | None) -> None:
        """Put back what `region` held before a write that did not happen after all."""
        held = self._held.setdefault(region, {})
        if version is None:
            held.pop(key, None)
        else:
            held[key] = version

    def copy_region(self, source: str, target: str, table: str) -> None:
        """A new replica starts with the versions of the region it was copied from."""
        copied = {key: v for key, v in self._held.get(source, {}).items() if key[0] == table}
        self._held.setdefault(target, {}).update(copied)

    def forget(self, region: str, table: str) -> None:
        """A replica that is deleted forgets its versions."""
        held = self._held.get(region, {})
        for key in [key for key in held if key[0] == table]:
            del held[key]
