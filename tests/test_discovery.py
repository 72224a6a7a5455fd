"""`--all`: the participants a table holds, found from their profiles, near misses too."""

from __future__ import annotations

from gtcheck.workshop import participants_in


def profile(pk: str, sk: str = "PROFILE") -> dict:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def test_profiles_and_near_miss_profiles_are_participants() -> None:
    items = [
        profile("USER#global-user-ana"),
        profile("USER#global-user-bo"),
        profile("USER#global-user-bo", "ORDER#conflict-test"),
        profile("user#Global-User-cy"),
        profile("USER#global-user-dee ", " profile"),
        profile("PRODUCT#eu-product-x", "DETAILS"),
        {"PK": {"N": "1"}, "SK": {"S": "PROFILE"}},
    ]
    assert participants_in(items) == ["ana", "bo", "cy", "dee "]


def test_an_empty_name_is_nobody() -> None:
    assert participants_in([profile("USER#global-user-")]) == []
