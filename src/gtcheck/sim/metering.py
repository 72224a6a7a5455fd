"""What one DynamoDB request consumes, read from the request and the region's moto tables.

Before the request runs, a Meter names the resources that must have capacity left (the
table, the index a Query reads, each GSI a write may touch); after it ran, it prices what
was really read or written, by DynamoDB's rules, and shapes `ConsumedCapacity`.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gtcheck.sim.capacity import Kind, Resource, item_size, read_units, write_units

READ_OPERATIONS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"})
WRITE_OPERATIONS = frozenset(
    {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
)
SINGLE_TABLE_OPERATIONS = frozenset(
    {"GetItem", "Query", "Scan", "PutItem", "UpdateItem", "DeleteItem"}
)
# What a Query or Scan keeps when it is re-run to see every item it read (before filters
# and projections, which do not lower the bill).
PAGE_PARAMETERS = (
    "TableName", "IndexName", "KeyConditionExpression", "KeyConditions", "ExclusiveStartKey",
    "Limit", "ScanIndexForward", "ConsistentRead", "Segment", "TotalSegments",
)  # fmt: skip
NARROWING_PARAMETERS = (
    "FilterExpression", "QueryFilter", "ScanFilter", "ProjectionExpression", "AttributesToGet",
)  # fmt: skip

Image = dict[str, Any]
TableLookup = Callable[[str, str], Any]  # (region, table name) -> moto Table or None
MotoCall = Callable[[str, str, dict[str, Any]], dict[str, Any]]  # (region, operation, request)


@dataclass
class Write:
    """One item a request writes (or checks), with its image before the request."""

    table: str
    key: Image
    transactional: bool
    touches: set[str] = field(default_factory=set)  # attribute names the request sets
    before: Image | None = None
    check_only: bool = False


class Meter:
    """One request's capacity: what must be admitted before it, what it consumed after."""

    def __init__(
        self,
        region: str,
        operation: str,
        request: dict[str, Any],
        table_of: TableLookup,
        call_moto: MotoCall,
    ) -> None:
        self.region = region
        self.operation = operation
        self.request = request
        self.kind = Kind.READ if operation in READ_OPERATIONS else Kind.WRITE
        self._table_of = table_of
        self._call_moto = call_moto
        self._writes = self._writes_of_request() if self.kind is Kind.WRITE else []
        for write in self._writes:
            write.before = self._current(write.table, write.key)

    # ----- before ------------------------------------------------------------------------------
    def resources(self) -> list[Resource]:
        """Every resource that must have capacity left for the request to be admitted."""
        if self.kind is Kind.READ:
            if self.operation in ("Query", "Scan"):
                return [self._page_resource()]
            return [self._resource(name) for name in self._read_tables()]
        found: list[Resource] = []
        for write in self._writes:
            for resource in [self._resource(write.table), *self._indexes_touched(write)]:
                if resource not in found:
                    found.append(resource)
        return found

    # ----- after -------------------------------------------------------------------------------
    def consumed(self, status: int, payload: dict[str, Any]) -> dict[Resource, float]:
        """What the request consumed, per resource; `payload` is moto's answer."""
        if status != 200:
            return self._failed_write() if self._condition_failed(status, payload) else {}
        if self.operation in ("Query", "Scan"):
            return self._page_read(payload)
        if self.kind is Kind.READ:
            return self._item_reads()
        return self._item_writes()

    def consumed_capacity(
        self, units: dict[Resource, float], mode: str
    ) -> dict[str, Any] | list[dict[str, Any]]:
        """`ConsumedCapacity` as botocore's model shapes it, for TOTAL or INDEXES."""
        member = "ReadCapacityUnits" if self.kind is Kind.READ else "WriteCapacityUnits"
        per_table: dict[str, dict[str, Any]] = {}
        for resource, amount in units.items():
            entry = per_table.setdefault(
                resource.table,
                {"TableName": resource.table, "CapacityUnits": 0.0, member: 0.0},
            )
            entry["CapacityUnits"] += amount
            entry[member] += amount
            if mode != "INDEXES":
                continue
            if resource.index is None:
                part = entry.setdefault("Table", {"CapacityUnits": 0.0, member: 0.0})
            else:
                part = entry.setdefault("GlobalSecondaryIndexes", {}).setdefault(
                    resource.index, {"CapacityUnits": 0.0, member: 0.0}
                )
            part["CapacityUnits"] += amount
            part[member] += amount
        if mode == "INDEXES":
            for entry in per_table.values():
                entry.setdefault("Table", {"CapacityUnits": 0.0, member: 0.0})
        entries = list(per_table.values())
        if self.operation in SINGLE_TABLE_OPERATIONS:
            return entries[0] if entries else {"TableName": self.request.get("TableName")}
        return entries

    # ----- reads -------------------------------------------------------------------------------
    def _read_tables(self) -> list[str]:
        if self.operation == "GetItem":
            return [self.request.get("TableName", "")]
        if self.operation == "BatchGetItem":
            return list(self.request.get("RequestItems", {}))
        names = [
            g.get("Get", {}).get("TableName", "") for g in self.request.get("TransactItems", [])
        ]
        return list(dict.fromkeys(names))

    def _item_reads(self) -> dict[Resource, float]:
        """GetItem, BatchGetItem, TransactGetItems: each item rounded up on its own."""
        units: dict[Resource, float] = {}
        if self.operation == "GetItem":
            reads = [(self.request.get("TableName", ""), self.request.get("Key", {}), False)]
            consistent = {reads[0][0]: bool(self.request.get("ConsistentRead"))}
        elif self.operation == "BatchGetItem":
            batch = self.request.get("RequestItems", {})
            reads = [(name, key, False) for name, spec in batch.items() for key in spec["Keys"]]
            consistent = {name: bool(spec.get("ConsistentRead")) for name, spec in batch.items()}
        else:
            gets = [g.get("Get", {}) for g in self.request.get("TransactItems", [])]
            reads = [(g.get("TableName", ""), g.get("Key", {}), True) for g in gets]
            consistent = {}
        for name, key, transactional in reads:
            size = item_size(self._current(name, key))
            resource = self._resource(name)
            units[resource] = units.get(resource, 0.0) + read_units(
                size, consistent=consistent.get(name, True), transactional=transactional
            )
        return units

    def _page_read(self, payload: dict[str, Any]) -> dict[Resource, float]:
        """Query and Scan: the total size of the items read for the page, per 4 KB."""
        items = payload.get("Items")
        narrowed = any(name in self.request for name in NARROWING_PARAMETERS)
        if items is None or narrowed or self.request.get("Select") not in (None, "ALL_ATTRIBUTES"):
            try:
                items = self._call_moto(self.region, self.operation, self._whole_page_request())
            except Exception:  # an unreadable page costs the minimum, as an empty one
                items = {"Items": []}
            items = items.get("Items", [])
        size = sum(item_size(item) for item in items)
        resource = self._page_resource()
        consistent = bool(self.request.get("ConsistentRead")) and resource.index is None
        return {resource: read_units(size, consistent=consistent)}

    def _page_resource(self) -> Resource:
        """The GSI a Query or Scan reads, or the table (a local index uses the table's)."""
        table = self.request.get("TableName", "")
        index = self.request.get("IndexName")
        model = self._table_of(self.region, table)
        gsis = {i.name for i in getattr(model, "global_indexes", [])}
        return self._resource(table, index if index in gsis else None)

    def _whole_page_request(self) -> dict[str, Any]:
        """The request without filters or projections: the items the page really read."""
        whole = {name: self.request[name] for name in PAGE_PARAMETERS if name in self.request}
        condition = str(self.request.get("KeyConditionExpression", ""))
        names = {k: v for k, v in self.request.get("ExpressionAttributeNames", {}).items()
                 if re.search(re.escape(k) + r"\b", condition)}  # fmt: skip
        values = {k: v for k, v in self.request.get("ExpressionAttributeValues", {}).items()
                  if re.search(re.escape(k) + r"\b", condition)}  # fmt: skip
        if names:
            whole["ExpressionAttributeNames"] = names
        if values:
            whole["ExpressionAttributeValues"] = values
        return whole

    # ----- writes ------------------------------------------------------------------------------
    def _writes_of_request(self) -> list[Write]:
        request, operation = self.request, self.operation
        if operation == "PutItem":
            return [self._put(request.get("TableName", ""), request.get("Item", {}), False)]
        if operation in ("UpdateItem", "DeleteItem"):
            table = request.get("TableName", "")
            return [Write(table, request.get("Key", {}), False, _named_attributes(request))]
        writes: list[Write] = []
        if operation == "BatchWriteItem":
            for table, entries in request.get("RequestItems", {}).items():
                for entry in entries:
                    if "PutRequest" in entry:
                        writes.append(self._put(table, entry["PutRequest"].get("Item", {}), False))
                    elif "DeleteRequest" in entry:
                        writes.append(Write(table, entry["DeleteRequest"].get("Key", {}), False))
            return writes
        for action in request.get("TransactItems", []):
            for name, spec in action.items():
                table = spec.get("TableName", "")
                if name == "Put":
                    writes.append(self._put(table, spec.get("Item", {}), True))
                else:
                    write = Write(table, spec.get("Key", {}), True, _named_attributes(spec))
                    write.check_only = name == "ConditionCheck"
                    writes.append(write)
        return writes

    def _put(self, table: str, item: Image, transactional: bool) -> Write:
        model = self._table_of(self.region, table)
        key_names = list(getattr(model, "table_key_attrs", None) or [])
        key = {name: item[name] for name in key_names if name in item}
        return Write(table, key, transactional, set(item))

    def _indexes_touched(self, write: Write) -> list[Resource]:
        """GSIs whose keys the item had before, or that the request names."""
        if write.check_only:
            return []
        model = self._table_of(self.region, write.table)
        touched = []
        for index in getattr(model, "global_indexes", []):
            keys = set(index.schema_key_attrs)
            if keys & write.touches or (write.before and keys <= set(write.before)):
                touched.append(self._resource(write.table, index.name))
        return touched

    def _item_writes(self) -> dict[Resource, float]:
        units: dict[Resource, float] = {}
        for write in self._writes:
            after = write.before if write.check_only else self._current(write.table, write.key)
            model = self._table_of(self.region, write.table)
            for resource, amount in write_charges(
                self.region, write.table, model, write.before, after, write.transactional
            ).items():
                if write.check_only and resource.index is not None:
                    continue
                units[resource] = units.get(resource, 0.0) + amount
        return units

    def _condition_failed(self, status: int, payload: dict[str, Any]) -> bool:
        """A single-item write whose condition failed still consumed write capacity."""
        code = str(payload.get("__type", "")).rsplit("#", 1)[-1]
        return (
            status == 400
            and code == "ConditionalCheckFailedException"
            and len(self._writes) == 1
            and self.operation in SINGLE_TABLE_OPERATIONS
        )

    def _failed_write(self) -> dict[Resource, float]:
        write = self._writes[0]
        return {self._resource(write.table): write_units(item_size(write.before))}

    # ----- moto --------------------------------------------------------------------------------
    def _resource(self, table: str, index: str | None = None) -> Resource:
        return Resource(self.region, table, index)

    def _current(self, table: str, key: Image) -> Image | None:
        return current_image(self._table_of(self.region, table), key)


def current_image(model: Any, key: Image) -> Image | None:
    """The whole item a moto table holds under `key` (typed JSON), or None."""
    if model is None:
        return None
    from moto.dynamodb.models.dynamo_type import DynamoType

    try:
        hash_key = DynamoType(key[model.hash_key_attr])
        range_name = model.range_key_attr
        range_key = DynamoType(key[range_name]) if range_name else None
        item = model.get_item(hash_key, range_key)
    except Exception:  # a malformed key: moto answers the request with its own error
        return None
    return None if item is None else copy.deepcopy(item.to_json()["Attributes"])


def write_charges(
    region: str,
    table: str,
    model: Any,
    before: Image | None,
    after: Image | None,
    transactional: bool = False,
) -> dict[Resource, float]:
    """The WCU one item's write consumes on its table and on each GSI it touches.

    The table pays for the larger of the item before and after. An index pays for the
    entry it loses, gains, or rewrites (a changed index key is a delete and a put; a
    changed projected attribute is one put); an index the item is not in pays nothing.
    """
    size = max(item_size(before), item_size(after))
    charges = {Resource(region, table): write_units(size, transactional=transactional)}
    for index in getattr(model, "global_indexes", []):
        old, new = _entry(model, index, before), _entry(model, index, after)
        if old is None and new is None:
            continue
        keys = index.schema_key_attrs
        if old is None or new is None:
            units = write_units(item_size(old or new), transactional=transactional)
        elif any(old.get(k) != new.get(k) for k in keys):
            units = write_units(item_size(old), transactional=transactional) + write_units(
                item_size(new), transactional=transactional
            )
        elif old != new:
            units = write_units(item_size(new), transactional=transactional)
        else:
            continue
        charges[Resource(region, table, index.name)] = units
    return charges


def _entry(model: Any, index: Any, image: Image | None) -> Image | None:
    """The index entry of an item: its projected attributes, or None if not indexed."""
    if image is None or not all(k in image for k in index.schema_key_attrs):
        return None
    projection = (index.projection or {}).get("ProjectionType", "ALL")
    if projection == "ALL":
        return image
    wanted = set(model.table_key_attrs) | set(index.schema_key_attrs)
    if projection == "INCLUDE":
        wanted |= set(index.projection.get("NonKeyAttributes", []))
    return {name: value for name, value in image.items() if name in wanted}


def _named_attributes(request: dict[str, Any]) -> set[str]:
    """Attribute names an update may set: in its expression, its names map, or AttributeUpdates."""
    names = set(request.get("ExpressionAttributeNames", {}).values())
    names |= set(request.get("AttributeUpdates", {}))
    names |= set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", str(request.get("UpdateExpression", ""))))
    return names
