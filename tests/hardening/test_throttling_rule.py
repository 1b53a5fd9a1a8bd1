"""The login throttling rule, limit by limit, beyond tests/api/test_throttling.py:
the per-address limit, the window passing, refusing without verifying the password,
what a success clears, and where the client address comes from (TRUST_PROXY).
The limits are set small here; the defaults are tested there."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from app.concepts.throttling import Count
from app.concepts.user_authentication import PasswordHasher
from tests.api.helpers import AUTHENTICATE, Api, StartApi
from tests.concepts.helpers import StillClock

THROTTLED = Count.Settings.name
WINDOW = 2  # seconds


async def attempt(api: Api, username: str, password: str, address: str | None = None) -> str:
    """authenticate once (optionally via a proxy that saw `address`); the result's
    __typename for a success, else its error code."""
    headers = {"X-Forwarded-For": address} if address is not None else {}
    response = await api.http.post(
        "/graphql",
        json={"query": AUTHENTICATE, "variables": {"username": username, "password": password}},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["data"]["authenticate"]
    return result["__typename"] if result["__typename"] == "AuthSuccess" else result["code"]


async def fail_as(api: Api, usernames: list[str], address: str | None = None) -> list[str]:
    return [await attempt(api, username, "a wrong password", address) for username in usernames]


async def test_failures_for_many_usernames_from_one_address_lead_to_rate_limited(start_api: StartApi) -> None:
    async with start_api(throttle_username_failures=5, throttle_address_failures=4) as api:
        await api.register("alice", "correct horse")
        assert await fail_as(api, ["u1", "u2", "u3"]) == ["INVALID_CREDENTIALS"] * 3
        assert await attempt(api, "alice", "correct horse") == "AuthSuccess"  # 3 < 4: still free

        assert await fail_as(api, ["u4"]) == ["INVALID_CREDENTIALS"]  # the address's 4th failure

        assert await attempt(api, "alice", "correct horse") == "RATE_LIMITED"
        assert await attempt(api, "nobody", "a wrong password") == "RATE_LIMITED"


@pytest.mark.parametrize("limit", ["username", "address"])
async def test_once_the_window_has_passed_the_right_password_works_again(start_api: StartApi, limit: str) -> None:
    async with start_api(throttle_username_failures=2, throttle_address_failures=3, throttle_window=WINDOW) as api:
        await api.register("alice", "correct horse")
        await fail_as(api, ["alice", "alice"] if limit == "username" else ["u1", "u2", "u3"])
        assert await attempt(api, "alice", "correct horse") == "RATE_LIMITED"

        clock = api.throttling.clock
        assert isinstance(clock, StillClock)
        clock.advance(timedelta(seconds=WINDOW))

        assert await attempt(api, "alice", "correct horse") == "AuthSuccess"


@pytest.mark.parametrize("limit", ["username", "address"])
async def test_a_rate_limited_attempt_does_not_verify_the_password(
    start_api: StartApi, monkeypatch: pytest.MonkeyPatch, limit: str
) -> None:
    verified: list[str] = []
    verify = PasswordHasher.verify

    async def counting(self: PasswordHasher, password: str, hashed: str) -> tuple[bool, str | None]:
        verified.append(password)
        return await verify(self, password, hashed)

    monkeypatch.setattr(PasswordHasher, "verify", counting)
    async with start_api(throttle_username_failures=2, throttle_address_failures=3) as api:
        await api.register("alice", "correct horse")
        await fail_as(api, ["alice", "alice"] if limit == "username" else ["u1", "u2", "u3"])
        assert verified, "the failures before the limit verified nothing: the count would prove nothing"
        verified.clear()

        codes = [await attempt(api, "alice", password) for password in ["correct horse", "wrong", "guess"]]

        assert codes == ["RATE_LIMITED"] * 3
        assert verified == []
        actions = {record.action.qualname for flow in list(api.engine.recent)[-3:] for record in flow.records}
        assert "UserAuthentication.authenticate" not in actions, actions


async def test_a_success_clears_the_usernames_count_and_not_the_addresss(start_api: StartApi) -> None:
    async with start_api(throttle_username_failures=3, throttle_address_failures=5) as api:
        await api.register("alice", "correct horse")
        await fail_as(api, ["alice", "alice"])
        assert await attempt(api, "alice", "correct horse") == "AuthSuccess"
        assert await api.count(THROTTLED, {"_id": {"$regex": " login:alice$"}, "attempts": {"$gt": 0}}) == 0

        # Uncleared, the username's count would reach its limit (3) here.
        assert await fail_as(api, ["alice", "alice"]) == ["INVALID_CREDENTIALS"] * 2
        assert await attempt(api, "alice", "correct horse") == "AuthSuccess"
        # The address has failed 4 times; a 5th reaches its limit: the successes cleared nothing there.
        await fail_as(api, ["bob"])

        assert await attempt(api, "alice", "correct horse") == "RATE_LIMITED"


@pytest.mark.parametrize(("trust_proxy", "expected"), [(True, "AuthSuccess"), (False, "RATE_LIMITED")])
async def test_forwarded_addresses_count_apart_only_behind_a_trusted_proxy(
    start_api: StartApi, trust_proxy: bool, expected: str
) -> None:
    async with start_api(throttle_address_failures=3, trust_proxy=trust_proxy) as api:
        await api.register("alice", "correct horse")
        await fail_as(api, ["u1", "u2", "u3"], address="198.51.100.1")
        assert await attempt(api, "alice", "correct horse", address="198.51.100.1") == "RATE_LIMITED"

        assert await attempt(api, "alice", "correct horse", address="198.51.100.2") == expected


async def test_behind_a_trusted_proxy_a_client_cannot_escape_the_address_limit_by_forging_forwarded_for(
    start_api: StartApi,
) -> None:
    """A proxy appends the address it saw to the X-Forwarded-For the client sent
    (`$proxy_add_x_forwarded_for`, the usual setting): only the last entry is the
    proxy's word, the ones before it are whatever the client wrote."""
    real = "203.0.113.7"
    async with start_api(throttle_address_failures=3, trust_proxy=True) as api:
        await api.register("alice", "correct horse")
        for i, username in enumerate(["u1", "u2", "u3", "u4", "u5"]):
            await fail_as(api, [username], address=f"10.0.0.{i}, {real}")

        assert await attempt(api, "nobody", "a wrong password", address=f"10.0.1.1, {real}") == "RATE_LIMITED"


@pytest.mark.parametrize(
    ("proxies", "expected"), [(0, "127.0.0.1"), (1, "192.0.2.3"), (2, "192.0.2.2"), (5, "192.0.2.1")]
)
async def test_the_client_address_is_the_entry_as_far_from_the_end_as_there_are_proxies(
    start_api: StartApi, proxies: int, expected: str
) -> None:
    """Over every X-Forwarded-For line, as if each proxy had added a line of its own; with
    fewer entries than proxies, the first (the farthest proxy's)."""
    async with start_api(trust_proxy=proxies) as api:
        response = await api.http.post(
            "/api/UserAuthentication/register",
            json={"username": "alice", "password": "correct horse"},
            headers=[("X-Forwarded-For", "192.0.2.1, 192.0.2.2"), ("X-Forwarded-For", "192.0.2.3")],
        )
        token = response.json()["session"]
        sessions = await api.gql("{ sessions { client } }", token=token)

    assert sessions["data"]["sessions"] == [{"client": expected}]
