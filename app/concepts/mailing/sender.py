"""The background sender: in every server process, it claims the mails that are due,
one at a time and atomically, sends them, and marks them sent; it retries failures with
exponential backoff and gives a mail up once it is too old.

Several processes, on one or many hosts, each run one sender on the same outbox: a mail
is claimed by one of them at a time. A sender that dies between sending and marking
sent leaves the mail claimed until its lease ends; then another sends it again (the
same Message-ID): a mail may be sent twice, never lost.

Replies are sorted by what trying again can do: a 4xx answer, a server that cannot be
reached, a session refused (TLS, credentials, the sender address) wait and try again;
a 5xx answer to the recipient or the content (no such mailbox, refused as spam) gives
the mail up at once, as RFC 5321 means it: that server will not take it."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Mapping
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from pymongo.errors import PyMongoError

from . import outbox
from .messages import Composer
from .transports import DeliveryError, Session, Transport

_log = logging.getLogger("app.mail")

FIRST_RETRY = timedelta(seconds=15)
"""The wait after a mail's first failed attempt; it doubles with each attempt after."""
LONGEST_WAIT = timedelta(minutes=15)
"""The most a mail waits between two attempts."""
LEASE = timedelta(minutes=10)
"""How long a claim holds a mail: far longer than sending it takes (every step of SMTP
is bounded by its timeout), so only a sender that died leaves a mail to be claimed again."""
POLL = 5.0
"""Seconds between rounds when no mail was queued in this process meanwhile (for retries
and mails queued by other processes)."""


class MailObserver(Protocol):
    def mail_finished(self, outcome: str) -> None:
        """A mail was `sent`, `deferred` (it will be tried again) or `failed` (given up)."""

    def mails_waiting(self, count: int) -> None:
        """How many mails are waiting, counted at the end of a round."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Sender:
    def __init__(
        self,
        composer: Composer,
        transport: Transport,
        *,
        give_up_after: timedelta,
        clock: Callable[[], datetime] = _utc_now,
        wake: asyncio.Event | None = None,
        jitter: Callable[[], float] = random.random,
        observer: MailObserver | None = None,
    ) -> None:
        self.composer = composer
        self.transport = transport
        self.give_up_after = give_up_after
        self.clock = clock
        self.wake = wake or asyncio.Event()
        self.jitter = jitter
        self.observer = observer
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    async def run_once(self) -> int:
        """One round: every mail due is claimed, sent and marked, until none is due or the
        server cannot be reached. Returns how many mails it handled."""
        handled = 0
        async with self.transport.session() as session:
            while not self._stopping and (mail := await outbox.claim(self.clock(), LEASE)) is not None:
                handled += 1
                if not await self._deliver(session, mail):
                    break  # the server cannot be reached: the others wait for their turn
        if self.observer is not None:
            self.observer.mails_waiting(await outbox.unfinished())
        return handled

    async def _deliver(self, session: Session, mail: Mapping[str, Any]) -> bool:
        """Sends one held mail and marks it; False if the server could not be reached. A
        mail queued unsent (to no one) is deleted, unread: not sent, logged or counted."""
        if mail["to"] is None:
            await outbox.drop(mail)
            return True
        now = self.clock()
        if now >= mail["created"] + self.give_up_after:
            await self._give_up(mail, f"not sent within {self.give_up_after}")
            return True
        message = self.composer.compose(mail)
        if message is None:
            await self._give_up(mail, "its link's token cannot be opened: JWT_SECRET changed since it was queued")
            return True
        try:
            await session.send(message)
        except DeliveryError as failure:
            if failure.permanent:
                await self._give_up(mail, str(failure))
            else:
                await self._retry(mail, str(failure))
            return not failure.unreachable
        if await outbox.finish(mail, "sent", self.clock()):
            _log.info("Mail %s (%s) sent to %s", mail["_id"], mail["template"], mail["to"])
        else:
            _log.warning("Mail %s was claimed again while it was being sent: it may arrive twice", mail["_id"])
        self._observe("sent")
        return True

    async def _retry(self, mail: Mapping[str, Any], reason: str) -> None:
        wait = min(FIRST_RETRY * 2 ** (mail["attempts"] - 1), LONGEST_WAIT) * (0.8 + 0.4 * self.jitter())
        due = self.clock() + wait
        if due >= mail["created"] + self.give_up_after:
            await self._give_up(mail, reason)
            return
        await outbox.defer(mail, due, reason)
        _log.warning(
            "Mail %s (%s) to %s not sent (attempt %d: %s); trying again in %d s",
            mail["_id"],
            mail["template"],
            mail["to"],
            mail["attempts"],
            reason,
            wait.total_seconds(),
        )
        self._observe("deferred")

    async def _give_up(self, mail: Mapping[str, Any], reason: str) -> None:
        await outbox.finish(mail, "failed", self.clock(), reason)
        _log.error(
            "Mail %s (%s) to %s given up after %d attempts: %s",
            mail["_id"],
            mail["template"],
            mail["to"],
            mail["attempts"],
            reason,
        )
        self._observe("failed")

    def _observe(self, outcome: str) -> None:
        if self.observer is not None:
            self.observer.mail_finished(outcome)

    # -- the loop the app runs ----------------------------------------------------------------

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self.run(), name="mail sender")

    async def stop(self) -> None:
        """Stops the loop, even mid-mail (a mail being sent is sent again once its lease ends).
        The loop also checks a flag: a cancellation that arrives during a database call can be
        lost (pymongo's async driver finishes the call and returns normally)."""
        task, self._task = self._task, None
        if task is not None:
            self._stopping = True
            self.wake.set()
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    async def run(self) -> None:
        """Rounds, forever: at once when this process queues a mail, else every POLL seconds.
        A failing database is logged once, then retried each round."""
        failing = False
        while not self._stopping:
            self.wake.clear()
            try:
                await self.run_once()
            except PyMongoError as failure:
                if not failing:
                    _log.warning("Mail sender: the database failed (%s); trying again", type(failure).__name__)
                failing = True
            except Exception:
                _log.exception("Mail sender: a round failed; trying again")
            else:
                if failing:
                    _log.info("Mail sender: the database answers again")
                failing = False
            with suppress(TimeoutError):
                async with asyncio.timeout(POLL):
                    await self.wake.wait()
