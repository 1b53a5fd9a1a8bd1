"""The mixed workload: each client registers accounts and, on its own settled accounts,
logs in, logs out, revokes one session or all the others, changes the password and
deletes the account, one operation at a time, until the round ends or an operation
gets no answer (the process it talks to was killed): then it stops for the round."""

from __future__ import annotations

import asyncio
import random
import secrets
from collections.abc import Callable, Coroutine
from typing import Any

import httpx

from .client import AUTHENTICATE, CHANGE_PASSWORD, CURRENT, DELETE_ACCOUNT, LOGOUT, REGISTER, REVOKE, REVOKE_ALL, call
from .model import Account, Kind, Ledger, Op, Session

MAX_SESSIONS = 6
"""Live sessions an account is given at most (far below the server's per-user cap)."""
WEIGHTS: dict[Kind, float] = {
    "register": 3,
    "login": 3,
    "logout": 2,
    "revoke": 1,
    "revokeAll": 1,
    "changePassword": 2,
    "deleteAccount": 1,
}


def new_password() -> str:
    return "pw-" + secrets.token_urlsafe(9)


class Client:
    """One client: its accounts and its own sequence of operations."""

    def __init__(self, number: int, ledger: Ledger, rng: random.Random) -> None:
        self.number = number
        self.ledger = ledger
        self.rng = rng
        self.accounts: list[Account] = []
        self.refused = 0
        self._names = 0
        self.touched: set[Account] = set()

    async def run(self, url: str, stop: asyncio.Event) -> None:
        async with httpx.AsyncClient(base_url=url, timeout=30.0) as http:
            while not stop.is_set():
                if not await self.step(http):
                    return

    def choices(self) -> dict[Kind, Callable[[httpx.AsyncClient, Account], Coroutine[Any, Any, bool]]]:
        return {
            "login": self.login,
            "logout": self.logout,
            "revoke": self.revoke,
            "revokeAll": self.revoke_all,
            "changePassword": self.change_password,
            "deleteAccount": self.delete_account,
        }

    def eligible(self, kind: Kind, account: Account) -> bool:
        live = len(account.live())
        if kind == "login":
            return live < MAX_SESSIONS
        if kind in ("revoke", "revokeAll"):
            return live >= 2
        return live >= 1

    async def step(self, http: httpx.AsyncClient) -> bool:
        """One operation; False once one got no answer."""
        usable = [account for account in self.accounts if account.settled and not account.gone]
        options: list[tuple[Kind, Account | None]] = [("register", None)]
        for kind in self.choices():
            candidates = [account for account in usable if self.eligible(kind, account)]
            if candidates:
                options.append((kind, self.rng.choice(candidates)))
        kind, account = self.rng.choices(options, weights=[WEIGHTS[option[0]] for option in options])[0]
        if account is None:
            return await self.register(http)
        self.touched.add(account)
        return await self.choices()[kind](http, account)

    def record(self, kind: Kind, answer: str) -> Op | None:
        if answer == "refused":
            self.refused += 1  # the server disagrees with what it told us: the next check says why
            return None
        return self.ledger.add(kind, answer == "ok")

    async def register(self, http: httpx.AsyncClient) -> bool:
        self._names += 1
        username, password = f"c{self.number}n{self._names}x{secrets.token_hex(3)}", new_password()
        answer, data = await call(http, REGISTER, {"u": username, "p": password})
        op = self.record("register", answer)
        if op is None:
            return True
        account = Account(username, [(password, op)], registered=op.answered)
        if op.answered:
            account.sessions.append(Session(data["session"], op))
        self.accounts.append(account)
        self.touched.add(account)
        return op.answered

    async def login(self, http: httpx.AsyncClient, account: Account) -> bool:
        answer, data = await call(http, AUTHENTICATE, {"u": account.username, "p": account.password})
        op = self.record("login", answer)
        if op is not None and op.answered:
            account.sessions.append(Session(data["session"], op))
        return op is None or op.answered

    def ended(self, op: Op | None, sessions: list[Session]) -> None:
        """`op` ended these sessions (acknowledged), or may have (no answer)."""
        if op is None:
            return
        for session in sessions:
            session.alive = False if op.answered else None
            session.ended_by = op

    async def logout(self, http: httpx.AsyncClient, account: Account) -> bool:
        session = self.rng.choice(account.live())
        answer, _ = await call(http, LOGOUT, token=session.token)
        op = self.record("logout", answer)
        self.ended(op, [session])
        return op is None or op.answered

    async def revoke(self, http: httpx.AsyncClient, account: Account) -> bool:
        target, actor = self.rng.sample(account.live(), 2)
        answer, data = await call(http, CURRENT, token=target.token)
        if answer != "ok":
            return answer == "refused"  # a read changes nothing: no operation was made
        handle = next(row["id"] for row in data["value"] if row["current"])
        answer, _ = await call(http, REVOKE, {"id": handle}, actor.token)
        op = self.record("revoke", answer)
        self.ended(op, [target])
        return op is None or op.answered

    async def revoke_all(self, http: httpx.AsyncClient, account: Account) -> bool:
        actor = self.rng.choice(account.live())
        answer, _ = await call(http, REVOKE_ALL, token=actor.token)
        op = self.record("revokeAll", answer)
        self.ended(op, [session for session in account.live() if session is not actor])
        return op is None or op.answered

    async def change_password(self, http: httpx.AsyncClient, account: Account) -> bool:
        actor, password = self.rng.choice(account.live()), new_password()
        answer, _ = await call(http, CHANGE_PASSWORD, {"o": account.password, "n": password}, actor.token)
        op = self.record("changePassword", answer)
        if op is None:
            return True
        others = [session for session in account.sessions if session is not actor and session.alive is not False]
        self.ended(op, others)
        if op.answered:
            account.passwords.append((password, op))
        else:
            account.pending_password = (password, op)
        return op.answered

    async def delete_account(self, http: httpx.AsyncClient, account: Account) -> bool:
        actor = self.rng.choice(account.live())
        answer, _ = await call(http, DELETE_ACCOUNT, token=actor.token)
        op = self.record("deleteAccount", answer)
        if op is None:
            return True
        self.ended(op, [session for session in account.sessions if session.alive is not False])
        if op.answered:
            account.deleted_by, account.gone = op, True
        else:
            account.pending_deletion = op
        return op.answered
