"""Whose account a participant's table is read in: the run's own, a profile, or a role.

A roster row with a `role_arn` is read through STS AssumeRole with a session policy that
allows only the reads a check makes, so even a role that could write cannot write through
gtcheck; a row with a `profile` uses that profile; every other row shares the run's target.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from gtcheck import aws
from gtcheck.errors import EnvironmentProblem
from gtcheck.i18n import _
from gtcheck.roster import Entry
from gtcheck.target import Target

SESSION_NAME = "gtcheck-grade"
SESSION_SECONDS = 3600
METRIC_OPERATIONS = frozenset({"GetMetricStatistics", "GetMetricData", "ListMetrics"})


def read_only_policy() -> dict[str, Any]:
    """An IAM session policy allowing exactly the operations a check may call."""
    actions = sorted(
        f"{'cloudwatch' if operation in METRIC_OPERATIONS else 'dynamodb'}:{operation}"
        for operation in aws.READ_ONLY_OPERATIONS
    )
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}],
    }


@dataclass(frozen=True)
class Account:
    """Where one participant's table is, and the session that reads it."""

    target: Target
    session: Any  # a boto3 Session

    @property
    def key(self) -> tuple[str | None, str | None, str]:
        return (self.target.endpoint_url, self.target.profile, self.target.table)


def target_for(entry: Entry, shared: Target) -> Target:
    """The row's own endpoint, profile or table where it names one, else the shared ones."""
    return Target(
        table=entry.table or shared.table,
        regions=shared.regions,
        endpoint_url=entry.endpoint_url or shared.endpoint_url,
        profile=entry.profile or (None if entry.own_account else shared.profile),
    )


def session_for(entry: Entry, target: Target, shared_session: Any | None) -> Any:
    """A boto3 session to read `entry`'s table: an assumed role, the row's profile, or the
    run's own session (None: the usual AWS sources, as the AWS CLI)."""
    if entry.role_arn:
        base = aws.make_session(target) if entry.profile else shared_session
        return assume_read_only(base or aws.make_session(target), entry.role_arn, target)
    if entry.profile or entry.endpoint_url:
        return own_session(target.profile)  # its own place: never the run's (injected) one
    return shared_session


@cache
def own_session(profile: str | None) -> Any:
    """One session per profile for every row that names its own place: they share its
    credentials and its loaded service models, so forty endpoints cost little more than
    one. Clients are made from it on the main thread only (a session is not thread-safe)."""
    return aws.make_session(Target("", ("",), profile=profile))


def assume_read_only(base: Any, role_arn: str, target: Target) -> Any:
    """STS AssumeRole for `role_arn`, narrowed by the read-only session policy."""
    import boto3

    sts = base.client("sts", region_name=target.primary, endpoint_url=target.endpoint_url)
    try:
        answer = aws.call(
            sts.assume_role,
            RoleArn=role_arn,
            RoleSessionName=SESSION_NAME,
            Policy=json.dumps(read_only_policy(), separators=(",", ":")),
            DurationSeconds=SESSION_SECONDS,
        )
    except aws.Transient as problem:
        raise EnvironmentProblem(
            _("cannot assume {role}: {error}").format(role=role_arn, error=problem)
        ) from None
    credentials = answer["Credentials"]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
