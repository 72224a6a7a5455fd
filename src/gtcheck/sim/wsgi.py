"""Calling a WSGI app without sockets: moto's server app, and our gateway in front of it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from werkzeug.test import EnvironBuilder, run_wsgi_app

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
JSON_1_0 = "application/x-amz-json-1.0"
DYNAMODB_TARGET = "DynamoDB_20120810"


@dataclass
class WsgiResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"{}")


def call(
    app: WsgiApp, method: str, url: str, headers: Iterable[tuple[str, str]], body: bytes
) -> WsgiResponse:
    """Run one request through `app` in this thread and collect the whole response."""
    parts = urlsplit(url)
    environ = EnvironBuilder(
        path=parts.path or "/",
        query_string=parts.query,
        method=method,
        base_url=f"{parts.scheme or 'http'}://{parts.netloc or 'localhost'}",
        headers=list(headers),
        data=body,
    ).get_environ()
    app_iter, status, response_headers = run_wsgi_app(app, environ, buffered=True)
    try:
        payload = b"".join(app_iter)
    finally:
        close = getattr(app_iter, "close", None)
        if close is not None:
            close()
    return WsgiResponse(int(status.split()[0]), list(response_headers.items()), payload)


def internal_headers(
    region: str, operation: str, service: str = "dynamodb"
) -> list[tuple[str, str]]:
    """Headers that route a request to moto's backend for `region` (moto reads the scope)."""
    scope = f"gtcheck/20260101/{region}/{service}/aws4_request"
    return [
        ("Authorization", f"AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=host, Signature=0"),
        ("X-Amz-Target", f"{DYNAMODB_TARGET}.{operation}"),
        ("Content-Type", JSON_1_0),
    ]


def region_and_service(authorization: str) -> tuple[str, str]:
    """The region and service of a SigV4 Authorization header, or ('', '')."""
    try:
        scope = authorization.split(",")[0].split()[1]
        _, _, region, service, _ = scope.split("=", 1)[1].split("/")
    except (IndexError, ValueError):
        return "", ""
    return region, service
