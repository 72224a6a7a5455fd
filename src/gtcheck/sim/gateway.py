"""The front of the simulator: one WSGI app both doors use, wrapped around moto's server.

It adds what moto lacks: the global-table view of DescribeTable and UpdateTable,
`ReplicaUpdates`, throttled reads, a control API for faults, and a request log.
"""

from __future__ import annotations

import binascii
import json
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from gtcheck.errors import GtcheckError
from gtcheck.sim import metering, streamlimit, wsgi

if TYPE_CHECKING:
    from gtcheck.sim.engine import Simulator

READ_OPERATIONS = metering.READ_OPERATIONS
WRITE_OPERATIONS = metering.WRITE_OPERATIONS
METERED_OPERATIONS = READ_OPERATIONS | WRITE_OPERATIONS
THROTTLED_MESSAGE = (
    "The level of configured provisioned throughput for the table was exceeded. "
    "Consider increasing your provisioning level with the UpdateTable API."
)
CONTROL_PREFIX = "/_gtcheck/"
STREAMS_TARGET = "DynamoDBStreams_20120810."


def json_response(status: int, payload: Any) -> wsgi.WsgiResponse:
    """A DynamoDB-style JSON response with the CRC32 header botocore verifies."""
    body = json.dumps(payload).encode()
    return wsgi.WsgiResponse(status, _headers(body), body)


def error_response(code: str, message: str, status: int = 400) -> wsgi.WsgiResponse:
    """An error in the JSON protocol's shape: `__type` with a namespace, and `message`."""
    return json_response(
        status, {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message}
    )


def _headers(body: bytes) -> list[tuple[str, str]]:
    return [
        ("Content-Type", wsgi.JSON_1_0),
        ("Content-Length", str(len(body))),
        ("x-amz-crc32", str(binascii.crc32(body) & 0xFFFFFFFF)),
        ("x-amzn-RequestId", "gtcheck-sim"),
    ]


class Gateway:
    """WSGI middleware: every request of either door passes here, under the engine's lock."""

    def __init__(self, sim: Simulator, moto_app: wsgi.WsgiApp) -> None:
        self._sim = sim
        self._moto = moto_app

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        path = environ.get("PATH_INFO", "")
        if path.startswith(CONTROL_PREFIX):
            response = self._control(environ["REQUEST_METHOD"], path, body)
        else:
            response = self._aws(environ, body)
        self._sim.pump()
        start_response(f"{response.status} -", response.headers)
        return [response.body]

    def _aws(self, environ: dict[str, Any], body: bytes) -> wsgi.WsgiResponse:
        region, service = wsgi.region_and_service(environ.get("HTTP_AUTHORIZATION", ""))
        operation = _operation(environ, body)
        if service != "dynamodb":
            operation = ""  # only DynamoDB's own operations get the global-table treatment
        sim = self._sim
        with sim.lock:
            sim.request_log.record(region, service, _operation(environ, body))
            if _is_streams(environ) and operation == "GetRecords":
                refused = self._get_records_refusal(region, body)
                if refused is not None:
                    return refused
            if operation in READ_OPERATIONS and sim.should_throttle():
                return error_response("ProvisionedThroughputExceededException", THROTTLED_MESSAGE)
            if operation == "UpdateTable":
                return self._update_table(environ, body, region)
            meter = self._meter(region, operation, body)
            if meter is not None and sim.capacity is not None:
                resources = meter.resources()
                if sim.capacity.admit(resources, meter.kind, sim.clock.now()) is not None:
                    return error_response(
                        "ProvisionedThroughputExceededException", THROTTLED_MESSAGE
                    )
            if operation == "TransactWriteItems":
                response = self._transact(environ, body)
            else:
                response = self._forward(environ, body)
            if meter is not None:
                return self._charged(meter, response)
            if operation == "DescribeTable" and response.status == 200:
                return self._with_replicas(response, "Table", region)
            if operation == "DeleteTable" and response.status == 200:
                sim.forget_replica(json.loads(body)["TableName"], region)
            return response

    def _meter(self, region: str, operation: str, body: bytes) -> metering.Meter | None:
        """A meter for a data request when capacity is enforced, else None."""
        if self._sim.capacity is None or operation not in METERED_OPERATIONS:
            return None
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            return None
        if not isinstance(request, dict):
            return None
        try:
            return metering.Meter(region, operation, request, self._sim.moto_table, self._sim.call)
        except (AttributeError, TypeError, KeyError):
            return None  # a malformed request: moto answers it with its own error

    def _charged(self, meter: metering.Meter, response: wsgi.WsgiResponse) -> wsgi.WsgiResponse:
        """Charge what the request consumed; add ConsumedCapacity when it was asked for."""
        mode = meter.request.get("ReturnConsumedCapacity", "NONE")
        wanted = response.status == 200 and mode in ("TOTAL", "INDEXES")
        needs_payload = wanted or response.status != 200 or meter.operation in ("Query", "Scan")
        payload = response.json() if needs_payload else {}
        units = meter.consumed(response.status, payload)
        now = self._sim.clock.now()
        for resource, amount in units.items():
            self._sim.capacity.charge(resource, meter.kind, amount, now)  # type: ignore[union-attr]
        if not wanted:
            return response
        payload["ConsumedCapacity"] = meter.consumed_capacity(units, mode)
        return json_response(200, payload)

    def _get_records_refusal(self, region: str, body: bytes) -> wsgi.WsgiResponse | None:
        """LimitExceededException past 5 GetRecords per second on the iterator's shard."""
        try:
            iterator = str(json.loads(body or b"{}").get("ShardIterator", ""))
        except (ValueError, AttributeError):
            return None  # moto answers a malformed request itself
        shard = self._sim.shard_of_iterator(region, iterator)
        if shard is None or self._sim.admit_get_records(region, *shard):
            return None
        shard_id = shard[1]
        return error_response(streamlimit.LIMIT_CODE, streamlimit.limit_message(shard_id))

    def _transact(self, environ: dict[str, Any], body: bytes) -> wsgi.WsgiResponse:
        """A transaction replicates only if it committed; moto rolls a cancelled one back
        by restoring the table from a copy, whose stream must be tapped afresh."""
        self._sim.begin_transaction()
        committed = False
        try:
            response = self._forward(environ, body)
            committed = response.status == 200
        finally:
            self._sim.end_transaction(committed)
            self._sim.tap_tables()
        return response

    def _forward(self, environ: dict[str, Any], body: bytes) -> wsgi.WsgiResponse:
        headers = [
            (key[5:].replace("_", "-").title(), value)
            for key, value in environ.items()
            if key.startswith("HTTP_")
        ]
        if environ.get("CONTENT_TYPE"):
            headers.append(("Content-Type", environ["CONTENT_TYPE"]))
        query = environ.get("QUERY_STRING", "")
        url = f"http://{environ.get('HTTP_HOST', 'localhost')}{environ.get('PATH_INFO', '/')}"
        return wsgi.call(
            self._moto,
            environ["REQUEST_METHOD"],
            url + (f"?{query}" if query else ""),
            headers,
            body,
        )

    def _update_table(self, environ: dict[str, Any], body: bytes, region: str) -> wsgi.WsgiResponse:
        request = json.loads(body or b"{}")
        updates = request.pop("ReplicaUpdates", None)
        if updates:
            try:
                self._sim.apply_replica_updates(request.get("TableName", ""), region, updates)
            except GtcheckError as problem:
                return error_response("ValidationException", str(problem))
        response = self._forward(environ, json.dumps(request).encode())
        self._sim.tap_tables()
        if response.status != 200:
            return response
        return self._with_replicas(response, "TableDescription", region)

    def _with_replicas(
        self, response: wsgi.WsgiResponse, member: str, region: str
    ) -> wsgi.WsgiResponse:
        payload = response.json()
        description = payload.get(member, {})
        replicas = self._sim.replica_descriptions(description.get("TableName", ""), region)
        if replicas is None:
            return response
        description["Replicas"] = replicas
        description["GlobalTableVersion"] = "2019.11.21"
        if self._sim.replica_status(description["TableName"], region) == "CREATING":
            description["TableStatus"] = "CREATING"  # the new replica's own table
        return json_response(200, payload)

    def _control(self, method: str, path: str, body: bytes) -> wsgi.WsgiResponse:
        """`GET /_gtcheck/state`; `POST /_gtcheck/faults` with a JSON body of changes."""
        try:
            if method == "POST" and path == f"{CONTROL_PREFIX}faults":
                self._sim.apply_fault_request(json.loads(body or b"{}"))
            elif not (method == "GET" and path == f"{CONTROL_PREFIX}state"):
                return json_response(404, {"error": f"no control endpoint {method} {path}"})
        except (GtcheckError, ValueError, TypeError, KeyError) as problem:
            return json_response(400, {"error": str(problem)})
        return json_response(200, self._sim.state())


def _is_streams(environ: dict[str, Any]) -> bool:
    """DynamoDB Streams signs as `dynamodb`; its JSON target names it apart."""
    return str(environ.get("HTTP_X_AMZ_TARGET", "")).startswith(STREAMS_TARGET)


def _operation(environ: dict[str, Any], body: bytes) -> str:
    """The operation a request names: JSON target, RPCv2 path or query `Action=`."""
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if "." in target:
        return target.split(".", 1)[1]
    path = environ.get("PATH_INFO", "")
    if "/operation/" in path:
        return path.rsplit("/", 1)[1]
    for part in body.split(b"&"):
        if part.startswith(b"Action="):
            return part[7:].decode(errors="replace")
    return ""
