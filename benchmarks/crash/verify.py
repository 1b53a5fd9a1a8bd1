"""Checking an account against what its client was told, once the server is back.

Passwords: the one the last acknowledged operation put in force must log in; if an
older one does instead, the operations after it were lost; if none does, the account
was. A deleted account must not log in, and none of its sessions may work (if one
does while the account is gone, the deletion was half done). Sessions: those the
client was told are alive must work; those it was told were ended must not (one that
a password change ended, working after the new password is in force, is the change
half done). Unanswered operations are found out (did the new password, the deletion,
the end of a session happen?) and checked by the same rules: a change in force must
not have left an earlier session alive.
"""

from __future__ import annotations

from collections.abc import Iterable

import httpx

from .client import logs_in, works
from .model import Account, Op, Session


class NoAnswer(Exception):
    """The server did not answer a check (it should be up by now)."""


async def password_works(http: httpx.AsyncClient, account: Account, password: str) -> bool:
    result = await logs_in(http, account.username, password)
    if result is None:
        raise NoAnswer(f"login of {account.username}")
    return result


async def session_works(http: httpx.AsyncClient, session: Session) -> bool:
    result = await works(http, session.token)
    if result is None:
        raise NoAnswer("me")
    return result


async def check(http: httpx.AsyncClient, account: Account) -> None:
    """Judge every operation on `account` whose effect can be seen now, and make the
    account what was found (so its client can go on using it)."""
    if not account.registered:  # the registration got no answer: was the account made?
        account.registered = True
        if not await password_works(http, account, account.password):
            account.gone = True
            return
    in_force = await find_password(http, account)
    deletion = account.deleted_by or account.pending_deletion
    if deletion is not None:
        if in_force is None:  # the account is gone, as asked: what led to it happened
            verify_all([deletion, *(op for _, op in account.passwords)])
            verify_all(session.made_by for session in account.sessions)
            account.deleted_by, account.pending_deletion = deletion, None
        else:
            if deletion.answered:
                deletion.judge("lost")  # it came back
            account.pending_deletion, account.deleted_by = None, None
    account.gone = in_force is None
    for session in account.sessions:
        await check_session(http, account, session, in_force)


async def find_password(http: httpx.AsyncClient, account: Account) -> Op | None:
    """The op whose password logs in now (an unanswered change's, if it happened), judging
    the acknowledged ones: the one in force and those before it verified, those after it
    lost. None if no password logs in (the account is gone)."""
    if account.pending_password is not None:
        password, op = account.pending_password
        account.pending_password = None
        if await password_works(http, account, password):
            account.passwords.append((password, op))
            verify_all(earlier for _, earlier in account.passwords)
            return op
    newest = len(account.passwords) - 1
    for index in range(newest, max(newest - 2, -1), -1):  # two back: older ones were checked before
        password, op = account.passwords[index]
        if await password_works(http, account, password):
            for _, later in account.passwords[index + 1 :]:
                later.judge("lost")
            verify_all(earlier for _, earlier in account.passwords[: index + 1])
            del account.passwords[index + 1 :]
            return op
    if account.deleted_by is None and account.pending_deletion is None:
        for _, op in account.passwords:
            if op.answered:
                op.judge("lost")
    return None


def verify_all(ops: Iterable[Op | None]) -> None:
    for op in ops:
        if op is not None and op.answered:
            op.judge("verified")


async def check_session(http: httpx.AsyncClient, account: Account, session: Session, in_force: Op | None) -> None:
    alive = await session_works(http, session)
    ended_by = session.ended_by
    if session.alive:
        if session.made_by is not None:
            session.made_by.judge("verified" if alive else "lost")
    elif ended_by is not None:
        if not alive:
            if ended_by.answered:
                ended_by.judge("verified")
            if session.made_by is not None and session.made_by.verdict is None:
                session.made_by.judge("verified")  # it existed: it was ended
        elif took_effect(ended_by, account, in_force):
            ended_by.judge("half-done")  # the change is in force, and a session from before it works
        elif ended_by.answered:
            ended_by.judge("lost")
    session.alive = alive


def took_effect(op: Op, account: Account, in_force: Op | None) -> bool:
    """Whether the change `op` is in force now (a password change whose password, or a
    later one, logs in; a deletion of an account that is gone)."""
    if op.kind == "deleteAccount":
        return in_force is None and account.deleted_by is op
    if op.kind == "changePassword":
        changes = [change for _, change in account.passwords]
        return op in changes and in_force in changes and changes.index(in_force) >= changes.index(op)
    return False
