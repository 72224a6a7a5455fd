"""Where the workshop table lives: plain data, light to import (no boto3)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    """The table, its regions (the first is the primary), and how to reach them."""

    table: str
    regions: tuple[str, ...]
    endpoint_url: str | None = None
    profile: str | None = None

    @property
    def primary(self) -> str:
        return self.regions[0]
