"""Item-heavy responses written as the JSON they already are.

moto 5.2 serializes every response by walking the operation's output shape value by value.
For an item that costs about half a millisecond of the simulator's time, so a Scan of a
class's table (200 items) took over 100 ms and a stream's history of 200 records 200 ms:
most of what grading a class or validating an environment waits for. The results of the
operations below are already DynamoDB's JSON (attribute values as `{"S": ...}`), so they
skip the walk; status, headers and body are still made by moto's own serializer. Only the
values JSON cannot hold are converted, as that serializer converts them (timestamps to
epoch seconds, binary to base64). `tests/sim/test_fastjson.py` checks that every response
parses to what moto's walk gives.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from moto.core import responses
from moto.core.serialize import JSONSerializer, TimestampSerializer

FAST_OPERATIONS = frozenset(
    {
        ("dynamodb", "Scan"),
        ("dynamodb", "Query"),
        ("dynamodb", "GetItem"),
        ("dynamodb", "BatchGetItem"),
        ("dynamodbstreams", "GetRecords"),
    }
)
_INSTALLED = "_gtcheck_fast_json"


def install() -> None:
    """Route the operations above past moto's shape walk (once per process)."""
    original = responses.ActionResult.execute_result
    if getattr(original, _INSTALLED, False):
        return

    def execute_result(self: responses.ActionResult, context: Any) -> Any:
        if not fast(context, self.result):
            return original(self, context)
        serializer = context.serializer_class(operation_model=context.operation_model)
        response = serializer._serialized_result_to_response(
            serializer._create_default_response(),
            self.result,
            context.operation_model.output_shape,
            plain(self.result),
        )
        return response["status_code"], response["headers"], response["body"]

    setattr(execute_result, _INSTALLED, True)
    execute_result.moto = original  # type: ignore[attr-defined]  # the walk, for the tests
    responses.ActionResult.execute_result = execute_result  # type: ignore[method-assign]


def fast(context: Any, result: object) -> bool:
    """Is this a successful JSON response of one of the item-heavy operations?"""
    return (
        isinstance(result, dict)
        and issubclass(context.serializer_class, JSONSerializer)
        and (context.service_model.service_name, context.operation_model.name)
        in FAST_OPERATIONS
    )


def plain(value: Any) -> Any:
    """`value` as the JSON protocol writes it: no None members, timestamps as epoch
    seconds (to the millisecond), binary as base64."""
    if isinstance(value, dict):
        return {key: plain(inner) for key, inner in value.items() if inner is not None}
    if isinstance(value, list | tuple):
        return [plain(inner) for inner in value]
    if isinstance(value, datetime):
        return TimestampSerializer._timestamp_unixtimestamp(value)
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    return value
