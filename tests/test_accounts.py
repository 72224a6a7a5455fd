"""Reading a participant's own account: the row's target, and a read-only assumed role."""

from __future__ import annotations

import json
from typing import Any

from gtcheck import accounts, aws
from gtcheck.roster import Entry
from gtcheck.target import Target

SHARED = Target("demo-ecommerce-freetier", ("us-east-1", "eu-west-1"), "http://shared", None)
ROLE = "arn:aws:iam::123456789012:role/gtcheck-read"


def test_rows_without_their_own_place_share_the_target() -> None:
    assert accounts.target_for(Entry("ana", 2), SHARED) == SHARED
    own = accounts.target_for(Entry("bo", 3, endpoint_url="http://bo", table="t-bo"), SHARED)
    assert (own.endpoint_url, own.table, own.regions) == ("http://bo", "t-bo", SHARED.regions)


def test_the_session_policy_allows_only_what_a_check_reads() -> None:
    actions = set(accounts.read_only_policy()["Statement"][0]["Action"])
    assert "dynamodb:Query" in actions
    assert "dynamodb:GetRecords" in actions
    assert "cloudwatch:GetMetricStatistics" in actions
    assert not {a for a in actions if a.split(":")[1] in ("PutItem", "UpdateItem", "DeleteItem")}
    assert {a.split(":")[1] for a in actions} == set(aws.READ_ONLY_OPERATIONS)


class FakeSTS:
    def __init__(self) -> None:
        self.asked: dict[str, Any] = {}

    def assume_role(self, **request: Any) -> dict[str, Any]:
        self.asked = request
        return {"Credentials": {"AccessKeyId": "AK", "SecretAccessKey": "SK", "SessionToken": "T"}}


class FakeSession:
    def __init__(self) -> None:
        self.sts = FakeSTS()

    def client(self, service: str, **_: Any) -> FakeSTS:
        assert service == "sts"
        return self.sts


def test_a_role_is_assumed_with_the_read_only_session_policy() -> None:
    base = FakeSession()
    session = accounts.session_for(Entry("cy", 4, role_arn=ROLE), SHARED, base)
    asked = base.sts.asked
    assert asked["RoleArn"] == ROLE
    assert json.loads(asked["Policy"]) == accounts.read_only_policy()
    credentials = session.get_credentials()
    assert (credentials.access_key, credentials.token) == ("AK", "T")
