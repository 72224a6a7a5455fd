"""The workshop page's JSON templates (bundled from fixtures/templates) and their placeholders."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from gtcheck import bundled

USER = "ex1_user"
PRODUCT = "ex2_product"
ORDER = "ex3_order"
ORDER_UPDATE_US = "ex3_update_us"
ORDER_UPDATE_EU = "ex3_update_eu"
TIMING = "ex5_timing"


@dataclass(frozen=True)
class Placeholders:
    """What a participant types in place of the page's `[...]` markers."""

    participant: str  # [your-name]
    product_id: str  # [unique-id]
    display_name: str = ""  # [Your Name]
    timestamp: str = ""  # [timestamp], in TEST#timing-[timestamp]
    exact_timestamp: str = ""  # [exact-timestamp]

    def substitutions(self) -> dict[str, str]:
        return {
            "[your-name]": self.participant,
            "[Your Name]": self.display_name or self.participant.title(),
            "[unique-id]": self.product_id,
            "[timestamp]": self.timestamp,
            "[exact-timestamp]": self.exact_timestamp,
        }


def load(name: str) -> dict[str, Any]:
    """A template as the page prints it (plain JSON, numbers as Decimal)."""
    return bundled.template(name)


def render(template: dict[str, Any], placeholders: Placeholders) -> dict[str, Any]:
    """Replace every placeholder in every string of the template."""
    subs = placeholders.substitutions()

    def fill(value: Any) -> Any:
        if isinstance(value, str):
            for marker, text in subs.items():
                value = value.replace(marker, text)
            return value
        if isinstance(value, dict):
            return {key: fill(inner) for key, inner in value.items()}
        if isinstance(value, list):
            return [fill(inner) for inner in value]
        return value

    return fill(template)


_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_attributes(item: dict[str, Any]) -> dict[str, Any]:
    """Plain values to DynamoDB attribute values, as the console's JSON view stores them."""
    return {key: _serializer.serialize(value) for key, value in item.items()}


def from_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB attribute values to plain values (numbers as Decimal)."""
    return {key: _deserializer.deserialize(value) for key, value in attributes.items()}
