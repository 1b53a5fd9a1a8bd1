"""Gates: rules added in new files that stop a request, stop a step of its flow (no
session), or take the flow over, without editing the syncs that carry it on. Each test
adds a throwaway feature (found like any other) and runs the real app on it."""

from __future__ import annotations

import textwrap

from app.concepts import Gating
from tests.assembled import assembly
from tests.throwaway import Throwaway

from .helpers import REGISTER, SESSIONS, USERS, StartApi

FROZEN = '''
from app.concepts import Gating, UserAuthentication
from app.engine import Sync, sync
from app.protocol.gates import SESSION_GATE


def frozen(username):
    def check(frame):
        """the username is a frozen one"""
        return frame[username].startswith("frozen")

    return check


@sync
def FrozenGetNoSession(key, user, username):
    return Sync(
        when=[(Gating.ask, {"gate": SESSION_GATE, "key": key, "user": user}, {})],
        where=lambda frames: frames.query(
            UserAuthentication._getUsernameById, {"user": user}, {"username": username}
        ).filter(frozen(username)),
        then=[
            (
                Gating.refuse,
                {"gate": SESSION_GATE, "key": key, "code": "INVALID_CREDENTIALS", "error": "This account is frozen."},
            )
        ],
    )
'''


async def test_a_guard_at_the_session_gate_stops_the_session_and_answers_its_error(
    start_api: StartApi, throwaway: Throwaway
) -> None:
    throwaway.module("syncs", FROZEN)
    async with start_api() as api:
        refused = await api.gql(REGISTER, {"username": "frozen_fred", "password": "correct horse"})
        login = await api.rest("/login", {"username": "frozen_fred", "password": "correct horse"})
        _, alice = await api.register("alice")

        assert refused["data"]["register"] == {
            "__typename": "UserError",
            "code": "INVALID_CREDENTIALS",
            "message": "This account is frozen.",
        }
        assert (login.status_code, login.json()) == (
            400,
            {"error": "This account is frozen.", "code": "INVALID_CREDENTIALS"},
        )
        assert await api.count(USERS) == 2  # the gate is after registering: the user exists, signed in nowhere
        assert await api.count(SESSIONS) == 1
        assert await api.me(alice) is not None
        [flow] = [f for f in api.engine.recent if f.records[0].input["path"] == "/login"]
        actions = [record.action.qualname for record in flow.records]
        assert "Gating.decide" in actions and "Sessioning.create" not in actions


TICKETS = """
from typing import TypedDict

from app.api.routes.access import SignedIn
from app.concepts.outputs import INVALID_CREDENTIALS
from app.protocol.routes import Input, Route


class Ticket(TypedDict):
    ticket: str


SIGN_IN = Route(
    "/Throwaway/signIn",
    Input("username"),
    Input("password", secret=True),
    output=SignedIn | Ticket,
    errors=[INVALID_CREDENTIALS],
)
"""

TICKET_SYNCS = '''
from app.concepts import Gating, Requesting, UserAuthentication
from app.engine import Sync, sync
from app.protocol.gates import SESSION_GATE
from syncs.signing_in import signs_in

from {routes} import SIGN_IN


def cautious(username):
    def check(frame):
        """the username asks for a second factor"""
        return frame[username].startswith("cautious")

    return check


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


@sync
def SecondFactorFirst(request, key, user, username):
    return Sync(
        when=[
            (Requesting.request, {{"path": SIGN_IN.path}}, {{"request": request}}),
            (Gating.ask, {{"gate": SESSION_GATE, "key": key, "user": user}}, {{}}),
        ],
        where=lambda frames: frames.query(
            UserAuthentication._getUsernameById, {{"user": user}}, {{"username": username}}
        ).filter(cautious(username)),
        then=[
            (Gating.hold, {{"gate": SESSION_GATE, "key": key, "by": "SecondFactorFirst"}}),
            (Requesting.respond, {{"request": request, "ticket": "a ticket, for the second factor"}}),
        ],
    )
'''


async def test_a_guard_that_holds_the_session_gate_answers_instead_and_no_session_is_made(
    start_api: StartApi, throwaway: Throwaway
) -> None:
    routes = throwaway.module("app.api.routes", TICKETS)
    throwaway.module("syncs", textwrap.dedent(TICKET_SYNCS.format(routes=routes)))
    async with start_api() as api:
        await api.register("cautious_carl")
        await api.register("brave_bea")
        sessions = await api.count(SESSIONS)

        held = await api.rest("/Throwaway/signIn", {"username": "cautious_carl", "password": "correct horse"})
        signed_in = await api.rest("/Throwaway/signIn", {"username": "brave_bea", "password": "correct horse"})

        assert (held.status_code, held.json()) == (200, {"ticket": "a ticket, for the second factor"})
        assert set(signed_in.json()) == {"user", "username", "session", "expiresAt"}
        assert await api.count(SESSIONS) == sessions + 1  # bea's only


BLOCKED_ME = """
from app.concepts import Gating
from app.engine import Sync, sync
from app.protocol.gates import REQUEST_GATE


@sync
def NoMeForTheCurious(key, client):
    return Sync(
        when=[(Gating.ask, {"gate": REQUEST_GATE, "key": key, "path": "/me", "client": client}, {})],
        then=[(Gating.refuse, {"gate": REQUEST_GATE, "key": key, "code": "FORBIDDEN", "error": "Not from here."})],
    )
"""


async def test_a_guard_at_the_request_gate_stops_the_request_before_its_syncs_run(
    start_api: StartApi, throwaway: Throwaway
) -> None:
    throwaway.module("syncs", BLOCKED_ME)
    async with start_api() as api:
        _, token = await api.register("alice")

        me = await api.gql("{ me { id } }", token=token)
        rest = await api.rest("/me", {"session": token})
        flow = api.engine.recent[-1]
        exists = await api.rest("/UserAuthentication/_checkUserExists", {"session": token, "user": "nobody"})
        unwatched = api.engine.recent[-1]
        await api.flush()
        journaled = await api.mongo[api.db_name]["Requesting.requests"].find_one({"flow": flow.id})

    assert me["data"] == {"me": None} and me["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (rest.status_code, rest.json()) == (403, {"error": "Not from here.", "code": "FORBIDDEN"})
    assert [r.action.qualname for r in flow.records] == ["Gating.ask", "Gating.refuse", "Gating.decide"]
    assert exists.json() == {"exists": False}
    assert not any(r.action.fn in (Gating.ask, Gating.decide) for r in unwatched.records)  # no guard, no gate
    assert journaled is not None and journaled["status"] == "FORBIDDEN"


def test_every_route_passes_the_request_gate_and_every_sign_in_the_session_gate() -> None:
    register = next(c for c in assembly().coverages if c.route.path == "/UserAuthentication/register")
    me = next(c for c in assembly().coverages if c.route.path == "/me")

    # The second factor's guard watches every sign-in (it holds those by a password alone).
    assert register.gates == {"request": [], "session": ["SecondFactorHoldsPasswordSignIn"]}
    assert me.gates == {"request": []}


VOUCHING = {
    "__init__.py": """
from typing import TypedDict

DOCUMENTS = []


class Vouched(TypedDict):
    user: str


class Vouching:
    async def vouch(self, user: str) -> Vouched:
        return {"user": user}


def create():
    return Vouching()
""",
}

VOUCH_ROUTE = """
from app.api.routes.access import SignedIn
from app.concepts.outputs import INVALID_CREDENTIALS
from app.protocol.routes import ID, Input, Route

VOUCH = Route("/Throwaway/vouch", Input("user", ID), output=SignedIn, errors=[INVALID_CREDENTIALS])
"""

VOUCH_SYNCS = """
from app.concepts import Requesting
from app.engine import Sync, sync
from syncs.signing_in import signs_in

from {concept} import Vouching
from {routes} import VOUCH


@sync
def VouchRequest(request, user):
    return Sync(
        when=[(Requesting.request, {{"path": VOUCH.path, "user": user}}, {{"request": request}})],
        then=[(Vouching.vouch, {{"user": user}})],
    )


VouchSignsIn = signs_in(VOUCH, Vouching.vouch)
"""


async def test_a_sign_in_whose_action_names_no_credentials_version_signs_in_and_checks_the_user_exists(
    start_api: StartApi, throwaway: Throwaway
) -> None:
    """A passkey or a ticket answers a user, not a password's version: signs_in checks the user still exists."""
    concept = throwaway.package("app.concepts", VOUCHING)
    routes = throwaway.module("app.api.routes", VOUCH_ROUTE)
    throwaway.module("syncs", VOUCH_SYNCS.format(concept=concept, routes=routes))
    async with start_api() as api:
        alice, _ = await api.register("alice")

        vouched = await api.rest("/Throwaway/vouch", {"user": alice})
        nobody = await api.rest("/Throwaway/vouch", {"user": "5f0000000000000000000000"})

        assert vouched.json()["username"] == "alice" and await api.me(vouched.json()["session"]) is not None
        assert (nobody.status_code, nobody.json()["code"]) == (400, "INVALID_CREDENTIALS")
        assert await api.count(SESSIONS, {"user": "5f0000000000000000000000"}) == 0
