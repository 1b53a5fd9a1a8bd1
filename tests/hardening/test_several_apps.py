"""Several app processes (`python -m app`, each on its own port) sharing one database:
sessions are the database's, not a process's; and JWT key rotation across them.

  a1, a2: JWT_SECRET=k1                         (two instances of one deployment)
  b:      JWT_SECRET=k2, JWT_SECRET_PREVIOUS=k1  (the deployment after rotating the key)
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import jwt
import pytest

from app.concepts.sessioning.tokens import ALGORITHM
from tests.launched import AppProcess, running_apps

pytestmark = pytest.mark.launcher

K1, K2 = secrets.token_urlsafe(36), secrets.token_urlsafe(36)
LOGOUT = "mutation { logout { ok } }"
ALL_USERS = "{ allUsers { id } }"


@dataclass
class Apps:
    a1: AppProcess
    a2: AppProcess
    b: AppProcess


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[Apps]:
    shared = {"MONGODB_URL": database_url, "MONGODB_DB": f"several_{uuid.uuid4().hex}"}
    with running_apps(
        tmp_path_factory.mktemp("several"),
        {**shared, "JWT_SECRET": K1},
        {**shared, "JWT_SECRET": K1},
        {**shared, "JWT_SECRET": K2, "JWT_SECRET_PREVIOUS": K1},
    ) as (a1, a2, b):
        assert len({a1.url, a2.url, b.url}) == 3
        yield Apps(a1, a2, b)


def test_a_session_created_on_one_app_is_valid_on_the_other(apps: Apps) -> None:
    user, token = apps.a1.register("alice")

    assert apps.a2.me(token) == {"id": user, "username": "alice"}


def test_a_logout_on_one_app_is_seen_by_the_other_at_once(apps: Apps) -> None:
    _, token = apps.a1.register("bob")
    assert apps.a2.me(token) is not None

    assert apps.a2.gql(LOGOUT, token=token) == {"data": {"logout": {"ok": True}}}

    assert apps.a1.me(token) is None
    assert apps.a1.gql(ALL_USERS, token=token)["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_a_token_signed_with_the_previous_key_is_accepted_after_rotation(apps: Apps) -> None:
    user, token = apps.a1.register("carol")
    assert jwt.get_unverified_header(token)["alg"] == ALGORITHM

    assert apps.b.me(token) == {"id": user, "username": "carol"}


def test_after_rotation_new_tokens_are_signed_with_the_new_key(apps: Apps) -> None:
    _, token = apps.b.register("dave")

    claims = jwt.decode(token, K2, algorithms=[ALGORITHM], options={"verify_aud": False})
    assert claims["sub"]
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, K1, algorithms=[ALGORITHM])


def test_a_token_signed_with_the_new_key_is_refused_by_an_app_with_only_the_old_one(apps: Apps) -> None:
    user, token = apps.b.register("erin")
    assert apps.b.me(token) == {"id": user, "username": "erin"}

    assert apps.a1.me(token) is None
    assert apps.a1.gql(ALL_USERS, token=token)["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
