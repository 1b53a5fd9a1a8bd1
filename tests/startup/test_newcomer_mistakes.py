"""The start-up check refuses the mistakes a newcomer makes, naming the sync, route,
action and key. Each test drops a routes module into `app/api/routes/` and a syncs
module into `syncs/` (found like any other, under names no real module has) and
assembles the application as start-up does."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator

import pytest

from app.api.fields import FieldDeclarationError
from app.api.schema import build_schema
from app.engine import SyncDeclarationError
from app.parts import discover
from app.server.services import assemble
from tests.concepts.helpers import make_settings
from tests.throwaway import Throwaway

ROUTES_HEADER = """
from typing import Literal, TypedDict
from app.concepts.outputs import INVALID_CREDENTIALS, USERNAME_TAKEN
from app.protocol.routes import SESSION, Input, Route

class Forgotten(TypedDict):
    status: Literal["forgotten"]
"""

SYNCS_HEADER = """
from app.concepts import Requesting, Sessioning, UserAuthentication
from app.engine import Sync, sync
from syncs.shapes import error_response
"""

FORGET_ROUTE = """
FORGET = Route("/forget", SESSION, output=Forgotten)
"""

FORGET_REQUEST = """
        @sync
        def ForgetRequest(request, session):
            return Sync(
                when=[(Requesting.request, {"path": "/forget", "session": session}, {"request": request})],
                then=[(Sessioning.delete, {"session": session})],
            )
        """  # indented as the tests' own sources are, to be dedented with them


class Newcomer:
    """A newcomer's routes and syncs, added to the application's."""

    def __init__(self, throwaway: Throwaway) -> None:
        self.throwaway = throwaway

    def add(self, *, routes: str = "", syncs: str = "") -> None:
        declared = self.throwaway.module("app.api.routes", ROUTES_HEADER + textwrap.dedent(routes))
        self.throwaway.module("syncs", SYNCS_HEADER + f"from {declared} import *\n" + textwrap.dedent(syncs))

    def refusal(self, *, routes: str = "", syncs: str = "") -> str:
        """The message start-up refuses these routes and syncs with."""
        self.add(routes=routes, syncs=syncs)
        with pytest.raises(SyncDeclarationError) as error:
            assemble(make_settings(), discover())
        return str(error.value)


@pytest.fixture
def newcomer(throwaway: Throwaway) -> Iterator[Newcomer]:
    yield Newcomer(throwaway)


# -- request patterns ---------------------------------------------------------------------------


def test_a_misspelt_key_in_a_request_pattern(newcomer: Newcomer) -> None:
    message = newcomer.refusal(
        syncs="""
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


def test_a_path_no_route_declares(newcomer: Newcomer) -> None:
    message = newcomer.refusal(
        syncs="""
        @sync
        def LogoutTypo(request, session):
            return Sync(
                when=[(Requesting.request, {"path": "/logut", "session": session}, {"request": request})],
                then=[(Requesting.respond, {"request": request, "status": "logged_out"})],
            )
        """
    )
    assert (
        "sync LogoutTypo: when pattern 1 (Requesting.request) names path '/logut', which no route declares" in message
    )


def test_a_sync_on_every_request_names_only_keys_every_request_has(newcomer: Newcomer) -> None:
    message = newcomer.refusal(
        syncs="""
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


# -- where ----------------------------------------------------------------------------------------


def test_a_misspelt_input_key_of_a_where_query(newcomer: Newcomer) -> None:
    message = newcomer.refusal(
        syncs="""
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


def test_a_misspelt_row_key_of_a_where_query(newcomer: Newcomer) -> None:
    message = newcomer.refusal(
        syncs="""
        @sync
        def MeAgain(request, session, user):
            return Sync(
                when=[(Requesting.request, {"path": "/me", "session": session}, {"request": request})],
                where=lambda frames: frames.query(Sessioning._getUser, {"session": session}, {"usr": user}),
                then=[(Requesting.respond, {"request": request, "user": user})],
            )
        """
    )
    assert message.startswith(
        "sync MeAgain: where step 1 (Sessioning._getUser): output key 'usr' is not a key of "
        "Sessioning._getUser's rows (keys: "
    )


def test_rows_collected_into_a_variable_are_the_querys_own(newcomer: Newcomer) -> None:
    """Collected rows keep the query's keys (`createdAt`), so naming keys for them is refused."""
    message = newcomer.refusal(
        syncs="""
        @sync
        def MySessions(request, session, user, created_at, results):
            return Sync(
                when=[
                    (Requesting.request, {"path": "/Sessioning/_getSessions", "session": session}, {"request": request})
                ],
                where=lambda frames: frames.query(Sessioning._getUser, {"session": session}, {"user": user}).query(
                    Sessioning._getSessions, {"user": user}, {"createdAt": created_at}, into=results
                ),
                then=[(Requesting.respond, {"request": request, "results": results})],
            )
        """
    )
    assert message == (
        "sync MySessions: `where` is not a pipeline of steps: a query `into` a variable collects whole rows, "
        "keyed by the query's own keys: give it no outputs"
    )


# -- responses against the route's contract -----------------------------------------------------


def test_a_response_with_a_key_the_route_does_not_declare(newcomer: Newcomer) -> None:
    message = newcomer.refusal(
        routes=FORGET_ROUTE,
        syncs=FORGET_REQUEST
        + """
        @sync
        def ForgetResponse(request, session):
            return Sync(
                when=[
                    (Requesting.request, {"path": "/forget"}, {"request": request}),
                    (Sessioning.delete, {}, {"session": session}),
                ],
                then=[(Requesting.respond, {"request": request, "status": "forgotten", "sesion": session})],
            )

        ForgetResponseError = error_response(FORGET, Sessioning.delete)
        """,
    )
    assert message.endswith(
        "sync ForgetResponse: then Requesting.respond answers {sesion, status}, which is not an output of route "
        "/forget (outputs: Forgotten {status}; or an error: {code, error})"
    )


def test_a_response_missing_a_key_of_the_routes_output(newcomer: Newcomer) -> None:
    message = newcomer.refusal(
        syncs="""
        @sync
        def MeWithoutName(request, session, user):
            return Sync(
                when=[(Requesting.request, {"path": "/me", "session": session}, {"request": request})],
                where=lambda frames: frames.query(Sessioning._getUser, {"session": session}, {"user": user}),
                then=[(Requesting.respond, {"request": request, "username": user})],
            )
        """
    )
    assert (
        "sync MeWithoutName: then Requesting.respond answers {username}, which is not an output of route /me "
        "(outputs: Me {user, username}; NoOne {user}; or an error: {code, error})"
    ) in message


def test_an_error_code_nobody_declared(newcomer: Newcomer) -> None:
    message = newcomer.refusal(
        syncs="""
        @sync
        def MeSignedOut(request, session):
            return Sync(
                when=[(Requesting.request, {"path": "/me", "session": session}, {"request": request})],
                where=lambda frames: frames.without(Sessioning._getUser, {"session": session}),
                then=[(Requesting.respond, {"request": request, "error": "Sign in.", "code": "NOT_SIGNED_IN"})],
            )
        """
    )
    assert "sync MeSignedOut: then Requesting.respond answers code 'NOT_SIGNED_IN', which is not declared" in message


def test_a_declared_code_the_route_does_not_declare(newcomer: Newcomer) -> None:
    message = newcomer.refusal(
        syncs="""
        @sync
        def MeTaken(request, session):
            return Sync(
                when=[(Requesting.request, {"path": "/me", "session": session}, {"request": request})],
                where=lambda frames: frames.without(Sessioning._getUser, {"session": session}),
                then=[(Requesting.respond, {"request": request, "error": "Taken.", "code": "USERNAME_TAKEN"})],
            )
        """
    )
    assert (
        "sync MeTaken: then Requesting.respond answers code 'USERNAME_TAKEN', which route /me does not declare "
        "(errors: none)"
    ) in message


def test_an_actions_error_passed_on_to_a_route_that_does_not_declare_its_codes(newcomer: Newcomer) -> None:
    message = newcomer.refusal(
        routes="""
        CHECK = Route("/check", Input("username"), Input("password", secret=True), output=Forgotten)
        """,
        syncs="""
        @sync
        def CheckRequest(request, username, password):
            return Sync(
                when=[
                    (
                        Requesting.request,
                        {"path": "/check", "username": username, "password": password},
                        {"request": request},
                    )
                ],
                then=[(UserAuthentication.authenticate, {"username": username, "password": password})],
            )

        @sync
        def CheckResponse(request, user):
            return Sync(
                when=[
                    (Requesting.request, {"path": "/check"}, {"request": request}),
                    (UserAuthentication.authenticate, {}, {"user": user}),
                ],
                then=[(Requesting.respond, {"request": request, "status": "forgotten"})],
            )

        CheckResponseError = error_response(CHECK, UserAuthentication.authenticate)
        """,
    )
    assert message.endswith(
        "sync CheckResponseError: then Requesting.respond answers code 'INVALID_CREDENTIALS', which route /check "
        "does not declare (errors: none)"
    )


def test_two_syncs_certain_to_respond_to_the_same_outcome(newcomer: Newcomer) -> None:
    message = newcomer.refusal(
        syncs="""
        @sync
        def LogoutAnswered(request, session):
            return Sync(
                when=[
                    (Requesting.request, {"path": "/logout"}, {"request": request}),
                    (Sessioning.delete, {}, {"session": session}),
                ],
                then=[(Requesting.respond, {"request": request, "status": "logged_out"})],
            )
        """
    )
    assert message.endswith(
        "route /logout: when Sessioning.delete => {session} (DeletedOut), syncs LogoutResponse and LogoutAnswered "
        "both respond (a request is answered once: make them exclusive, e.g. by the outcomes they match)"
    )


# -- every outcome answered ---------------------------------------------------------------------


def test_a_route_no_sync_answers(newcomer: Newcomer) -> None:
    message = newcomer.refusal(routes=FORGET_ROUTE)
    assert message.endswith(
        "route /forget: no sync handles its requests (a sync whose `when` has (Requesting.request, "
        "{'path': '/forget', ...}))"
    )


def test_an_action_whose_outcome_no_sync_follows(newcomer: Newcomer) -> None:
    message = newcomer.refusal(routes=FORGET_ROUTE, syncs=FORGET_REQUEST)
    assert (
        "route /forget: when Requesting.request (/forget), no sync responds to the route or carries the flow on ("
    ) in message
    assert "ForgetRequest invokes Sessioning.delete, whose outcome no sync matches" in message


def test_an_error_variant_no_sync_answers(newcomer: Newcomer) -> None:
    """The classic bug: the success is answered, the failure is not."""
    message = newcomer.refusal(
        routes=FORGET_ROUTE,
        syncs=FORGET_REQUEST
        + """
        @sync
        def ForgetResponse(request, session):
            return Sync(
                when=[
                    (Requesting.request, {"path": "/forget"}, {"request": request}),
                    (Sessioning.delete, {}, {"session": session}),
                ],
                then=[(Requesting.respond, {"request": request, "status": "forgotten"})],
            )
        """,
    )
    assert message.endswith(
        "route /forget: when Sessioning.delete => {code, error} (Error) (invoked by sync ForgetRequest), "
        "no sync responds to the route or carries the flow on"
    )


def test_the_same_route_with_its_error_answered_starts(newcomer: Newcomer) -> None:
    newcomer.add(
        routes=FORGET_ROUTE,
        syncs=FORGET_REQUEST
        + """
        @sync
        def ForgetResponse(request, session):
            return Sync(
                when=[
                    (Requesting.request, {"path": "/forget"}, {"request": request}),
                    (Sessioning.delete, {}, {"session": session}),
                ],
                then=[(Requesting.respond, {"request": request, "status": "forgotten"})],
            )

        ForgetResponseError = error_response(FORGET, Sessioning.delete)
        """,
    )
    parts = discover()

    assembly = assemble(make_settings(), parts)

    assert {"ForgetRequest", "ForgetResponse", "ForgetResponseError"} <= {c.name for c in assembly.engine.syncs}
    build_schema(parts, assembly.coverages)  # a route exposed nowhere in GraphQL needs no presenter


# -- the codes a concept's actions declare --------------------------------------------------------

VAULT = """
from typing import Annotated, TypedDict

from app.concepts.outputs import Error, error

class Opened(TypedDict):
    opened: bool

class Vault:
    async def open(self, key: str) -> {returns}:
        return {{"opened": True}}

DOCUMENTS = []

def create():
    return Vault()
"""


def test_an_action_that_can_fail_without_declaring_its_codes(newcomer: Newcomer, throwaway: Throwaway) -> None:
    throwaway.package("app.concepts", {"__init__.py": VAULT.format(returns="Opened | Error")})

    assert newcomer.refusal() == (
        "the syncs do not fit the routes:\n  Vault.open can fail, but declares no codes "
        "(-> ... | Annotated[Error, CODE, ...])"
    )


def test_an_action_that_declares_a_code_nobody_declared(newcomer: Newcomer, throwaway: Throwaway) -> None:
    throwaway.package("app.concepts", {"__init__.py": VAULT.format(returns='Opened | Annotated[Error, "JAMMED"]')})

    assert newcomer.refusal() == (
        "the syncs do not fit the routes:\n  Vault.open declares code 'JAMMED', which is not declared "
        "(app.protocol.codes.declare)"
    )


# -- guards at the gates ----------------------------------------------------------------------------

GUARD = """
        from app.concepts import Gating
        from app.protocol.gates import REQUEST_GATE, SESSION_GATE

        @sync
        def Guard(key, user, code):
            return Sync(
                when=[(Gating.ask, {{"gate": SESSION_GATE, "key": key, "user": user}}, {{}})],
                then=[{then}],
            )
        """


def test_a_guard_refusing_with_a_code_nobody_declared(newcomer: Newcomer) -> None:
    then = '(Gating.refuse, {"gate": SESSION_GATE, "key": key, "code": "FROZEN", "error": "Frozen."})'

    assert newcomer.refusal(syncs=GUARD.format(then=then)).endswith(
        "sync Guard: then Gating.refuse refuses with code 'FROZEN', which is not declared (app.protocol.codes.declare)"
    )


def test_a_guard_refusing_with_a_code_the_check_cannot_read(newcomer: Newcomer) -> None:
    then = '(Gating.refuse, {"gate": SESSION_GATE, "key": key, "code": code, "error": "Frozen."})'

    message = newcomer.refusal(syncs=GUARD.format(then=then).replace('"user": user}', '"user": user, "code": code}'))

    assert "sync Guard: then Gating.refuse refuses with a `code` the check cannot read: refuse with a literal code" in (
        message
    )


def test_a_guard_that_holds_a_gate_and_answers_nothing(newcomer: Newcomer) -> None:
    then = '(Gating.hold, {"gate": SESSION_GATE, "key": key, "by": "Guard"})'

    assert newcomer.refusal(syncs=GUARD.format(then=then)).endswith(
        "sync Guard: it holds gate 'session', so it answers the request: respond in its `then`, "
        "or invoke an action whose outcome a sync follows"
    )


def test_a_misspelt_key_of_a_request_gate_guard(newcomer: Newcomer) -> None:
    message = newcomer.refusal(
        syncs="""
        from app.concepts import Gating
        from app.protocol.gates import REQUEST_GATE

        @sync
        def Blocked(key, client):
            return Sync(
                when=[(Gating.ask, {"gate": REQUEST_GATE, "key": key, "path": "/login", "cliet": client}, {})],
                then=[(Gating.refuse, {"gate": REQUEST_GATE, "key": key, "code": "FORBIDDEN", "error": "No."})],
            )
        """
    )

    assert message.endswith(
        "sync Blocked: when pattern 1 (Gating.ask): input key 'cliet' is not an input of route /login "
        "(inputs: username, password; every request also has session, client, userAgent)"
    )


def test_a_guards_domain_code_on_a_graphql_field_that_cannot_answer_it(newcomer: Newcomer) -> None:
    newcomer.add(
        syncs="""
        from app.concepts import Gating
        from app.protocol.gates import REQUEST_GATE

        @sync
        def NoMe(key):
            return Sync(
                when=[(Gating.ask, {"gate": REQUEST_GATE, "key": key, "path": "/me"}, {})],
                then=[(Gating.refuse, {"gate": REQUEST_GATE, "key": key, "code": "USERNAME_TAKEN", "error": "No."})],
            )
        """
    )
    parts = discover()
    assembly = assemble(make_settings(), parts)  # the route check lets a gate add a code to a route

    with pytest.raises(FieldDeclarationError) as refused:
        build_schema(parts, assembly.coverages)

    assert str(refused.value) == (
        "route /me can answer USERNAME_TAKEN, so its GraphQL field answers a union with UserError: "
        "give its presenter result='...Result', the union's name"
    )
