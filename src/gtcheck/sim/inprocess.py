"""The in-process door: boto3 clients whose requests go straight into the simulator."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.config import Config
from moto.core.botocore_stubber import MockRawResponse

from gtcheck.sim import wsgi

# A host that cannot resolve: if the door were ever bypassed, nothing leaves the machine.
IN_PROCESS_ENDPOINT = "http://gtcheck-sim.invalid"


class InProcessDoor:
    """A botocore `before-send` handler that answers every request from a WSGI app."""

    def __init__(self, app: wsgi.WsgiApp) -> None:
        self._app = app

    def __call__(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        body = request.body
        if hasattr(body, "read"):
            body = body.read()
        if isinstance(body, str):
            body = body.encode("utf-8")
        headers = [
            (name, value.decode() if isinstance(value, bytes) else str(value))
            for name, value in request.headers.items()
        ]
        response = wsgi.call(self._app, request.method, request.url, headers, body or b"")
        return AWSResponse(
            request.url, response.status, dict(response.headers), MockRawResponse(response.body)
        )


def session(app: wsgi.WsgiApp, region: str) -> boto3.Session:
    """A boto3 session whose clients talk to `app` in process (register before clients)."""
    boto_session = boto3.Session(
        aws_access_key_id="gtcheck-sim",
        aws_secret_access_key="gtcheck-sim",
        region_name=region,
    )
    boto_session.events.register_first("before-send", InProcessDoor(app))
    return boto_session


def client(app: wsgi.WsgiApp, service: str, region: str, config: Config | None = None) -> Any:
    """One client of `service` in `region`, served in process."""
    return session(app, region).client(
        service, region_name=region, endpoint_url=IN_PROCESS_ENDPOINT, config=config
    )
