"""Passkeys through the API (GraphQL and REST) over the real app and database, with a
software authenticator in the browser's place: adding, listing and removing passkeys,
signing in with and without a username, and every refusal."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import pytest

from app.concepts.one_time_tokens import OneTimeTokens
from app.concepts.passkeys import MAX_CREDENTIAL_JSON
from app.protocol.gates import BY_PASSKEY
from tests.concepts.authenticator import SoftwareAuthenticator, b64url
from tests.throwaway import Throwaway

from .helpers import AUTHENTICATE, SESSIONS, Api, StartApi, assert_gql_error
from .passkey_ceremonies import (
    FINISH_REGISTRATION,
    PASSKEYS,
    REMOVE,
    add_passkey,
    begin_login,
    begin_registration,
    finish_login,
    finish_registration,
    options,
    result,
    sign_in,
)

CREDENTIALS, HANDLES, TOKENS = "Passkeys.credentials", "Passkeys.userHandles", "OneTimeTokens.tokens"


async def passkeys(api: Api, token: str) -> list[dict[str, Any]]:
    return result(await api.gql(PASSKEYS, token=token), "passkeys")  # type: ignore[return-value]


def tokens(api: Api) -> OneTimeTokens:
    concept = api.engine.concepts["OneTimeTokens"]
    assert isinstance(concept, OneTimeTokens)
    return concept


# -- the whole of it ---------------------------------------------------------------------------------


async def test_a_user_adds_a_passkey_then_signs_in_with_it_with_and_without_a_username(api: Api) -> None:
    ada, token = await api.register("ada")
    phone = SoftwareAuthenticator()

    added = await add_passkey(api, token, phone, name="Ada's phone")
    with_username = await sign_in(api, phone, "ADA")
    discoverable = await sign_in(api, phone)
    listed = await passkeys(api, token)

    assert added["__typename"] == "PasskeyAdded"
    passkey = added["passkey"]
    assert passkey["name"] == "Ada's phone" and passkey["lastUsedAt"] is None and passkey["backedUp"] is False
    assert listed[0]["id"] == passkey["id"] and listed[0]["lastUsedAt"] is not None  # used since
    for signed_in in (with_username, discoverable):
        assert signed_in["__typename"] == "AuthSuccess", signed_in
        assert signed_in["user"] == {"id": ada, "username": "ada"}
        assert await api.me(signed_in["session"]) == {"id": ada, "username": "ada"}
    assert await api.count(SESSIONS, {"user": ada}) == 3
    assert await api.count(TOKENS) == 0  # every ticket used up


async def test_rest_serves_every_passkey_route(api: Api) -> None:
    ada, token = await api.register("ada")
    phone = SoftwareAuthenticator(backed_up=True)

    started = await api.rest("/Passkeys/beginRegistration", {"session": token, "password": "correct horse"})
    answer = phone.create(started.json()["optionsJson"])
    added = await api.rest(
        "/Passkeys/finishRegistration", {"session": token, "ticket": started.json()["ticket"], "credentialJson": answer}
    )
    listed = await api.rest("/Passkeys/_getPasskeys", {"session": token})
    login = await api.rest("/Passkeys/beginLogin", {})
    signed_in = await api.rest(
        "/Passkeys/finishLogin",
        {"ticket": login.json()["ticket"], "credentialJson": phone.get(login.json()["optionsJson"])},
    )
    removed = await api.rest("/Passkeys/remove", {"session": token, "id": added.json()["id"]})

    assert set(started.json()) == {"optionsJson", "ticket"}
    assert added.status_code == 200, added.text
    assert set(added.json()) == {"id", "name", "createdAt", "lastUsedAt", "backedUp"}
    assert added.json()["name"] == "Passkey" and added.json()["backedUp"] is True
    assert [row["id"] for row in listed.json()["results"]] == [added.json()["id"]]
    assert set(login.json()) == {"optionsJson", "ticket"}
    assert signed_in.status_code == 200, signed_in.text
    assert set(signed_in.json()) == {"user", "username", "session", "expiresAt"}
    assert signed_in.json()["user"] == ada and signed_in.headers["cache-control"] == "no-store"
    assert removed.json() == {"id": added.json()["id"]}
    assert (await api.rest("/Passkeys/_getPasskeys", {"session": token})).json() == {"results": []}


# -- adding one ----------------------------------------------------------------------------------------


async def test_registration_options_require_a_resident_key_prefer_verification_and_exclude_the_users_passkeys(
    api: Api,
) -> None:
    _, token = await api.register("ada")
    _, bobs = await api.register("bob")
    phone = SoftwareAuthenticator()
    await add_passkey(api, bobs, SoftwareAuthenticator())
    await add_passkey(api, token, phone)

    started = await begin_registration(api, token)

    wanted = options(started)
    assert wanted["rp"] == {"id": "localhost", "name": "concept-auth"}
    assert wanted["user"]["name"] == "ada"
    assert wanted["authenticatorSelection"]["residentKey"] == "required"
    assert wanted["authenticatorSelection"]["userVerification"] == "preferred"
    assert wanted["attestation"] == "none"
    assert [item["id"] for item in wanted["excludeCredentials"]] == [b64url(phone.keys[0].id)]
    assert wanted["timeout"] == 300_000


async def test_a_wrong_password_issues_no_ticket(api: Api) -> None:
    _, token = await api.register("ada")

    refused = await begin_registration(api, token, "a wrong password")

    assert refused == {
        "__typename": "UserError",
        "code": "INVALID_CREDENTIALS",
        "message": "The password is not correct.",
    }
    assert await api.count(TOKENS) == 0


async def test_wrong_passwords_count_with_change_password_and_lead_to_rate_limited(api: Api) -> None:
    _, token = await api.register("ada")
    change = 'mutation { changePassword(oldPassword: "a guess", newPassword: "whatever new") { __typename } }'
    for _ in range(3):
        assert (await api.gql(change, token=token))["data"]["changePassword"]["__typename"] == "UserError"
    for _ in range(2):
        assert (await begin_registration(api, token, "a guess"))["code"] == "INVALID_CREDENTIALS"

    blocked = await begin_registration(api, token)
    rest = await api.rest("/Passkeys/beginRegistration", {"session": token, "password": "correct horse"})

    assert blocked["code"] == "RATE_LIMITED"
    assert (rest.status_code, rest.json()["code"]) == (429, "RATE_LIMITED")


async def test_the_right_password_clears_the_users_count(api: Api) -> None:
    _, token = await api.register("ada")
    for _ in range(4):
        await begin_registration(api, token, "a guess")

    assert (await begin_registration(api, token))["__typename"] == "PasskeyChallenge"
    for _ in range(4):
        assert (await begin_registration(api, token, "a guess"))["code"] == "INVALID_CREDENTIALS"


WRONG_REGISTRATIONS = {
    "wrong origin": {"origin": "https://evil.example"},
    "wrong RP ID": {"rp_id": "evil.example"},
    "another challenge": {"challenge": b64url(b"c" * 32)},
    "user not present": {"user_present": False},
}


@pytest.mark.parametrize("knobs", WRONG_REGISTRATIONS.values(), ids=WRONG_REGISTRATIONS.keys())
async def test_a_registration_that_does_not_verify_is_invalid_passkey_and_uses_the_ticket(
    api: Api, knobs: dict[str, Any]
) -> None:
    _, token = await api.register("ada")
    started = await begin_registration(api, token)
    device = SoftwareAuthenticator()

    refused = await finish_registration(api, token, started["ticket"], device.create(started["optionsJson"], **knobs))
    again = await finish_registration(api, token, started["ticket"], device.create(started["optionsJson"]))

    assert refused["code"] == "INVALID_PASSKEY", refused
    assert again["code"] == "INVALID_TOKEN"
    assert await api.count(CREDENTIALS) == 0


async def test_another_users_ticket_is_refused_and_stays_its_owners(api: Api) -> None:
    _, ada = await api.register("ada")
    _, bob = await api.register("bob")
    started = await begin_registration(api, ada)
    answer = SoftwareAuthenticator().create(started["optionsJson"])

    stolen = await finish_registration(api, bob, started["ticket"], answer)
    owned = await finish_registration(api, ada, started["ticket"], answer)

    assert stolen["code"] == "INVALID_TOKEN", stolen
    assert owned["__typename"] == "PasskeyAdded", owned
    assert await passkeys(api, bob) == []


@pytest.mark.parametrize("ticket", ["not a ticket", "", "x" * 1024], ids=["unknown", "empty", "long"])
async def test_a_registration_with_an_unknown_ticket_is_invalid_token(api: Api, ticket: str) -> None:
    _, token = await api.register("ada")
    answer = SoftwareAuthenticator().create(options_for_nobody())

    assert (await finish_registration(api, token, ticket, answer))["code"] == "INVALID_TOKEN"


def options_for_nobody() -> str:
    return json.dumps({"rp": {"id": "localhost"}, "user": {"id": b64url(b"u" * 32)}, "challenge": b64url(b"c" * 32)})


async def test_a_ticket_lasts_five_minutes(api: Api) -> None:
    _, token = await api.register("ada")
    started = await begin_registration(api, token)
    answer = SoftwareAuthenticator().create(started["optionsJson"])
    now = tokens(api).clock()
    tokens(api).clock = lambda: now + timedelta(minutes=5, seconds=1)

    assert (await finish_registration(api, token, started["ticket"], answer))["code"] == "INVALID_TOKEN"


async def test_a_name_over_64_characters_is_bad_input_and_leaves_the_ticket(api: Api) -> None:
    _, token = await api.register("ada")
    started = await begin_registration(api, token)
    answer = SoftwareAuthenticator().create(started["optionsJson"])
    variables = {"ticket": started["ticket"], "credentialJson": answer}

    assert_gql_error(await api.gql(FINISH_REGISTRATION, {**variables, "name": "x" * 65}, token), "BAD_USER_INPUT")
    added = await finish_registration(api, token, started["ticket"], answer, "x" * 64)

    assert added["passkey"]["name"] == "x" * 64


async def test_a_credential_over_16_kib_is_bad_input(api: Api) -> None:
    _, token = await api.register("ada")
    started = await begin_registration(api, token)
    answer = json.loads(SoftwareAuthenticator().create(started["optionsJson"]))
    long = json.dumps({**answer, "padding": "x" * MAX_CREDENTIAL_JSON})

    rest = await api.rest(
        "/Passkeys/finishRegistration", {"session": token, "ticket": started["ticket"], "credentialJson": long}
    )

    assert (rest.status_code, rest.json()["code"]) == (400, "BAD_USER_INPUT")
    assert "credentialJson" in rest.json()["error"]
    assert await api.count(TOKENS) == 1  # not redeemed


# -- signing in ----------------------------------------------------------------------------------------


async def test_the_options_are_the_same_for_any_username_and_none(api: Api) -> None:
    _, token = await api.register("ada")
    await api.register("bob")
    await add_passkey(api, token, SoftwareAuthenticator())

    def without_challenge(started: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in options(started).items() if key != "challenge"}

    seen = [without_challenge(await begin_login(api, username)) for username in ("ada", "bob", "nobody", "!", None)]

    assert all(shown == seen[0] for shown in seen), seen
    assert seen[0]["allowCredentials"] == [] and seen[0]["userVerification"] == "required"
    assert seen[0]["rpId"] == "localhost" and seen[0]["timeout"] == 300_000


async def test_a_username_no_one_has_signs_in_no_one(api: Api) -> None:
    _, token = await api.register("ada")
    phone = SoftwareAuthenticator()
    await add_passkey(api, token, phone)

    refused = await sign_in(api, phone, "nobody")

    assert refused["code"] == "INVALID_CREDENTIALS", refused


async def test_a_ticket_for_one_username_takes_no_other_users_passkey(api: Api) -> None:
    _, ada = await api.register("ada")
    _, bob = await api.register("bob")
    adas, bobs = SoftwareAuthenticator(), SoftwareAuthenticator()
    await add_passkey(api, ada, adas)
    await add_passkey(api, bob, bobs)

    as_ada = await sign_in(api, bobs, "ada")
    as_bob = await sign_in(api, bobs, "bob")

    assert as_ada["code"] == "INVALID_CREDENTIALS", as_ada
    assert as_bob["__typename"] == "AuthSuccess" and as_bob["user"]["username"] == "bob"


WRONG_SIGN_INS = {
    "wrong origin": {"origin": "https://evil.example"},
    "wrong RP ID": {"rp_id": "evil.example"},
    "another challenge": {"challenge": b64url(b"c" * 32)},
    "user not verified": {"user_verified": False},
    "bad signature": {"bad_signature": True},
}


@pytest.mark.parametrize("username", ["ada", None], ids=["with a username", "discoverable"])
@pytest.mark.parametrize("knobs", WRONG_SIGN_INS.values(), ids=WRONG_SIGN_INS.keys())
async def test_a_sign_in_that_does_not_verify_is_invalid_credentials_and_makes_no_session(
    api: Api, knobs: dict[str, Any], username: str | None
) -> None:
    ada, token = await api.register("ada")
    phone = SoftwareAuthenticator()
    await add_passkey(api, token, phone)

    refused = await sign_in(api, phone, username, **knobs)

    assert refused == {
        "__typename": "UserError",
        "code": "INVALID_CREDENTIALS",
        "message": "The passkey could not be verified.",
    }
    assert await api.count(SESSIONS, {"user": ada}) == 1


async def test_a_replayed_answer_is_refused(api: Api) -> None:
    _, token = await api.register("ada")
    phone = SoftwareAuthenticator()
    await add_passkey(api, token, phone)
    started = await begin_login(api, "ada")
    answer = phone.get(started["optionsJson"])

    first = await finish_login(api, started["ticket"], answer)
    same_ticket = await finish_login(api, started["ticket"], answer)
    new_ticket = await finish_login(api, (await begin_login(api, "ada"))["ticket"], answer)

    assert first["__typename"] == "AuthSuccess"
    assert same_ticket["code"] == "INVALID_TOKEN"
    assert new_ticket["code"] == "INVALID_CREDENTIALS"  # its challenge is the first ticket's


async def test_a_cloned_key_is_refused_once_its_counter_falls_behind(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    _, token = await api.register("ada")
    phone = SoftwareAuthenticator()
    await add_passkey(api, token, phone)
    clone = phone.clone()

    assert (await sign_in(api, phone))["__typename"] == "AuthSuccess"
    with caplog.at_level(logging.INFO, logger="app.concepts.passkeys"):
        copied = await sign_in(api, clone)

    assert copied["code"] == "INVALID_CREDENTIALS"
    assert "sign count" in caplog.text
    assert (await sign_in(api, phone))["__typename"] == "AuthSuccess"


@pytest.mark.parametrize("ticket", ["not a ticket", ""], ids=["unknown", "empty"])
async def test_a_sign_in_with_an_unknown_ticket_is_invalid_token(api: Api, ticket: str) -> None:
    _, token = await api.register("ada")
    phone = SoftwareAuthenticator()
    await add_passkey(api, token, phone)
    answer = phone.get((await begin_login(api))["optionsJson"])

    assert (await finish_login(api, ticket, answer))["code"] == "INVALID_TOKEN"
    rest = await api.rest("/Passkeys/finishLogin", {"ticket": ticket, "credentialJson": answer})
    assert (rest.status_code, rest.json()["code"]) == (400, "INVALID_TOKEN")


async def test_a_login_ticket_lasts_five_minutes(api: Api) -> None:
    _, token = await api.register("ada")
    phone = SoftwareAuthenticator()
    await add_passkey(api, token, phone)
    started = await begin_login(api, "ada")
    answer = phone.get(started["optionsJson"])
    now = tokens(api).clock()
    tokens(api).clock = lambda: now + timedelta(minutes=5, seconds=1)

    assert (await finish_login(api, started["ticket"], answer))["code"] == "INVALID_TOKEN"


async def test_failed_sign_ins_count_with_failed_password_logins(api: Api) -> None:
    _, token = await api.register("ada")
    phone = SoftwareAuthenticator()
    await add_passkey(api, token, phone)
    for _ in range(3):
        assert (await sign_in(api, phone, "ada", bad_signature=True))["code"] == "INVALID_CREDENTIALS"
    for _ in range(2):
        await api.gql(AUTHENTICATE, {"username": "ada", "password": "a guess"})

    by_passkey = await sign_in(api, phone, "Ada")
    by_password = (await api.gql(AUTHENTICATE, {"username": "ada", "password": "correct horse"}))["data"]

    assert by_passkey["code"] == "RATE_LIMITED"
    assert by_password["authenticate"]["code"] == "RATE_LIMITED"
    rest = await api.rest(
        "/Passkeys/finishLogin", {"ticket": (await begin_login(api, "ada"))["ticket"], "credentialJson": "{}"}
    )
    assert (rest.status_code, rest.json()["code"]) == (429, "RATE_LIMITED")


async def test_a_sign_in_clears_the_usernames_failures(api: Api) -> None:
    _, token = await api.register("ada")
    phone = SoftwareAuthenticator()
    await add_passkey(api, token, phone)
    for _ in range(4):
        await sign_in(api, phone, "ada", bad_signature=True)

    assert (await sign_in(api, phone, "ada"))["__typename"] == "AuthSuccess"
    for _ in range(4):
        assert (await sign_in(api, phone, "ada", bad_signature=True))["code"] == "INVALID_CREDENTIALS"


async def test_discoverable_failures_count_for_the_client_address(start_api: StartApi) -> None:
    async with start_api(throttle_address_failures=3) as api:
        _, token = await api.register("ada")
        phone = SoftwareAuthenticator()
        await add_passkey(api, token, phone)
        codes = [(await sign_in(api, phone, bad_signature=True))["code"] for _ in range(4)]

        assert codes == ["INVALID_CREDENTIALS"] * 3 + ["RATE_LIMITED"]
        assert (await sign_in(api, phone))["code"] == "RATE_LIMITED"


# -- removing one, and the account -----------------------------------------------------------------------


async def test_a_user_removes_their_passkey_and_cannot_sign_in_with_it(api: Api) -> None:
    _, ada = await api.register("ada")
    _, bob = await api.register("bob")
    phone = SoftwareAuthenticator()
    added = (await add_passkey(api, ada, phone))["passkey"]

    bobs_try = result(await api.gql(REMOVE, {"id": added["id"]}, bob), "removePasskey")
    unknown = result(await api.gql(REMOVE, {"id": "no-such-passkey"}, ada), "removePasskey")
    removed = result(await api.gql(REMOVE, {"id": added["id"]}, ada), "removePasskey")

    assert (
        bobs_try == unknown == {"__typename": "UserError", "code": "PASSKEY_NOT_FOUND", "message": "No such passkey."}
    )
    assert removed == {"__typename": "PasskeyRemoved", "id": added["id"]}
    assert (await sign_in(api, phone))["code"] == "INVALID_CREDENTIALS"
    assert await passkeys(api, ada) == []


async def test_deleting_the_account_removes_its_passkeys(api: Api) -> None:
    _, token = await api.register("ada")
    _, bob = await api.register("bob")
    phone = SoftwareAuthenticator()
    await add_passkey(api, token, phone)
    await add_passkey(api, bob, SoftwareAuthenticator())
    started = await begin_login(api, "ada")

    deleted = await api.gql("mutation { deleteAccount { __typename } }", token=token)

    assert deleted["data"]["deleteAccount"]["__typename"] == "DeleteAccountSuccess"
    assert await api.count(CREDENTIALS) == await api.count(HANDLES) == 1  # bob's
    # Ada's sign-in ticket went with her account (every token of a deleted user does).
    assert (await finish_login(api, started["ticket"], phone.get(started["optionsJson"])))["code"] == "INVALID_TOKEN"


@pytest.mark.parametrize(
    "document",
    [
        PASSKEYS,
        'mutation { beginPasskeyRegistration(password: "correct horse") { __typename } }',
        'mutation { finishPasskeyRegistration(ticket: "t", credentialJson: "{}") { __typename } }',
        'mutation { removePasskey(id: "p") { __typename } }',
    ],
    ids=["passkeys", "beginPasskeyRegistration", "finishPasskeyRegistration", "removePasskey"],
)
async def test_the_users_passkeys_need_a_session(api: Api, document: str) -> None:
    assert_gql_error(await api.gql(document), "UNAUTHENTICATED")
    assert_gql_error(await api.gql(document, token="not a session"), "UNAUTHENTICATED")


@pytest.mark.parametrize(
    "path",
    ["/Passkeys/_getPasskeys", "/Passkeys/beginRegistration", "/Passkeys/finishRegistration", "/Passkeys/remove"],
)
async def test_rest_the_users_passkeys_need_a_session(api: Api, path: str) -> None:
    body = {"password": "x", "ticket": "t", "credentialJson": "{}", "id": "p"}
    route_keys = {
        "/Passkeys/_getPasskeys": [],
        "/Passkeys/beginRegistration": ["password"],
        "/Passkeys/finishRegistration": ["ticket", "credentialJson"],
        "/Passkeys/remove": ["id"],
    }[path]

    response = await api.rest(path, {key: body[key] for key in route_keys})

    assert (response.status_code, response.json()["code"]) == (401, "UNAUTHENTICATED")


# -- what stays out of the records -------------------------------------------------------------------------


async def test_tickets_and_answers_reach_neither_the_log_nor_the_database(
    start_api: StartApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="app")
    async with start_api(log_level="DEBUG") as api:
        _, token = await api.register("ada")
        phone = SoftwareAuthenticator()
        started = await begin_registration(api, token)
        answer = phone.create(started["optionsJson"])
        await finish_registration(api, token, started["ticket"], answer)
        login = await begin_login(api, "ada")
        signed_in = await finish_login(api, login["ticket"], phone.get(login["optionsJson"]))
        await api.flush()
        stored = [str(document) for document in await api.mongo[api.db_name]["Requesting.requests"].find().to_list()]

    assert signed_in["__typename"] == "AuthSuccess"
    assert any("/Passkeys/finishLogin" in document for document in stored)
    for secret in (started["ticket"], login["ticket"], answer, json.loads(answer)["response"]["attestationObject"]):
        assert secret not in caplog.text
        assert not any(secret in document for document in stored)
    assert "Passkeys.authenticate" in caplog.text  # the engine traced the actions, with those as ***


# -- both factors ------------------------------------------------------------------------------------

ONE_FACTOR_IS_NOT_ENOUGH = """
from app.concepts import Gating
from app.engine import Sync, sync
from app.protocol.gates import BY_PASSWORD, SESSION_GATE


@sync
def SecondFactorWanted(key, user):
    return Sync(
        when=[(Gating.ask, {"gate": SESSION_GATE, "key": key, "user": user, "method": BY_PASSWORD}, {})],
        then=[
            (
                Gating.refuse,
                {"gate": SESSION_GATE, "key": key, "code": "INVALID_CREDENTIALS", "error": "A second factor, please."},
            )
        ],
    )
"""


async def test_a_guard_for_one_factor_sign_ins_never_stops_a_passkey(start_api: StartApi, throwaway: Throwaway) -> None:
    """What a second factor's guard sees at the session gate: a password sign-in says
    `method: "password"`, a passkey `"passkey"` (both factors), so a guard that wants a
    second factor after a password never holds a passkey sign-in."""
    async with start_api() as api:
        ada, token = await api.register("ada")
        phone = SoftwareAuthenticator()
        await add_passkey(api, token, phone)
    throwaway.module("syncs", ONE_FACTOR_IS_NOT_ENOUGH)
    async with start_api() as api:
        by_password = (await api.gql(AUTHENTICATE, {"username": "ada", "password": "correct horse"}))["data"]
        by_passkey = await sign_in(api, phone, "ada")
        [asked] = [r.input for r in api.engine.recent[-1].records if r.action.qualname == "Gating.ask"]

    assert by_password["authenticate"]["message"] == "A second factor, please."
    assert by_passkey["__typename"] == "AuthSuccess" and by_passkey["user"]["id"] == ada
    assert asked["method"] == BY_PASSKEY
