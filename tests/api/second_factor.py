"""What the two-factor API tests share: the operations, and a user with an
authenticator app whose clock the test moves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp

from app.concepts.two_factor import TwoFactor
from tests.concepts.helpers import StillClock

from .helpers import Api

START = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)  # the start of a 30-second step
STEP = timedelta(seconds=30)

SIGN_IN = """
mutation SignIn($username: String!, $password: String!) {
  authenticate(username: $username, password: $password) {
    __typename
    ... on AuthSuccess { user { id username } session expiresAt }
    ... on SecondFactorRequired { ticket expiresAt }
    ... on UserError { code message }
  }
}
"""
VERIFY = """
mutation Verify($ticket: String!, $code: String!) {
  verifySecondFactor(ticket: $ticket, code: $code) {
    __typename
    ... on AuthSuccess { user { id username } session expiresAt }
    ... on UserError { code message }
  }
}
"""
BEGIN = """
mutation Begin($password: String!) {
  beginTotpSetup(password: $password) {
    __typename
    ... on TotpSetup { secret uri qrCodeSvg }
    ... on UserError { code message }
  }
}
"""
CONFIRM = """
mutation Confirm($code: String!) {
  confirmTotpSetup(code: $code) {
    __typename
    ... on TotpEnabled { recoveryCodes }
    ... on UserError { code message }
  }
}
"""
DISABLE = """
mutation Disable($password: String!) {
  disableTotp(password: $password) {
    __typename
    ... on TotpDisabled { ok }
    ... on UserError { code message }
  }
}
"""
REGENERATE = """
mutation Regenerate($password: String!) {
  regenerateRecoveryCodes(password: $password) {
    __typename
    ... on TotpEnabled { recoveryCodes }
    ... on UserError { code message }
  }
}
"""
STATUS = "{ twoFactor { totp recoveryCodesLeft } }"
SESSIONS_WITH_METHODS = "{ sessions { id method current } }"


def result(body: dict[str, Any], field: str) -> dict[str, Any]:
    assert "errors" not in body, body
    return body["data"][field]  # type: ignore[no-any-return]


def still_clock(api: Api) -> StillClock:
    """TwoFactor's clock, made to stand still at START for the test to move."""
    concept = api.engine.concepts["TwoFactor"]
    assert isinstance(concept, TwoFactor)
    clock = StillClock(START)
    concept.clock = clock
    return clock


@dataclass
class Enrolled:
    user: str
    session: str
    secret: str
    recovery_codes: list[str]
    clock: StillClock

    def code(self, offset: timedelta = timedelta(0)) -> str:
        return pyotp.TOTP(self.secret).at(self.clock() + offset)

    def next_step(self) -> None:
        """On to the next step: its code has not been used yet."""
        self.clock.advance(STEP)


async def enroll(api: Api, username: str = "ada", password: str = "correct horse") -> Enrolled:
    """Register, set up an authenticator app and confirm it (on a still clock, moved past
    the confirming code's step)."""
    clock = still_clock(api)
    user, session = await api.register(username, password)
    setup = result(await api.gql(BEGIN, {"password": password}, session), "beginTotpSetup")
    assert setup["__typename"] == "TotpSetup", setup
    code = pyotp.TOTP(setup["secret"]).at(clock())
    confirmed = result(await api.gql(CONFIRM, {"code": code}, session), "confirmTotpSetup")
    assert confirmed["__typename"] == "TotpEnabled", confirmed
    clock.advance(STEP)
    return Enrolled(user, session, setup["secret"], confirmed["recoveryCodes"], clock)


async def sign_in(api: Api, username: str = "ada", password: str = "correct horse") -> dict[str, Any]:
    return result(await api.gql(SIGN_IN, {"username": username, "password": password}), "authenticate")


async def ticket(api: Api, username: str = "ada", password: str = "correct horse") -> str:
    held = await sign_in(api, username, password)
    assert held["__typename"] == "SecondFactorRequired", held
    return str(held["ticket"])


async def verify(api: Api, ticket: str, code: str) -> dict[str, Any]:
    return result(await api.gql(VERIFY, {"ticket": ticket, "code": code}), "verifySecondFactor")


def outcome(answer: dict[str, Any]) -> str:
    """ "ok" for a session, or the error code."""
    return "ok" if answer["__typename"] == "AuthSuccess" else str(answer.get("code"))
