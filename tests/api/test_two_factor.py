"""Two-factor sign-in through the API (GraphQL and REST) over the real app and database,
on a TOTP clock the tests move: setup and confirmation, the held sign-in and its ticket,
codes (drift, replay), recovery codes, disabling, the sessions it revokes and records,
and the secrets that never come back."""

from __future__ import annotations

import logging
import textwrap
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
import pytest

from app.concepts.one_time_tokens import OneTimeTokens
from app.protocol.gates import SESSION_GATE
from tests.concepts.authenticator import SoftwareAuthenticator
from tests.throwaway import Throwaway

from .helpers import CHANGE_OWN_PASSWORD, SESSIONS, Api, StartApi, assert_expiry
from .passkey_ceremonies import add_passkey
from .passkey_ceremonies import sign_in as passkey_sign_in
from .second_factor import (
    BEGIN,
    CONFIRM,
    DISABLE,
    REGENERATE,
    SESSIONS_WITH_METHODS,
    STATUS,
    STEP,
    enroll,
    outcome,
    result,
    sign_in,
    still_clock,
    ticket,
    verify,
)

FACTORS, TOKENS = "TwoFactor.factors", "OneTimeTokens.tokens"


async def methods(api: Api, token: str) -> list[str]:
    """The methods of the token's user's sessions, sorted."""
    return sorted(row["method"] for row in result(await api.gql(SESSIONS_WITH_METHODS, token=token), "sessions"))


async def method_of(api: Api, token: str) -> str:
    """How the token's own session was made."""
    rows = result(await api.gql(SESSIONS_WITH_METHODS, token=token), "sessions")
    return str(next(row["method"] for row in rows if row["current"]))


async def status(api: Api, token: str) -> dict[str, Any]:
    return result(await api.gql(STATUS, token=token), "twoFactor")


# -- setting up ----------------------------------------------------------------------------------


async def test_a_user_sets_up_an_app_and_then_signs_in_with_a_code(api: Api) -> None:
    clock = still_clock(api)
    ada, token = await api.register("ada")
    assert await status(api, token) == {"totp": False, "recoveryCodesLeft": 0}

    setup = result(await api.gql(BEGIN, {"password": "correct horse"}, token), "beginTotpSetup")
    assert setup["uri"].startswith("otpauth://totp/concept-auth:ada?") and setup["secret"] in setup["uri"]
    assert setup["qrCodeSvg"].startswith("<svg")
    assert await status(api, token) == {"totp": False, "recoveryCodesLeft": 0}  # not until confirmed
    assert (await sign_in(api))["__typename"] == "AuthSuccess"
    confirmed = result(
        await api.gql(CONFIRM, {"code": pyotp.TOTP(setup["secret"]).at(clock())}, token), "confirmTotpSetup"
    )
    assert confirmed["__typename"] == "TotpEnabled" and len(set(confirmed["recoveryCodes"])) == 10
    assert await status(api, token) == {"totp": True, "recoveryCodesLeft": 10}
    clock.advance(STEP)
    sessions = await api.count(SESSIONS)

    held = await sign_in(api)
    assert held["__typename"] == "SecondFactorRequired"
    assert_expiry(held["expiresAt"], timedelta(minutes=5))
    assert await api.count(SESSIONS) == sessions  # no session for the password alone
    signed_in = await verify(api, held["ticket"], pyotp.TOTP(setup["secret"]).at(clock()))

    assert signed_in["__typename"] == "AuthSuccess" and signed_in["user"] == {"id": ada, "username": "ada"}
    assert await api.me(signed_in["session"]) == {"id": ada, "username": "ada"}
    assert await methods(api, signed_in["session"]) == ["password", "password+totp"]
    assert await method_of(api, signed_in["session"]) == "password+totp"
    assert await api.count(TOKENS) == 0  # the ticket is used up


async def test_setting_up_needs_the_password(api: Api) -> None:
    _, token = await api.register("ada")

    wrong = result(await api.gql(BEGIN, {"password": "wrong horse"}, token), "beginTotpSetup")
    unauthenticated = await api.gql(BEGIN, {"password": "correct horse"})

    assert wrong == {
        "__typename": "UserError",
        "code": "INVALID_CREDENTIALS",
        "message": "The password is not correct.",
    }
    assert unauthenticated["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await api.count(FACTORS) == 0


async def test_a_wrong_code_does_not_confirm_a_setup(api: Api) -> None:
    clock = still_clock(api)
    _, token = await api.register("ada")
    setup = result(await api.gql(BEGIN, {"password": "correct horse"}, token), "beginTotpSetup")
    right = pyotp.TOTP(setup["secret"]).at(clock())
    wrong = "000000" if right != "000000" else "111111"

    refused = result(await api.gql(CONFIRM, {"code": wrong}, token), "confirmTotpSetup")
    unstarted = result(await api.gql(CONFIRM, {"code": right}, (await api.register("bob"))[1]), "confirmTotpSetup")

    assert refused["__typename"] == "UserError" and refused["code"] == "INVALID_CODE"
    assert unstarted["code"] == "INVALID_CODE"
    assert await status(api, token) == {"totp": False, "recoveryCodesLeft": 0}


async def test_confirming_and_disabling_revoke_the_users_other_sessions(api: Api) -> None:
    clock = still_clock(api)
    _, token = await api.register("ada")
    other = await api.authenticate("ada")
    setup = result(await api.gql(BEGIN, {"password": "correct horse"}, token), "beginTotpSetup")
    await api.gql(CONFIRM, {"code": pyotp.TOTP(setup["secret"]).at(clock())}, token)
    assert await api.me(other) is None and await api.me(token) is not None
    clock.advance(STEP)
    signed_in = await verify(api, await ticket(api), pyotp.TOTP(setup["secret"]).at(clock()))

    disabled = result(await api.gql(DISABLE, {"password": "correct horse"}, token), "disableTotp")

    assert disabled == {"__typename": "TotpDisabled", "ok": True}
    assert await api.me(signed_in["session"]) is None and await api.me(token) is not None
    assert (await sign_in(api))["__typename"] == "AuthSuccess"  # the password alone again
    assert await api.count(FACTORS) == 0


async def test_disabling_needs_the_password_and_an_app(api: Api) -> None:
    ada = await enroll(api)

    wrong = result(await api.gql(DISABLE, {"password": "wrong horse"}, ada.session), "disableTotp")
    assert wrong["code"] == "INVALID_CREDENTIALS"
    assert await status(api, ada.session) == {"totp": True, "recoveryCodesLeft": 10}
    assert result(await api.gql(DISABLE, {"password": "correct horse"}, ada.session), "disableTotp")["ok"] is True

    again = result(await api.gql(DISABLE, {"password": "correct horse"}, ada.session), "disableTotp")
    assert again["code"] == "TOTP_NOT_ENABLED"


async def test_a_new_setup_leaves_the_app_in_force_until_it_is_confirmed(api: Api) -> None:
    ada = await enroll(api)
    new = result(await api.gql(BEGIN, {"password": "correct horse"}, ada.session), "beginTotpSetup")["secret"]

    assert outcome(await verify(api, await ticket(api), ada.code())) == "ok"
    ada.next_step()
    await api.gql(CONFIRM, {"code": pyotp.TOTP(new).at(ada.clock())}, ada.session)
    ada.next_step()

    assert outcome(await verify(api, await ticket(api), ada.code())) == "INVALID_CODE"
    assert outcome(await verify(api, await ticket(api), pyotp.TOTP(new).at(ada.clock()))) == "ok"


# -- codes ------------------------------------------------------------------------------------------


async def test_a_wrong_code_leaves_the_ticket_for_another_try(api: Api) -> None:
    ada = await enroll(api)
    held = await ticket(api)
    wrong = "000000" if ada.code() != "000000" else "111111"

    refused = await verify(api, held, wrong)
    signed_in = await verify(api, held, ada.code())
    used = await verify(api, held, ada.code(STEP))

    assert refused["__typename"] == "UserError" and refused["code"] == "INVALID_CODE"
    assert outcome(signed_in) == "ok"
    assert used["code"] == "INVALID_TOKEN"


async def test_a_code_is_accepted_once(api: Api) -> None:
    ada = await enroll(api)
    code = ada.code()
    assert outcome(await verify(api, await ticket(api), code)) == "ok"

    replay = await verify(api, await ticket(api), code)

    assert outcome(replay) == "INVALID_CODE"


async def test_the_adjacent_steps_codes_are_accepted_and_two_steps_off_are_not(api: Api) -> None:
    ada = await enroll(api)
    ada.clock.advance(timedelta(minutes=10))

    assert outcome(await verify(api, await ticket(api), ada.code(-2 * STEP))) == "INVALID_CODE"
    assert outcome(await verify(api, await ticket(api), ada.code(2 * STEP))) == "INVALID_CODE"
    assert outcome(await verify(api, await ticket(api), ada.code(-STEP))) == "ok"
    ada.clock.advance(timedelta(minutes=10))
    assert outcome(await verify(api, await ticket(api), ada.code(STEP))) == "ok"


async def test_a_recovery_code_signs_in_once_and_is_counted(api: Api) -> None:
    ada = await enroll(api)

    signed_in = await verify(api, await ticket(api), ada.recovery_codes[0])
    again = await verify(api, await ticket(api), ada.recovery_codes[0])

    assert outcome(signed_in) == "ok" and outcome(again) == "INVALID_CODE"
    assert await status(api, ada.session) == {"totp": True, "recoveryCodesLeft": 9}
    assert await method_of(api, signed_in["session"]) == "password+recovery"


async def test_regenerating_needs_the_password_and_voids_the_old_codes(api: Api) -> None:
    ada = await enroll(api)

    wrong = result(await api.gql(REGENERATE, {"password": "wrong horse"}, ada.session), "regenerateRecoveryCodes")
    renewed = result(await api.gql(REGENERATE, {"password": "correct horse"}, ada.session), "regenerateRecoveryCodes")

    assert wrong["code"] == "INVALID_CREDENTIALS"
    assert renewed["__typename"] == "TotpEnabled" and set(renewed["recoveryCodes"]).isdisjoint(ada.recovery_codes)
    assert outcome(await verify(api, await ticket(api), ada.recovery_codes[0])) == "INVALID_CODE"
    assert outcome(await verify(api, await ticket(api), renewed["recoveryCodes"][0])) == "ok"
    _, bob = await api.register("bob")
    none = result(await api.gql(REGENERATE, {"password": "correct horse"}, bob), "regenerateRecoveryCodes")
    assert none["code"] == "TOTP_NOT_ENABLED"


async def test_wrong_codes_are_rate_limited_per_user_and_the_password_does_not_clear_them(
    start_api: StartApi,
) -> None:
    async with start_api(throttle_username_failures=3) as api:
        ada = await enroll(api)
        held = await ticket(api)
        wrong = "000000" if ada.code() != "000000" else "111111"
        codes = [outcome(await verify(api, held, wrong)) for _ in range(3)]

        fresh = await ticket(api)  # the password again
        limited = await verify(api, fresh, ada.code())

        assert codes == ["INVALID_CODE"] * 3
        assert limited["code"] == "RATE_LIMITED"


async def test_wrong_codes_confirming_a_setup_are_rate_limited_as_sign_in_codes_are(start_api: StartApi) -> None:
    # A stolen session alone could otherwise guess a code of a setup left pending (the
    # secret is in force once one is right, the recovery codes answered to the thief).
    async with start_api(throttle_username_failures=3) as api:
        clock = still_clock(api)
        _, token = await api.register("ada")
        setup = result(await api.gql(BEGIN, {"password": "correct horse"}, token), "beginTotpSetup")
        right = pyotp.TOTP(setup["secret"]).at(clock())
        wrong = [code for code in ("000000", "111111", "222222", "333333") if code != right][:3]

        refused = [result(await api.gql(CONFIRM, {"code": code}, token), "confirmTotpSetup") for code in wrong]
        limited = result(await api.gql(CONFIRM, {"code": right}, token), "confirmTotpSetup")

        assert [answer["code"] for answer in refused] == ["INVALID_CODE"] * 3
        assert limited["code"] == "RATE_LIMITED"
        assert await status(api, token) == {"totp": False, "recoveryCodesLeft": 0}
        held = await sign_in(api)  # the same count: no code of a sign-in is checked either
        assert held["__typename"] == "AuthSuccess"


# -- tickets ----------------------------------------------------------------------------------------


async def test_unknown_used_and_expired_tickets_are_invalid(api: Api) -> None:
    ada = await enroll(api)
    held = await ticket(api)
    tokens = api.engine.concepts["OneTimeTokens"]
    assert isinstance(tokens, OneTimeTokens)

    unknown = await verify(api, "not a ticket", ada.code())
    tokens.clock = lambda: datetime.now(UTC) + timedelta(minutes=5, seconds=1)
    expired = await verify(api, held, ada.code())

    assert unknown["code"] == "INVALID_TOKEN" and expired["code"] == "INVALID_TOKEN"


async def test_a_ticket_gives_no_session_once_the_password_changed(api: Api) -> None:
    ada = await enroll(api)
    held = await ticket(api)
    changed = await api.gql(CHANGE_OWN_PASSWORD, {"old": "correct horse", "new": "battery staple"}, ada.session)
    assert changed["data"]["changePassword"]["__typename"] == "ChangePasswordSuccess"
    sessions = await api.count(SESSIONS)

    late = await verify(api, held, ada.code())

    assert late["code"] == "INVALID_CREDENTIALS"
    assert await api.count(SESSIONS) == sessions


async def test_deleting_the_account_removes_its_second_factor_and_its_tickets_sign_no_one_in(api: Api) -> None:
    ada = await enroll(api)
    held = await ticket(api)

    deleted = await api.gql("mutation { deleteAccount { __typename } }", token=ada.session)

    assert deleted["data"]["deleteAccount"]["__typename"] == "DeleteAccountSuccess"
    assert await api.count(FACTORS) == 0
    assert outcome(await verify(api, held, ada.code())) != "ok"
    assert await api.count(SESSIONS) == 0


# -- other ways in ----------------------------------------------------------------------------------


async def test_a_passkey_sign_in_is_not_held_and_register_never_is(api: Api) -> None:
    ada = await enroll(api)
    phone = SoftwareAuthenticator()
    await add_passkey(api, ada.session, phone)

    signed_in = await passkey_sign_in(api, phone, "ada")

    assert signed_in["__typename"] == "AuthSuccess"
    assert await method_of(api, signed_in["session"]) == "passkey"


async def test_sessions_made_before_methods_were_recorded_show_password(api: Api) -> None:
    _, token = await api.register("ada")
    await api.mongo[api.db_name][SESSIONS].update_many({}, {"$unset": {"method": ""}})
    await api.settled()

    assert await methods(api, token) == ["password"]


# -- REST ---------------------------------------------------------------------------------------------


async def test_rest_serves_every_two_factor_route(api: Api) -> None:
    clock = still_clock(api)
    ada, token = await api.register("ada")

    setup = await api.rest("/TwoFactor/beginSetup", {"session": token, "password": "correct horse"})
    assert setup.status_code == 200 and set(setup.json()) == {"secret", "uri", "qrCodeSvg"}
    secret = setup.json()["secret"]
    confirmed = await api.rest("/TwoFactor/confirmSetup", {"session": token, "code": pyotp.TOTP(secret).at(clock())})
    assert confirmed.status_code == 200 and len(confirmed.json()["recoveryCodes"]) == 10
    assert (await api.rest("/TwoFactor/_getStatus", {"session": token})).json() == {
        "totp": True,
        "recoveryCodesLeft": 10,
    }
    clock.advance(STEP)

    for path in ("/login", "/UserAuthentication/authenticate"):
        held = await api.rest(path, {"username": "ada", "password": "correct horse"})
        assert held.status_code == 200 and set(held.json()) == {"ticket", "expiresAt"}, held.json()
        assert_expiry(held.json()["expiresAt"], timedelta(minutes=5))
    wrong = await api.rest("/TwoFactor/verify", {"ticket": held.json()["ticket"], "code": "12345678"})
    assert wrong.status_code == 400 and wrong.json()["code"] == "INVALID_CODE"
    signed_in = await api.rest(
        "/TwoFactor/verify", {"ticket": held.json()["ticket"], "code": pyotp.TOTP(secret).at(clock())}
    )
    assert signed_in.status_code == 200 and set(signed_in.json()) == {"user", "username", "session", "expiresAt"}
    assert signed_in.json()["user"] == ada
    bad = await api.rest("/TwoFactor/verify", {"ticket": held.json()["ticket"], "code": "123456"})
    assert bad.status_code == 400 and bad.json()["code"] == "INVALID_TOKEN"
    listed = (await api.rest("/Sessioning/_getSessions", {"session": signed_in.json()["session"]})).json()
    assert [row["method"] for row in listed["results"] if row["current"]] == ["password+totp"]

    renewed = await api.rest("/TwoFactor/regenerateRecoveryCodes", {"session": token, "password": "correct horse"})
    assert renewed.status_code == 200 and len(renewed.json()["recoveryCodes"]) == 10
    disabled = await api.rest("/TwoFactor/disable", {"session": token, "password": "correct horse"})
    assert disabled.status_code == 200 and disabled.json() == {"ok": True}
    login = await api.rest("/login", {"username": "ada", "password": "correct horse"})
    assert set(login.json()) == {"session", "expiresAt"}


# -- what stays out of the records -------------------------------------------------------------------


async def test_secrets_and_codes_reach_neither_the_log_the_journal_the_database_nor_later_responses(
    start_api: StartApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="app")
    async with start_api(log_level="DEBUG") as api:
        ada = await enroll(api)
        held = await ticket(api)
        code = ada.code()
        signed_in = await verify(api, held, code)
        recovered = await verify(api, await ticket(api), ada.recovery_codes[0])
        later = [
            await api.gql(STATUS, token=ada.session),
            await api.gql(SESSIONS_WITH_METHODS, token=ada.session),
            await api.gql("{ me { id username } }", token=ada.session),
            (await api.rest("/TwoFactor/_getStatus", {"session": ada.session})).json(),
        ]
        await api.flush()
        database = api.mongo[api.db_name]
        stored = [
            str(d) for name in await database.list_collection_names() for d in await database[name].find().to_list()
        ]

    assert outcome(signed_in) == "ok" and outcome(recovered) == "ok"
    assert any("/TwoFactor/verify" in document for document in stored)  # the journal has the requests
    secrets = [
        ada.secret,
        ada.secret.lower(),
        code,
        held,
        *ada.recovery_codes,
        *(c.replace("-", "") for c in ada.recovery_codes),
    ]
    for secret in secrets:
        assert secret not in caplog.text, secret
        assert not any(secret in document for document in stored), secret
        assert not any(secret in str(answer) for answer in later), secret
    assert "TwoFactor.verify" in caplog.text  # the engine traced the actions, with those as ***


PASSWORD_ROUTE = """
from app.api.routes.access import SignedIn
from app.concepts.outputs import INVALID_CREDENTIALS
from app.protocol.routes import Input, Route

SIGN_IN = Route(
    "/Throwaway/signIn",
    Input("username"),
    Input("password", secret=True),
    output=SignedIn,
    errors=[INVALID_CREDENTIALS],
)
"""

PASSWORD_ROUTE_SYNCS = """
from app.concepts import Requesting, UserAuthentication
from app.engine import Sync, sync
from syncs.signing_in import signs_in

from {routes} import SIGN_IN


@sync
def SignInRequest(request, username, password):
    return Sync(
        when=[
            (
                Requesting.request,
                {{"path": SIGN_IN.path, "username": username, "password": password}},
                {{"request": request}},
            )
        ],
        then=[(UserAuthentication.authenticate, {{"username": username, "password": password}})],
    )


SignInSignsIn = signs_in(SIGN_IN, UserAuthentication.authenticate)
"""


async def test_a_password_sign_in_whose_route_cannot_answer_a_ticket_still_makes_no_session(
    start_api: StartApi, throwaway: Throwaway
) -> None:
    """A new way in by a password (a reset, say) that forgot to declare SecondFactorRequired
    fails for a user with an app: never a session on the password alone."""
    routes = throwaway.module("app.api.routes", PASSWORD_ROUTE)
    throwaway.module("syncs", textwrap.dedent(PASSWORD_ROUTE_SYNCS.format(routes=routes)))
    async with start_api() as api:
        await enroll(api)
        await api.register("bob")
        sessions = await api.count(SESSIONS)

        held = await api.rest("/Throwaway/signIn", {"username": "ada", "password": "correct horse"})
        signed_in = await api.rest("/Throwaway/signIn", {"username": "bob", "password": "correct horse"})

        assert "session" not in held.text, held.text
        assert held.status_code >= 500, held.text
        assert set(signed_in.json()) == {"user", "username", "session", "expiresAt"}
        assert await api.count(SESSIONS) == sessions + 1  # bob's only


async def test_every_ask_at_the_session_gate_names_the_version_the_guard_matches(api: Api) -> None:
    """The guard that holds a password sign-in matches the ask's `version`: an ask
    without one would pass it by (a session on the password alone)."""
    asks = [
        (compiled.name, inputs)
        for compiled in api.engine.syncs
        for spec, inputs in compiled.then
        if spec.qualname == "Gating.ask" and inputs.get("gate") == SESSION_GATE
    ]
    assert len(asks) >= 4  # register, authenticate, /login, verifySecondFactor, passkeys...
    assert [name for name, inputs in asks if not {"user", "method", "version"} <= inputs.keys()] == []
