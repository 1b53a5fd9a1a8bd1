"""The start-up check refuses the mistakes a newcomer makes, naming the sync, route,
action and key. Each test drops one module into `syncs/` (found like any other) and
builds the application's engine as start-up does."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import syncs
from app.engine import SyncDeclarationError
from app.server.services import build_engine
from app.settings import Settings

HEADER = """
from app.concepts import Requesting, Sessioning, UserAuthentication
from app.engine import Sync, sync
from app.protocol.routes import SESSION, Input, Route
from syncs.shapes import error_response
"""

Refusal = Callable[[str], str]


@pytest.fixture
def refusal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Refusal]:
    """Add `syncs/newcomer.py` with this source; the message start-up refuses with."""
    monkeypatch.setattr(syncs, "__path__", [*syncs.__path__, str(tmp_path)])

    def refused(source: str) -> str:
        (tmp_path / "newcomer.py").write_text(HEADER + textwrap.dedent(source))
        with pytest.raises(SyncDeclarationError) as error:
            build_engine(Settings(_env_file=None, jwt_secret="not a key: nothing is signed here at all"))
        return str(error.value)

    yield refused
    sys.modules.pop("syncs.newcomer", None)


def test_a_misspelt_key_in_a_request_pattern(refusal: Refusal) -> None:
    message = refusal(
        """
        @sync
        def LogoutEverywhere(request, session):
            return Sync(
                when=[(Requesting.request, {"path": "/logout", "sesion": session}, {"request": request})],
                then=[(Sessioning.delete, {"session": session})],
            )
        """
    )
    assert (
        "sync LogoutEverywhere: when pattern 1 (Requesting.request): input key 'sesion' is not an input of "
        "route /logout (inputs: session; every request also has session, client, userAgent)"
    ) in message


def test_a_path_no_route_declares(refusal: Refusal) -> None:
    message = refusal(
        """
        @sync
        def LogoutTypo(request, session):
            return Sync(
                when=[(Requesting.request, {"path": "/logut", "session": session}, {"request": request})],
                then=[(Requesting.respond, {"request": request})],
            )
        """
    )
    assert (
        "sync LogoutTypo: when pattern 1 (Requesting.request) names path '/logut', which no route declares" in message
    )


def test_a_misspelt_input_key_of_a_where_query(refusal: Refusal) -> None:
    message = refusal(
        """
        @sync
        def MeAgain(request, session, user):
            return Sync(
                when=[(Requesting.request, {"path": "/me", "session": session}, {"request": request})],
                where=lambda frames: frames.query(Sessioning._getUser, {"sesion": session}, {"user": user}),
                then=[(Requesting.respond, {"request": request, "user": user})],
            )
        """
    )
    assert message == (
        "sync MeAgain: where step 1 (Sessioning._getUser): input key 'sesion' is not a parameter of "
        "Sessioning._getUser (parameters: session)"
    )


def test_a_misspelt_row_key_of_a_where_query(refusal: Refusal) -> None:
    message = refusal(
        """
        @sync
        def MeAgain(request, session, user):
            return Sync(
                when=[(Requesting.request, {"path": "/me", "session": session}, {"request": request})],
                where=lambda frames: frames.query(Sessioning._getUser, {"session": session}, {"usr": user}),
                then=[(Requesting.respond, {"request": request, "user": user})],
            )
        """
    )
    assert message == (
        "sync MeAgain: where step 1 (Sessioning._getUser): output key 'usr' is not a key of "
        "Sessioning._getUser's rows (keys: id, lastUsedAt, user)"
    )


def test_an_error_code_nobody_declared(refusal: Refusal) -> None:
    message = refusal(
        """
        @sync
        def MeSignedOut(request, session):
            return Sync(
                when=[(Requesting.request, {"path": "/me", "session": session}, {"request": request})],
                where=lambda frames: frames.without(Sessioning._getUser, {"session": session}),
                then=[(Requesting.respond, {"request": request, "error": "Sign in.", "code": "NOT_SIGNED_IN"})],
            )
        """
    )
    assert ("sync MeSignedOut: then Requesting.respond answers code 'NOT_SIGNED_IN', which is not declared") in message


def test_a_route_no_sync_answers(refusal: Refusal) -> None:
    message = refusal(
        """
        NOTES = Route("/notes", SESSION, graphql="Query.notes")
        """
    )
    assert message.endswith(
        "route /notes: no sync handles its requests (a sync whose `when` has (Requesting.request, "
        "{'path': '/notes', ...}))"
    )


def test_an_action_whose_outcome_no_sync_follows(refusal: Refusal) -> None:
    message = refusal(
        """
        FORGET = Route("/forget", SESSION)

        @sync
        def ForgetRequest(request, session):
            return Sync(
                when=[(Requesting.request, {"path": FORGET.path, "session": session}, {"request": request})],
                then=[(Sessioning.delete, {"session": session})],
            )
        """
    )
    assert (
        "route /forget: when Requesting.request (/forget), no sync responds to the route or carries the flow on "
        "(ForgetRequest invokes Sessioning.delete, whose outcome no sync matches"
    ) in message


def test_an_error_variant_no_sync_answers(refusal: Refusal) -> None:
    """The seeds' worst bug: the success is answered, the failure is not."""
    message = refusal(
        """
        FORGET = Route("/forget", SESSION)

        @sync
        def ForgetRequest(request, session):
            return Sync(
                when=[(Requesting.request, {"path": FORGET.path, "session": session}, {"request": request})],
                then=[(Sessioning.delete, {"session": session})],
            )

        @sync
        def ForgetResponse(request, session):
            return Sync(
                when=[
                    (Requesting.request, {"path": FORGET.path}, {"request": request}),
                    (Sessioning.delete, {}, {"session": session}),
                ],
                then=[(Requesting.respond, {"request": request, "status": "forgotten"})],
            )
        """
    )
    assert message.endswith(
        "route /forget: when Sessioning.delete => {code, error} (Error) (invoked by sync ForgetRequest), "
        "no sync responds to the route or carries the flow on"
    )


def test_the_same_route_with_its_error_answered_starts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(syncs, "__path__", [*syncs.__path__, str(tmp_path)])
    (tmp_path / "newcomer.py").write_text(
        HEADER
        + textwrap.dedent(
            """
            FORGET = Route("/forget", SESSION)

            @sync
            def ForgetRequest(request, session):
                return Sync(
                    when=[(Requesting.request, {"path": FORGET.path, "session": session}, {"request": request})],
                    then=[(Sessioning.delete, {"session": session})],
                )

            @sync
            def ForgetResponse(request, session):
                return Sync(
                    when=[
                        (Requesting.request, {"path": FORGET.path}, {"request": request}),
                        (Sessioning.delete, {}, {"session": session}),
                    ],
                    then=[(Requesting.respond, {"request": request, "status": "forgotten"})],
                )

            ForgetResponseError = error_response(FORGET, Sessioning.delete)
            """
        )
    )
    try:
        engine, _ = build_engine(Settings(_env_file=None, jwt_secret="not a key: nothing is signed here at all"))
    finally:
        sys.modules.pop("syncs.newcomer", None)

    assert {"ForgetRequest", "ForgetResponse", "ForgetResponseError"} <= {c.name for c in engine.syncs}


def test_a_sync_on_every_request_names_only_keys_every_request_has(refusal: Refusal) -> None:
    message = refusal(
        """
        @sync
        def EveryRequest(request, session, user):
            return Sync(
                when=[(Requesting.request, {"sesion": session, "user": user}, {"request": request})],
                then=[(Sessioning.deleteByUser, {"user": user})],
            )
        """
    )
    assert (
        "sync EveryRequest: when pattern 1 (Requesting.request): input key 'sesion' is not an input of every "
        "request (a pattern without a path matches every route; every request has session, client, userAgent)"
    ) in message
    assert "input key 'user' is not an input of every request" in message
