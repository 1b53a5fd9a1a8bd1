"""USER_DIRECTORY=off (production's default): no signed-in user can list every account,
through GraphQL or REST; looking one user up by id goes on."""

from __future__ import annotations

from app.settings import Settings

from .helpers import REQUESTS, Api, StartApi, assert_gql_error
from .test_users import ALL_DEFAULT, USERNAME

OFF = "The user directory is off on this server: see USER_DIRECTORY."


async def test_with_the_directory_off_listing_users_is_forbidden(start_api: StartApi) -> None:
    async with start_api(user_directory=False) as api:
        alice, token = await api.register("alice")

        listed = await api.gql(ALL_DEFAULT, token=token)
        rest = await api.rest("/UserAuthentication/_getAllUsers", {"session": token, "first": 10})
        named = await api.gql(USERNAME, {"user": alice}, token=token)
        await api.flush()
        journaled = await api.count(REQUESTS, {"path": "/UserAuthentication/_getAllUsers", "status": "FORBIDDEN"})

    assert assert_gql_error(listed, "FORBIDDEN")["message"] == OFF
    assert (rest.status_code, rest.json()) == (403, {"error": OFF, "code": "FORBIDDEN"})
    assert named == {"data": {"usernameById": "alice"}}
    assert journaled == 2


async def test_with_the_directory_off_a_request_without_a_session_is_still_unauthenticated(
    start_api: StartApi,
) -> None:
    async with start_api(user_directory=False) as api:
        await api.register("alice")

        listed = await api.gql(ALL_DEFAULT, token="not.a.session")
        rest = await api.rest("/UserAuthentication/_getAllUsers", {})

    assert_gql_error(listed, "UNAUTHENTICATED")
    assert (rest.status_code, rest.json()["code"]) == (401, "UNAUTHENTICATED")


async def test_the_directory_is_on_by_default_outside_production(api: Api) -> None:
    alice, token = await api.register("alice")

    assert await api.gql(ALL_DEFAULT, token=token) == {"data": {"allUsers": [{"id": alice, "username": "alice"}]}}


def test_the_directory_is_off_by_default_in_production_and_can_be_turned_on() -> None:
    production = {
        "production": True,
        "jwt_secret": "Qm9bX2xLr7TfZ0c4VwP1yHs8NaJd6EgUo3iK5tRb_zM",
        "mongodb_url": "mongodb://db.example",
        "webauthn_rp_id": "auth.example",
        "webauthn_rp_name": "Example",
        "webauthn_origins": "https://auth.example",
        "smtp_url": "smtp://mail.example",
        "mail_from": "Example <no-reply@auth.example>",
        "verify_email_url": "https://auth.example/verify?token={token}",
        "reset_password_url": "https://auth.example/reset?token={token}",
    }

    assert Settings(_env_file=None, **production).user_directory_enabled is False  # type: ignore[arg-type]
    assert Settings(_env_file=None, **production, user_directory="on").user_directory_enabled is True  # type: ignore[arg-type]
    assert Settings(_env_file=None).user_directory_enabled is True  # type: ignore[call-arg]
    assert Settings(_env_file=None, user_directory="off").user_directory_enabled is False  # type: ignore[call-arg]
