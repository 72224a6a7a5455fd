"""Why a step did not pass, as data: a stable cause id with the parameters that explain it.

The ids are a contract (docs/reports.md#causes): tools count them across a class, so they
come from the diagnosis itself, never from a hint's words, which are translated.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Cause(StrEnum):
    NOT_FOUND = "not-found"
    WRONG_REGION = "wrong-region"
    NEAR_MISS_KEY = "near-miss-key"
    UNREPLACED_PLACEHOLDER = "unreplaced-placeholder"
    NUMBER_AS_STRING = "number-as-string"
    MISSING_ATTRIBUTE = "missing-attribute"
    WRONG_VALUE = "wrong-value"
    MISSING_GSI_KEYS = "missing-gsi-keys"
    AMBIGUOUS_PRODUCT = "ambiguous-product"
    REPLICA_MISSING = "replica-missing"
    REPLICA_NOT_ACTIVE = "replica-not-active"
    PENDING = "pending"
    ATTRIBUTES_DIFFER = "attributes-differ"
    MIXED_WRITE = "mixed-write"
    PREREQUISITE = "prerequisite"
    ENVIRONMENT = "environment"


# When one step has several problems, the first of these names it (docs/reports.md#causes):
# the environment before the participant's work; then whether the item is found at all,
# where it was written, what it holds (the most specific first: a placeholder explains the
# wrong values it leaves), and last how its copies replicate.
PRECEDENCE: tuple[Cause, ...] = (
    Cause.REPLICA_MISSING,
    Cause.REPLICA_NOT_ACTIVE,
    Cause.ENVIRONMENT,
    Cause.PREREQUISITE,
    Cause.NOT_FOUND,
    Cause.NEAR_MISS_KEY,
    Cause.AMBIGUOUS_PRODUCT,
    Cause.WRONG_REGION,
    Cause.UNREPLACED_PLACEHOLDER,
    Cause.NUMBER_AS_STRING,
    Cause.MISSING_GSI_KEYS,
    Cause.MIXED_WRITE,
    Cause.MISSING_ATTRIBUTE,
    Cause.WRONG_VALUE,
    Cause.PENDING,
    Cause.ATTRIBUTES_DIFFER,
)

# The causes an `error` step may keep from its check; any other error is `environment`.
ENVIRONMENT_CAUSES = frozenset({Cause.REPLICA_MISSING, Cause.REPLICA_NOT_ACTIVE, Cause.ENVIRONMENT})


@dataclass(frozen=True)
class Diagnosis:
    """One reason a step did not pass: its cause id and what it concerns (attribute,
    regions, keys), for the evidence. Hints are written from the same facts, not parsed."""

    cause: Cause
    params: Mapping[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"cause": str(self.cause), **self.params}


def diagnosis(cause: Cause, **params: Any) -> Diagnosis:
    return Diagnosis(cause, params)


def most_important(diagnoses: Iterable[Diagnosis]) -> Diagnosis:
    """The diagnosis that names a step with several problems, by PRECEDENCE."""
    return min(diagnoses, key=lambda found: PRECEDENCE.index(found.cause))
