"""The workshop pages' JSON templates (bundled from fixtures/templates, the Vietnamese
page's under vi/) and their placeholders."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from gtcheck import bundled
from gtcheck.workshop import PAGE_LANGUAGE, PAGE_PLACEHOLDERS

USER = "ex1_user"
PRODUCT = "ex2_product"
ORDER = "ex3_order"
ORDER_UPDATE_US = "ex3_update_us"
ORDER_UPDATE_EU = "ex3_update_eu"
TIMING = "ex5_timing"


@dataclass(frozen=True)
class Placeholders:
    """What a participant types in place of the page's `[...]` markers."""

    participant: str  # [your-name], [tên-của-bạn]
    product_id: str  # [unique-id], [id-duy-nhat]
    display_name: str = ""  # [Your Name], [Tên Của Bạn]
    timestamp: str = ""  # [timestamp], in TEST#timing-[timestamp]
    exact_timestamp: str = ""  # [exact-timestamp]

    def substitutions(self) -> dict[str, str]:
        """Every page's markers to the participant's values (a template holds only its
        own page's markers, so one table serves every language)."""
        subs = {}
        for page in PAGE_PLACEHOLDERS.values():
            subs.update(
                {
                    page.participant: self.participant,
                    page.display_name: self.display_name or self.participant.title(),
                    page.product_id: self.product_id,
                    page.timestamp: self.timestamp,
                    page.exact_timestamp: self.exact_timestamp,
                }
            )
        return subs


def load(name: str, language: str = PAGE_LANGUAGE) -> dict[str, Any]:
    """A template as `language`'s page prints it (plain JSON, numbers as Decimal)."""
    return bundled.template(name, None if language == PAGE_LANGUAGE else language)


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
