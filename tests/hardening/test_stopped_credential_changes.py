"""No half-done credential change: a `changePassword`, `deleteAccount` or
`confirmTotpSetup` stopped at any step leaves either the change in force with no
session made before it alive (the changer's own, for a password change or a second
factor, excepted), or the change not in force with the old password still working (by
itself, for a second factor). Never a session that outlives its credentials.

The interleavings are forced, not hoped for. `python -m app` talks to its database
through a wire proxy (tests/database/wire.py), which first learns the commands one
request sends, then, in one trial per command, holds that command and:

- stalls the database there: the proxy sends the command on into a database process
  just stopped with SIGSTOP; the app answers the client once its operation times out,
  and the database (SIGCONT) then runs whatever reached it, late;
- kills the app there: SIGKILL, and the command is never sent.

Then the outcome is read through a running app once the credentials are free again
(a staged change that was not completed is given up once its lease, REQUESTING_TIMEOUT,
has run out, by the next login): either the new password or the old one logs in.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pyotp
import pytest
from bson import ObjectId
from pymongo import MongoClient

from app.concepts.one_time_tokens import RESET_PASSWORD as RESET_LINK
from app.concepts.one_time_tokens.documents import OneTimeToken
from app.database import MEMORY, EmbeddedDatabase
from tests.api.helpers import CHANGE_OWN_PASSWORD, SESSIONS, USERS
from tests.api.second_factor import BEGIN, CONFIRM, DISABLE, SIGN_IN, VERIFY
from tests.database.wire import Command, WireProxy
from tests.launched import AppProcess, running_apps

pytestmark = pytest.mark.launcher

OLD, NEW = "correct horse", "a new password"
DELETE_ACCOUNT = "mutation { deleteAccount { __typename } }"
RESET_PASSWORD = """mutation($token: String!, $new: String!) {
  resetPassword(token: $token, newPassword: $new) { __typename }
}"""
FACTORS = "TwoFactor.factors"
PATIENCE = 60.0
"""Seconds a trial waits for an answer or for the credentials to be free (a hang guard, not a timing assertion)."""
LEASE = "2"
"""REQUESTING_TIMEOUT, and so how long a staged change holds the credentials: short, so a
change that was not completed is given up soon."""

NOT_STEPS = {"hello", "isMaster", "ismaster", "ping", "endSessions", "killCursors", "getMore"}
"""Commands of the driver's own (monitoring, cleanup), not of a request."""


@dataclass(frozen=True)
class Step:
    """The `nth` command named `name` on `collection` that a request sends."""

    name: str
    collection: str | None
    nth: int

    def matcher(self) -> Callable[[Command], bool]:
        seen = 0

        def matches(command: Command) -> bool:
            nonlocal seen
            if (command.name, command.collection) != (self.name, self.collection):
                return False
            seen += 1
            return seen == self.nth

        return matches

    def __str__(self) -> str:
        return f"{self.name} {self.collection}" + (f" #{self.nth}" if self.nth > 1 else "")


def steps(commands: list[Command]) -> list[Step]:
    """Each command of a request, in order (leaving out the driver's own, the request
    journal's writes, Throttling's once-a-minute sweep, which a request may or may not run,
    and the mail sender's rounds, which run beside every request: these flows send no mail)."""
    found: list[Step] = []
    for command in commands:
        if command.name in NOT_STEPS or command.collection in ("Requesting.requests", "Mailing.outbox"):
            continue
        if command.collection == "Throttling.counts" and command.name in ("find", "delete"):
            continue
        nth = 1 + sum((step.name, step.collection) == (command.name, command.collection) for step in found)
        found.append(Step(command.name, command.collection, nth))
    return found


def completes(step: Step, commands: list[Command], collection: str = USERS) -> bool:
    """The step is the write that puts the change in force (the last write to the user,
    or to the collection that holds what changes)."""
    writes = [i for i, c in enumerate(commands) if c.collection == collection and c.is_write]
    targets = [i for i, c in enumerate(commands) if (c.name, c.collection) == (step.name, step.collection)]
    return len(targets) >= step.nth and targets[step.nth - 1] == writes[-1]


# -- the database, the proxy, an app -----------------------------------------------------------


@dataclass
class Rig:
    database: EmbeddedDatabase
    proxy: WireProxy
    app: AppProcess  # talks through the proxy
    env: dict[str, str]  # its settings, for another app on the same data
    directory: Path
    mongo: MongoClient[dict[str, Any]]  # straight to the database, for reading the outcome
    db_name: str

    def sessions(self, user: str) -> int:
        return self.mongo[self.db_name][SESSIONS].count_documents({"user": user})

    def user(self, user: str) -> dict[str, Any] | None:
        return self.mongo[self.db_name][USERS].find_one({"_id": ObjectId(user)})


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    directory = tmp_path_factory.mktemp("stopped")
    with ExitStack() as stack:
        database = stack.enter_context(EmbeddedDatabase(MEMORY))
        proxy = stack.enter_context(WireProxy(("127.0.0.1", urlsplit(database.url).port or 0)))
        db_name = f"stopped_{uuid.uuid4().hex}"
        env = {
            "MONGODB_URL": proxy.url,
            "MONGODB_DB": db_name,
            "JWT_SECRET": uuid.uuid4().hex * 2,
            "REQUESTING_TIMEOUT": LEASE,
            "THROTTLE_USERNAME_FAILURES": "100000",
            "THROTTLE_ADDRESS_FAILURES": "100000",
            "THROTTLE_ADDRESS_REGISTRATIONS": "100000",
        }
        (app,) = stack.enter_context(running_apps(directory / "main", env))
        mongo: MongoClient[dict[str, Any]] = stack.enter_context(MongoClient(database.url, tz_aware=True))
        yield Rig(database, proxy, app, env, directory, mongo, db_name)


def sign_in(app: AppProcess, username: str, password: str) -> dict[str, Any]:
    """What a login answers ({} if the database was not answering)."""
    response = httpx.post(
        f"{app.url}/graphql",
        json={"query": SIGN_IN, "variables": {"username": username, "password": password}},
        timeout=PATIENCE,
    )
    return ((response.json().get("data") or {}).get("authenticate")) or {}


def login(app: AppProcess, username: str, password: str) -> str | None:
    """The session token of a login, or None if it was refused (or the database was not answering)."""
    result = sign_in(app, username, password)
    return result.get("session") if result.get("__typename") == "AuthSuccess" else None


def valid(app: AppProcess, token: str) -> bool:
    return app.me(token) is not None


def eventually(check: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"not within {PATIENCE} s: {what}")


@dataclass
class Account:
    name: str
    user: str
    changer: str  # the session the change is made with
    other: str  # another session, made before the change


def new_account(rig: Rig) -> Account:
    name = f"u{uuid.uuid4().hex[:12]}"
    user, changer = rig.app.register(name, OLD)
    other = login(rig.app, name, OLD)
    assert other is not None
    return Account(name, user, changer, other)


def send(app: AppProcess, query: str, variables: dict[str, Any], token: str) -> Future[httpx.Response]:
    pool = ThreadPoolExecutor(1)
    answer = pool.submit(
        httpx.post,
        f"{app.url}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
        timeout=PATIENCE,
    )
    pool.shutdown(wait=False)
    return answer


def learn(rig: Rig, flow: Flow) -> list[Command]:
    """The commands one request sends, start to answer."""
    account = new_account(rig)
    variables = flow.prepare(rig, account)
    time.sleep(0.5)  # the registration's journal write and the driver's background work settle
    with rig.proxy.recording() as seen:
        body = send(rig.app, flow.query, variables, account.changer).result(PATIENCE).json()
    assert "errors" not in body, body
    return seen


# -- what a stopped change may leave ---------------------------------------------------------


def which_password(rig: Rig, account: Account) -> str | None:
    """ "new" or "old": the password that logs in now; None while neither does."""
    if login(rig.app, account.name, NEW) is not None:
        return "new"
    return "old" if login(rig.app, account.name, OLD) is not None else None


def password_outcome(rig: Rig, account: Account) -> tuple[str, list[str]]:
    """'in force' or 'not in force', and what is wrong with it (nothing, if all holds)."""
    which = eventually(lambda: which_password(rig, account), "the new or the old password logs in")
    wrong = []
    if which == "new":
        if login(rig.app, account.name, OLD) is not None:
            wrong.append("the old password still logs in")
        if valid(rig.app, account.other):
            wrong.append("a session made before the change is alive")
        if not valid(rig.app, account.changer):
            wrong.append("the changer's own session was revoked")
    else:
        if login(rig.app, account.name, NEW) is not None:
            wrong.append("the new password logs in too")
        if not valid(rig.app, account.changer):
            wrong.append("the changer's session was revoked, though nothing changed")
    if (rig.user(account.user) or {}).get("lease"):
        wrong.append("the change still holds the credentials")
    return ("in force" if which == "new" else "not in force"), wrong


def deletion_outcome(rig: Rig, account: Account) -> tuple[str, list[str]]:
    gone = eventually(
        lambda: "gone" if rig.user(account.user) is None else ("kept" if login(rig.app, account.name, OLD) else None),
        "the account is gone or its password logs in",
    )
    wrong = []
    if gone == "gone":
        if rig.sessions(account.user):
            wrong.append(f"{rig.sessions(account.user)} sessions of the deleted account remain")
        if valid(rig.app, account.changer) or valid(rig.app, account.other):
            wrong.append("a session of the deleted account is alive")
        if login(rig.app, account.name, OLD) is not None:
            wrong.append("the deleted account logs in")
    elif (rig.user(account.user) or {}).get("lease"):
        wrong.append("the deletion still holds the credentials")
    return ("in force" if gone == "gone" else "not in force"), wrong


def second_factor_outcome(rig: Rig, account: Account) -> tuple[str, list[str]]:
    """In force if the password alone no longer signs in (a ticket is answered instead)."""
    return app_outcome(rig, account, enabling=True)


def no_second_factor_outcome(rig: Rig, account: Account) -> tuple[str, list[str]]:
    """In force if the password alone signs in again."""
    return app_outcome(rig, account, enabling=False)


def app_outcome(rig: Rig, account: Account, *, enabling: bool) -> tuple[str, list[str]]:
    """Whether an authenticator app's confirmation (or removal) is in force, and what is wrong."""
    kinds = {"AuthSuccess": "not in force", "SecondFactorRequired": "in force"}
    if not enabling:
        kinds = {"AuthSuccess": "in force", "SecondFactorRequired": "not in force"}
    which = eventually(
        lambda: kinds.get(sign_in(rig.app, account.name, OLD).get("__typename", "")),
        "the password alone signs in, or answers a ticket",
    )
    # A ticket is answered while the credentials are held too: a login gives up a lease that ran out.
    eventually(
        lambda: sign_in(rig.app, account.name, OLD) and not (rig.user(account.user) or {}).get("lease"),
        "the credentials are free again",
    )
    wrong = []
    stored = rig.mongo[rig.db_name][FACTORS].find_one({"_id": account.user}) or {}
    if (stored.get("active") is not None) != ((which == "in force") == enabling):
        wrong.append(f"the sign-in says {which}, the stored factor says otherwise")
    if which == "in force" and valid(rig.app, account.other):
        wrong.append("a session made before the change is alive")
    if not valid(rig.app, account.changer):
        wrong.append("the changer's own session was revoked")
    if (rig.user(account.user) or {}).get("lease"):
        wrong.append("the change still holds the credentials")
    return which, wrong


def totp_setup_begun(rig: Rig, account: Account) -> dict[str, Any]:
    """Begin a setup with the account's own session; the confirmation's variables (a current code)."""
    begun = rig.app.gql(BEGIN, {"password": OLD}, account.changer)["data"]["beginTotpSetup"]
    return {"code": pyotp.TOTP(begun["secret"]).now()}


def totp_enabled(rig: Rig, account: Account) -> dict[str, Any]:
    """An app set up and confirmed with the account's own session (which revokes the other
    one), and another session made with the password and a recovery code; the variables
    of disableTotp."""
    begun = rig.app.gql(BEGIN, {"password": OLD}, account.changer)["data"]["beginTotpSetup"]
    code = pyotp.TOTP(begun["secret"]).now()
    confirmed = rig.app.gql(CONFIRM, {"code": code}, account.changer)["data"]["confirmTotpSetup"]
    held = sign_in(rig.app, account.name, OLD)
    verified = rig.app.gql(VERIFY, {"ticket": held["ticket"], "code": confirmed["recoveryCodes"][0]})
    account.other = verified["data"]["verifySecondFactor"]["session"]
    return {"password": OLD}


def reset_outcome(rig: Rig, account: Account) -> tuple[str, list[str]]:
    """A reset replaces the password and revokes every session of the user: in force,
    none made before it may be alive; not in force, the new password must not log in."""
    which = eventually(lambda: which_password(rig, account), "the new or the old password logs in")
    wrong = []
    if which == "new":
        if login(rig.app, account.name, OLD) is not None:
            wrong.append("the old password still logs in")
        if valid(rig.app, account.other) or valid(rig.app, account.changer):
            wrong.append("a session made before the change is alive")
    elif login(rig.app, account.name, NEW) is not None:
        wrong.append("the new password logs in too")
    if (rig.user(account.user) or {}).get("lease"):
        wrong.append("the change still holds the credentials")
    return ("in force" if which == "new" else "not in force"), wrong


def reset_link(rig: Rig, account: Account) -> dict[str, Any]:
    """A reset link for the account, as requestPasswordReset stores it (its hash only); the
    variables of resetPassword."""
    token, now = secrets.token_urlsafe(32), datetime.now(UTC)
    rig.mongo[rig.db_name][OneTimeToken.Settings.name].insert_one(
        {
            "_id": hashlib.sha256(token.encode()).hexdigest(),
            "purpose": RESET_LINK,
            "subject": account.user,
            "data": {},
            "created": now,
            "expires": now + timedelta(hours=1),
        }
    )
    return {"token": token, "new": NEW}


@dataclass
class Flow:
    name: str
    query: str
    variables: dict[str, Any]
    outcome: Callable[[Rig, Account], tuple[str, list[str]]]
    in_force_by: str = USERS
    """The collection whose last write in the flow puts the change in force."""
    setup: Callable[[Rig, Account], dict[str, Any]] | None = None
    """What is done with the account before the flow (its variables, if it answers them)."""

    def prepare(self, rig: Rig, account: Account) -> dict[str, Any]:
        return self.setup(rig, account) if self.setup is not None else self.variables


FLOWS = [
    Flow("changePassword", CHANGE_OWN_PASSWORD, {"old": OLD, "new": NEW}, password_outcome),
    Flow("deleteAccount", DELETE_ACCOUNT, {}, deletion_outcome),
    Flow("resetPassword", RESET_PASSWORD, {}, reset_outcome, USERS, reset_link),
    Flow("confirmTotpSetup", CONFIRM, {}, second_factor_outcome, FACTORS, totp_setup_begun),
    Flow("disableTotp", DISABLE, {}, no_second_factor_outcome, FACTORS, totp_enabled),
]


# -- the trials ---------------------------------------------------------------------------------


def stalled_at(rig: Rig, flow: Flow, step: Step) -> tuple[str, list[str]]:
    account = new_account(rig)
    variables = flow.prepare(rig, account)
    held = rig.proxy.hold(step.matcher())
    answer = send(rig.app, flow.query, variables, account.changer)
    held.wait()
    os.kill(rig.database.pid, signal.SIGSTOP)
    try:
        held.release()
        answer.result(PATIENCE)
    finally:
        os.kill(rig.database.pid, signal.SIGCONT)
    return flow.outcome(rig, account)


def killed_at(rig: Rig, flow: Flow, step: Step, trial: int) -> tuple[str, list[str]]:
    account = new_account(rig)
    variables = flow.prepare(rig, account)
    with running_apps(rig.directory / f"killed{trial}", rig.env) as (victim,):
        held = rig.proxy.hold(step.matcher())
        answer = send(victim, flow.query, variables, account.changer)
        held.wait()
        victim.process.kill()
        victim.process.wait()
        held.drop()
    with pytest.raises(httpx.TransportError):
        answer.result(PATIENCE)
    return flow.outcome(rig, account)


def expected(trial: int, completion: int, stop: str, outcome: str) -> str:
    """Stopped after the completion, the change is in force. A killed app never sent the
    completion nor anything after its stop, so stopped at or before it, the change is not
    in force. A stalled database may still run what it was sent when it resumes, and the
    app may still be waiting for it (its request answered TIMEOUT meanwhile), so before
    the completion either outcome is right: only the invariant is asserted."""
    if trial > completion:
        return "in force"
    return "not in force" if stop == "app killed" else outcome


@pytest.mark.parametrize("flow", FLOWS, ids=[flow.name for flow in FLOWS])
@pytest.mark.parametrize("stop", ["database stalled", "app killed"])
def test_a_credential_change_stopped_at_any_step_is_done_whole_or_not_at_all(rig: Rig, flow: Flow, stop: str) -> None:
    commands = learn(rig, flow)
    learned = steps(commands)
    assert any(completes(step, commands, flow.in_force_by) for step in learned), [str(step) for step in learned]

    completion = next(i for i, step in enumerate(learned) if completes(step, commands, flow.in_force_by))
    table, wrong = [], []
    for trial, step in enumerate(learned):
        if stop == "database stalled":
            outcome, problems = stalled_at(rig, flow, step)
        else:
            outcome, problems = killed_at(rig, flow, step, trial)
        table.append(f"{step!s:<40} {outcome}")
        wrong += [f"{step}: {problem}" for problem in problems]
        if outcome != expected(trial, completion, stop, outcome):
            wrong.append(f"{step}: {outcome}, expected {expected(trial, completion, stop, outcome)}")

    print(f"\n{flow.name}, {stop} at each step:\n  " + "\n  ".join(table))
    assert wrong == []
