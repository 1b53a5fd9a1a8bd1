"""authenticate resists guessing: repeated failures lead to RATE_LIMITED (the limits
are the default settings, as docs/reference/settings.md lists them). That an unknown user costs as much as a
wrong password is shown by tests/concepts (the dummy hash is verified) and measured
by `python -m benchmarks.hashing`."""

from __future__ import annotations

from app.settings import Settings

from .helpers import AUTHENTICATE, Api

ATTEMPTS = 100  # far more failures than any throttling rule worth the name allows
USERNAME_LIMIT = Settings.model_fields["throttle_username_failures"].default
ADDRESS_LIMIT = Settings.model_fields["throttle_address_failures"].default


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
