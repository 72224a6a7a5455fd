"""AWS access for gtcheck: one client per region, a read-only guard, errors classified.

Every failure that is the environment's fault (unreachable endpoint, no credentials,
access denied, missing table) becomes `EnvironmentProblem`, so a step is marked `error`,
never `failed`; throttling and transient errors are `Transient`, retried by the caller.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
)

from gtcheck.errors import EnvironmentProblem, ResourceMissing, UsageError
from gtcheck.i18n import _
from gtcheck.target import Target

READ_ONLY_OPERATIONS = frozenset(
    {
        # DynamoDB
        "DescribeTable", "DescribeTimeToLive", "DescribeContinuousBackups", "ListTables",
        "GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems",
        # DynamoDB Streams
        "DescribeStream", "ListStreams", "GetShardIterator", "GetRecords",
        # CloudWatch
        "GetMetricStatistics", "GetMetricData", "ListMetrics",
    }
)  # fmt: skip
TRANSIENT_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException", "ThrottlingException", "Throttling",
        "RequestLimitExceeded", "InternalServerError", "ServiceUnavailable",
        "InternalFailure", "LimitExceededException", "TransactionInProgressException",
    }
)  # fmt: skip
DENIED_CODES = frozenset(
    {
        "AccessDeniedException", "AccessDenied", "UnrecognizedClientException",
        "InvalidSignatureException", "ExpiredTokenException", "ExpiredToken",
        "InvalidClientTokenId", "MissingAuthenticationTokenException",
    }
)  # fmt: skip


class Transient(Exception):
    """Throttled or a passing fault: worth retrying with backoff."""


class ReadOnlyViolation(RuntimeError):
    """A read-only command tried to write: a bug in gtcheck, never the participant's fault."""


def make_session(target: Target) -> boto3.Session:
    """A session from the usual AWS sources (environment, profile), as the AWS CLI's."""
    try:
        return boto3.Session(profile_name=target.profile)
    except ProfileNotFound:
        raise UsageError(f"AWS profile {target.profile!r} is not configured") from None


class Clients:
    """One DynamoDB, DynamoDB Streams and CloudWatch client per region, made on demand.

    botocore's own retries are off: gtcheck retries with tenacity under one deadline and
    counts every attempt against the read budget.
    """

    def __init__(
        self, target: Target, session: boto3.Session | None = None, *, read_only: bool = True
    ) -> None:
        self.target = target
        self._session = session or make_session(target)
        self._read_only = read_only
        self._clients: dict[tuple[str, str], Any] = {}
        self._config = Config(
            retries={"total_max_attempts": 1},
            connect_timeout=5,
            read_timeout=20,
            max_pool_connections=20,
        )

    def dynamodb(self, region: str) -> Any:
        return self._client("dynamodb", region)

    def streams(self, region: str) -> Any:
        return self._client("dynamodbstreams", region)

    def cloudwatch(self, region: str) -> Any:
        return self._client("cloudwatch", region)

    def _client(self, service: str, region: str) -> Any:
        key = (service, region)
        if key not in self._clients:
            client = self._session.client(
                service,
                region_name=region,
                endpoint_url=self.target.endpoint_url,
                config=self._config,
            )
            if self._read_only:
                client.meta.events.register("before-call", _refuse_writes)
            self._clients[key] = client
        return self._clients[key]


def _refuse_writes(model: Any, **_: Any) -> None:
    if model.name not in READ_ONLY_OPERATIONS:
        raise ReadOnlyViolation(f"read-only run refused {model.name}")


def call(operation: Callable[..., Any], /, **kwargs: Any) -> Any:
    """Call one AWS operation and classify what goes wrong."""
    try:
        return operation(**kwargs)
    except ClientError as problem:
        raise classify(problem) from None
    except (EndpointConnectionError, ConnectionClosedError) as problem:
        raise EnvironmentProblem(
            _("cannot reach the endpoint: {error}").format(error=problem)
        ) from None
    except ReadTimeoutError as problem:
        raise Transient(str(problem)) from None
    except (NoCredentialsError, PartialCredentialsError):
        raise EnvironmentProblem(
            _(
                "no AWS credentials found: configure them (aws configure, a profile with "
                "--profile, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)"
            )
        ) from None
    except NoRegionError:
        raise UsageError("no region given: pass --regions") from None
    except BotoCoreError as problem:
        raise EnvironmentProblem(str(problem)) from None


def classify(problem: ClientError) -> Exception:
    """A ClientError as Transient, EnvironmentProblem, or itself (a real answer)."""
    error = problem.response.get("Error", {})
    code = error.get("Code", "")
    message = error.get("Message", "")
    operation = problem.operation_name
    if code in TRANSIENT_CODES:
        return Transient(f"{operation}: {code}")
    if code in DENIED_CODES:
        return EnvironmentProblem(
            _("access denied for {operation}: {message}").format(
                operation=operation, message=message or code
            )
        )
    if code == "ResourceNotFoundException":
        return ResourceMissing(f"{operation}: {message or 'resource not found'}")
    return problem
