"""Keep credentials out of every log a report may embed.

With debug logging on, botocore logs request headers (the access key id in the
Authorization header, the session token). While a run lasts, every log record is
scrubbed of the run's credential values before any handler, pytest's capture included,
formats it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from typing import Any

MASK = "****"
CREDENTIAL_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
)
MIN_SECRET_LENGTH = 4  # shorter values would mask ordinary words


def credential_values(session: Any = None) -> list[str]:
    """The credential strings in play: the environment's and the session's."""
    values = [os.environ.get(name, "") for name in CREDENTIAL_VARIABLES]
    if session is not None:
        try:
            credentials = session.get_credentials()
        except Exception:
            credentials = None
        if credentials is not None:
            frozen = credentials.get_frozen_credentials()
            values += [frozen.access_key or "", frozen.secret_key or "", frozen.token or ""]
    return sorted({v for v in values if len(v) >= MIN_SECRET_LENGTH}, key=len, reverse=True)


def scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, MASK)
    return text


class Redaction:
    """Installs a log record factory that masks `secrets`; `remove` restores the old one."""

    def __init__(self, secrets: list[str]) -> None:
        self.secrets = secrets
        self._previous: Callable[..., logging.LogRecord] | None = None

    def install(self) -> Redaction:
        if not self.secrets or self._previous is not None:
            return self
        previous = logging.getLogRecordFactory()
        self._previous = previous
        secrets = self.secrets

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            try:
                message = record.getMessage()
            except Exception:
                return record
            cleaned = scrub(message, secrets)
            if cleaned != message:
                record.msg, record.args = cleaned, None
            return record

        logging.setLogRecordFactory(factory)
        return self

    def remove(self) -> None:
        if self._previous is not None:
            logging.setLogRecordFactory(self._previous)
            self._previous = None
