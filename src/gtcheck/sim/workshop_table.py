"""The workshop table as its stack creates it (docs/rubric.md, "The environment")."""

from __future__ import annotations

from typing import Any

CAPACITY = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}


def _index(name: str) -> dict[str, Any]:
    return {
        "IndexName": name,
        "KeySchema": [
            {"AttributeName": f"{name}PK", "KeyType": "HASH"},
            {"AttributeName": f"{name}SK", "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "KEYS_ONLY"},
        "ProvisionedThroughput": dict(CAPACITY),
    }


def create_table_request(table: str) -> dict[str, Any]:
    """The CreateTable body: PK/SK strings, GSI1 and GSI2 KEYS_ONLY, 5/5 everywhere."""
    names = ("PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK")
    return {
        "TableName": table,
        "AttributeDefinitions": [{"AttributeName": n, "AttributeType": "S"} for n in names],
        "KeySchema": [
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [_index("GSI1"), _index("GSI2")],
        "BillingMode": "PROVISIONED",
        "ProvisionedThroughput": dict(CAPACITY),
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        "SSESpecification": {"Enabled": True},
    }


def follow_up_requests(table: str) -> list[tuple[str, dict[str, Any]]]:
    """What the stack sets after creation: TTL on `ttl` and point-in-time recovery."""
    return [
        (
            "UpdateTimeToLive",
            {
                "TableName": table,
                "TimeToLiveSpecification": {"Enabled": True, "AttributeName": "ttl"},
            },
        ),
        (
            "UpdateContinuousBackups",
            {
                "TableName": table,
                "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            },
        ),
    ]


def replica_create_request(description: dict[str, Any]) -> dict[str, Any]:
    """A CreateTable body that rebuilds a described table in another region."""
    request: dict[str, Any] = {
        "TableName": description["TableName"],
        "AttributeDefinitions": description["AttributeDefinitions"],
        "KeySchema": description["KeySchema"],
    }
    billing = description.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED")
    request["BillingMode"] = billing
    if billing == "PROVISIONED":
        request["ProvisionedThroughput"] = _capacity(description.get("ProvisionedThroughput"))
    indexes = []
    for index in description.get("GlobalSecondaryIndexes", []):
        copy = {k: index[k] for k in ("IndexName", "KeySchema", "Projection")}
        if billing == "PROVISIONED":
            copy["ProvisionedThroughput"] = _capacity(index.get("ProvisionedThroughput"))
        indexes.append(copy)
    if indexes:
        request["GlobalSecondaryIndexes"] = indexes
    local = [
        {k: index[k] for k in ("IndexName", "KeySchema", "Projection")}
        for index in description.get("LocalSecondaryIndexes", [])
    ]
    if local:
        request["LocalSecondaryIndexes"] = local
    if "StreamSpecification" in description:
        request["StreamSpecification"] = description["StreamSpecification"]
    if description.get("SSEDescription", {}).get("Status") == "ENABLED":
        request["SSESpecification"] = {"Enabled": True}
    return request


def _capacity(throughput: dict[str, Any] | None) -> dict[str, int]:
    throughput = throughput or {}
    return {
        "ReadCapacityUnits": int(throughput.get("ReadCapacityUnits") or 5),
        "WriteCapacityUnits": int(throughput.get("WriteCapacityUnits") or 5),
    }
