"""authenticate resists guessing: unknown users cost as much as known ones, and
repeated failures lead to RATE_LIMITED (api.md, Rules; the limits are the default
settings of the README)."""

from __future__ import annotations

import statistics
import time

from app.settings import Settings

from .helpers import AUTHENTICATE, Api, StartApi

ATTEMPTS = 100  # far more failures than any throttling rule worth the name allows
USERNAME_LIMIT = Settings.model_fields["throttle_username_failures"].default
ADDRESS_LIMIT = Settings.model_fields["throttle_address_failures"].default


async def seconds(api: Api, username: str, password: str) -> float:
    started = time.perf_counter()
    body = await api.gql(AUTHENTICATE, {"username": username, "password": password})
    elapsed = time.perf_counter() - started
    assert body["data"]["authenticate"]["code"] == "INVALID_CREDENTIALS", body
    return elapsed


async def test_authenticate_takes_as_long_for_an_unknown_user_as_for_a_wrong_password(start_api: StartApi) -> None:
    # The default argon2 cost, so hashing (not the database) dominates the time.
    async with start_api(argon2_memory_kib=19456, argon2_time_cost=2) as api:
        await api.register("alice")
        await seconds(api, "nobody", "warm up the dummy hash")
        wrong, unknown = [], []
        for i in range(5):
            wrong.append(await seconds(api, "alice", f"wrong password {i}"))
            unknown.append(await seconds(api, f"nobody{i}", f"wrong password {i}"))

    assert statistics.median(unknown) > 0.6 * statistics.median(wrong), (unknown, wrong)


async def test_repeated_wrong_passwords_lead_to_rate_limited(api: Api) -> None:
    await api.register("alice")

    codes = []
    for i in range(ATTEMPTS):
        body = await api.gql(AUTHENTICATE, {"username": "alice", "password": f"guess number {i}"})
        codes.append(body["data"]["authenticate"]["code"])
        if codes[-1] != "INVALID_CREDENTIALS":
            break

    assert codes[-1] == "RATE_LIMITED", f"{len(codes)} failures, all {set(codes)}"


async def test_rest_repeated_wrong_passwords_lead_to_429(api: Api) -> None:
    await api.register("alice")

    for i in range(ATTEMPTS):
        response = await api.rest("/login", {"username": "alice", "password": f"guess number {i}"})
        if response.status_code != 400:
            break

    assert response.status_code == 429, response.text
    assert response.json()["code"] == "RATE_LIMITED"


async def fail(api: Api, username: str, times: int, headers: dict[str, str] | None = None) -> list[str]:
    codes = []
    for i in range(times):
        response = await api.http.post(
            "/graphql",
            json={"query": AUTHENTICATE, "variables": {"username": username, "password": f"guess number {i}"}},
            headers=headers or {},
        )
        codes.append(response.json()["data"]["authenticate"]["code"])
    return codes


async def test_a_blocked_username_is_refused_even_with_the_right_password(api: Api) -> None:
    _, token = await api.register("alice", "correct horse")
    await fail(api, "alice", USERNAME_LIMIT)

    body = await api.gql(AUTHENTICATE, {"username": "alice", "password": "correct horse"})

    assert body["data"]["authenticate"]["code"] == "RATE_LIMITED"
    assert await api.me(token) is not None  # blocking logins ends no session


async def test_failures_count_for_a_username_in_any_case(api: Api) -> None:
    await api.register("alice", "correct horse")
    for spelling in ["alice", "ALICE", "Alice", "aLICE", "alicE"][:USERNAME_LIMIT]:
        await fail(api, spelling, 1)

    body = await api.gql(AUTHENTICATE, {"username": "AlIcE", "password": "correct horse"})

    assert body["data"]["authenticate"]["code"] == "RATE_LIMITED"


async def test_a_successful_login_clears_the_usernames_failures(api: Api) -> None:
    await api.register("alice", "correct horse")
    await fail(api, "alice", USERNAME_LIMIT - 1)
    await api.authenticate("alice", "correct horse")

    codes = await fail(api, "alice", USERNAME_LIMIT - 1)

    assert set(codes) == {"INVALID_CREDENTIALS"}
    await api.authenticate("alice", "correct horse")


async def test_a_blocked_username_leaves_other_users_free(api: Api) -> None:
    await api.register("alice", "correct horse")
    await api.register("bob", "correct horse")
    await fail(api, "alice", USERNAME_LIMIT)

    await api.authenticate("bob", "correct horse")


async def test_a_forwarded_for_header_does_not_escape_the_address_limit_by_default(api: Api) -> None:
    await api.register("alice", "correct horse")
    for i in range(ADDRESS_LIMIT):
        # Each a new username (none reaches its own limit), each claiming another address.
        await fail(api, f"user{i:03}", 1, headers={"X-Forwarded-For": f"10.0.{i // 250}.{i % 250}"})

    body = await api.gql(AUTHENTICATE, {"username": "alice", "password": "correct horse"})

    assert body["data"]["authenticate"]["code"] == "RATE_LIMITED"


async def test_rest_a_client_address_in_the_body_is_rejected(api: Api) -> None:
    await api.register("alice", "correct horse")

    response = await api.rest("/login", {"username": "alice", "password": "correct horse", "client": "10.9.8.7"})

    assert response.status_code == 400, response.text
    assert response.json()["code"] == "BAD_USER_INPUT"
