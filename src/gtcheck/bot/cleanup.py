"""Removing what the bot wrote for a participant, and nothing else."""

from __future__ import annotations

import time
from collections.abc import Callable

from gtcheck import options, templates
from gtcheck.aws import Clients
from gtcheck.bot.plans import Key, planned_keys, show, timing_key_pattern
from gtcheck.bot.runner import Log, Runner, quiet
from gtcheck.target import Target
from gtcheck.templates import Placeholders


def cleanup(
    clients: Clients,
    target: Target,
    placeholders: Placeholders,
    *,
    log: Log = quiet,
    timeout: float = options.DEFAULT_TIMEOUT,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> int:
    """Delete, in every region, exactly what solve writes for the participant.

    Returns how many item copies were deleted (an item removed in two regions counts twice).
    """
    run = Runner(clients, target, sleep, monotonic, timeout, log)
    keys = planned_keys(target, placeholders)
    for region in target.regions:
        keys += [key for key in _timing_keys(run, region, placeholders) if key not in keys]
    deleted = 0
    for region in target.regions:
        for key in keys:
            response = run.request(
                region, "delete_item", Key=templates.to_attributes(key), ReturnValues="ALL_OLD"
            )
            if response.get("Attributes"):
                deleted += 1
                log(f"cleanup: deleted {show(key)} in {region}")
    return deleted


def _timing_keys(run: Runner, region: str, placeholders: Placeholders) -> list[Key]:
    """The participant's timing items in `region` (a Scan: their keys hold a timestamp)."""
    pattern = timing_key_pattern(placeholders.participant)
    page_template = templates.load(templates.TIMING)
    prefix = page_template["PK"].replace("[timestamp]", "")
    pages = run.pages(
        region,
        "scan",
        FilterExpression="begins_with(#pk, :prefix) AND #sk = :sk",
        ProjectionExpression="#pk, #sk",
        ExpressionAttributeNames={"#pk": "PK", "#sk": "SK"},
        ExpressionAttributeValues={":prefix": {"S": prefix}, ":sk": {"S": page_template["SK"]}},
    )
    keys: list[Key] = []
    for page in pages:
        for item in page.get("Items", []):
            pk = item.get("PK", {}).get("S", "")
            if pattern.fullmatch(pk) and {"PK": pk, "SK": page_template["SK"]} not in keys:
                keys.append({"PK": pk, "SK": page_template["SK"]})
    return keys
