"""The schema a client introspects says what it needs to build forms and handle errors:
every error code described as it was declared, and the username and password rules on
the arguments that take them (GraphiQL's docs and generated clients show both)."""

from __future__ import annotations

from typing import Any

from app.concepts.user_authentication.concept import PASSWORD_LENGTH, PASSWORD_RULE, USERNAME_LENGTH, USERNAME_RULE
from app.protocol import codes

from .helpers import REGISTER, Api

CODES = """
query Codes($name: String!) {
  __type(name: $name) { description enumValues { name description } }
}
"""

ARGUMENTS = """
{ __type(name: "Mutation") { fields { name args { name description } } } }
"""


async def described(api: Api, enum: str) -> tuple[str, dict[str, str]]:
    body = await api.gql(CODES, {"name": enum})
    found = body["data"]["__type"]
    return found["description"], {value["name"]: value["description"] for value in found["enumValues"]}


async def arguments(api: Api) -> dict[str, dict[str, Any]]:
    body = await api.gql(ARGUMENTS)
    return {
        field["name"]: {arg["name"]: arg["description"] for arg in field["args"]}
        for field in body["data"]["__type"]["fields"]
    }


async def test_every_error_code_a_user_error_can_carry_is_described(api: Api) -> None:
    description, values = await described(api, "ErrorCode")

    assert list(values) == codes.domain_codes()
    assert values == {code: codes.description(code) for code in codes.domain_codes()}
    assert all(values.values())
    assert "UserError" in description


async def test_every_code_of_a_request_error_is_described_in_the_schema(api: Api) -> None:
    description, values = await described(api, "RequestErrorCode")

    assert list(values) == sorted(codes.request_level_codes())
    assert values == {code: codes.description(code) for code in codes.request_level_codes()}
    assert "UNAUTHENTICATED" in values and "extensions.code" in description


async def test_the_username_and_password_rules_are_on_the_arguments_that_take_them(api: Api) -> None:
    described = await arguments(api)

    assert described["register"]["username"] == f"The new account's name: {USERNAME_RULE}."
    assert described["register"]["password"] == f"The new account's password: {PASSWORD_RULE}."
    assert described["changePassword"]["newPassword"] == f"The new password: {PASSWORD_RULE}."
    assert f"{USERNAME_LENGTH.start} to {USERNAME_LENGTH[-1]} ASCII letters" in USERNAME_RULE
    assert f"{PASSWORD_LENGTH.start} to {PASSWORD_LENGTH[-1]} characters" in PASSWORD_RULE
    assert "case" in described["authenticate"]["username"]
    assert all(described["changePassword"].values()) and all(described["deleteAccount"].values())


async def test_the_rules_described_are_the_rules_applied(api: Api) -> None:
    shortest, longest = "a" * USERNAME_LENGTH.start, "b" * USERNAME_LENGTH[-1]
    password = "p" * PASSWORD_LENGTH.start

    answers = [
        (await api.gql(REGISTER, {"username": username, "password": secret}))["data"]["register"]
        for username, secret in [
            (shortest, password),
            (longest, "q" * PASSWORD_LENGTH[-1]),
            ("c" * (USERNAME_LENGTH.start - 1), password),
            ("d" * (USERNAME_LENGTH[-1] + 1), password),
            ("ada lovelace", password),
            ("eve", "e" * (PASSWORD_LENGTH.start - 1)),
            (shortest.upper(), password),
        ]
    ]

    assert [answer.get("code", answer["__typename"]) for answer in answers] == [
        "AuthSuccess",
        "AuthSuccess",
        "INVALID_USERNAME",
        "INVALID_USERNAME",
        "INVALID_USERNAME",
        "WEAK_PASSWORD",
        "USERNAME_TAKEN",
    ]
