"""What the clients were told: accounts, their sessions and the operations on them, and
the verdict on each operation once it has been checked after a crash.

Each account belongs to one client, which sends its operations one at a time, so what
an account should look like is known exactly from the operations that were
acknowledged. An operation that got no answer (a refused connection, a
SERVICE_UNAVAILABLE, a timeout) may or may not have happened: the checker finds out
which, and then the account follows what it found.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["register", "login", "logout", "revoke", "revokeAll", "changePassword", "deleteAccount"]
KINDS: tuple[Kind, ...] = ("register", "login", "logout", "revoke", "revokeAll", "changePassword", "deleteAccount")
DESCRIPTIONS: dict[Kind, str] = {
    "register": "the account exists, its session works",
    "login": "its session works",
    "logout": "the session stays ended",
    "revoke": "the revoked session stays ended",
    "revokeAll": "logoutEverywhere: the other sessions stay ended",
    "changePassword": "the new password holds, the old one fails, the other sessions stay ended",
    "deleteAccount": "the account stays deleted, all its sessions ended",
}

Verdict = Literal["verified", "lost", "half-done"]
_WORST: dict[Verdict | None, int] = {None: 0, "verified": 1, "half-done": 2, "lost": 3}


@dataclass(eq=False)
class Op:
    """One operation a client sent, and what became of it."""

    kind: Kind
    answered: bool  # acknowledged; False: no answer, it may or may not have happened
    verdict: Verdict | None = None

    def judge(self, verdict: Verdict) -> None:
        """Record a finding; the worst one stands (lost over half-done over verified)."""
        if _WORST[verdict] > _WORST[self.verdict]:
            self.verdict = verdict


@dataclass(eq=False)
class Session:
    token: str
    made_by: Op | None
    alive: bool | None = True  # what it should be; None: not known (an unanswered op ended it or not)
    ended_by: Op | None = None


@dataclass(eq=False)
class Account:
    """One client's account as the answers it got describe it."""

    username: str
    passwords: list[tuple[str, Op]]  # each password put in force, oldest first, with the op that did it
    sessions: list[Session] = field(default_factory=list)
    deleted_by: Op | None = None  # an acknowledged deleteAccount
    pending_password: tuple[str, Op] | None = None  # an unanswered changePassword's new password
    pending_deletion: Op | None = None  # an unanswered deleteAccount
    registered: bool = True  # False: its registration was not answered (and not yet checked)
    gone: bool = False  # deleted, or found missing: no more operations on it

    @property
    def password(self) -> str:
        return self.passwords[-1][0]

    @property
    def settled(self) -> bool:
        """No unanswered operation waits to be found out: the client may use it."""
        return (
            self.registered
            and self.pending_password is None
            and self.pending_deletion is None
            and not any(session.alive is None for session in self.sessions)
        )

    def live(self) -> list[Session]:
        return [session for session in self.sessions if session.alive]


@dataclass
class Ledger:
    """Every operation sent, by kind."""

    ops: list[Op] = field(default_factory=list)

    def add(self, kind: Kind, answered: bool) -> Op:
        op = Op(kind, answered)
        self.ops.append(op)
        return op

    def table(self) -> list[tuple[Kind, int, int, int, int, int]]:
        """Per kind: acknowledged, verified, lost, half-done (answered or not), unanswered."""
        rows = []
        for kind in KINDS:
            ops = [op for op in self.ops if op.kind == kind]
            answered = [op for op in ops if op.answered]
            verdicts = Counter(op.verdict for op in answered)
            half_done = sum(op.verdict == "half-done" for op in ops)
            rows.append(
                (kind, len(answered), verdicts["verified"], verdicts["lost"], half_done, len(ops) - len(answered))
            )
        return rows

    def unchecked(self) -> int:
        return sum(op.answered and op.verdict is None for op in self.ops)
