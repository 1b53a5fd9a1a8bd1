"""Between an app's mail sender and its observer (the app's metrics): what the sender
finished, and a way for a test to wait for it (instead of sleeping)."""

from __future__ import annotations

import asyncio
from typing import Protocol

from app.concepts.mailing import MailObserver, Sender
from app.server.services import Services


class Serving(Protocol):
    @property
    def services(self) -> Services: ...


class Watch:
    """Between an app's sender and its observer (the app's metrics): what it finished, and a
    way to wait for it."""

    def __init__(self, *apps: Serving) -> None:
        self.finished: list[str] = []
        self.changed = asyncio.Event()
        self.inner: list[MailObserver | None] = []
        for app in apps:
            sender = app.services.sender
            assert isinstance(sender, Sender)
            self.inner.append(sender.observer)
            sender.observer = self.forwarding(sender.observer)

    def forwarding(self, inner: MailObserver | None) -> MailObserver:
        watch = self

        class Forward:
            def mail_finished(self, outcome: str) -> None:
                watch.finished.append(outcome)
                watch.changed.set()
                if inner is not None:
                    inner.mail_finished(outcome)

            def mails_waiting(self, count: int) -> None:
                if inner is not None:
                    inner.mails_waiting(count)

        return Forward()

    async def sent(self, count: int) -> None:
        """Once `count` mails were sent (60 s: a guard against a hang, not a timing rule)."""
        await self.finishing("sent", count)

    async def finishing(self, outcome: str, count: int = 1) -> None:
        """Once the senders finished `count` attempts with `outcome` (sent, deferred, failed)."""
        async with asyncio.timeout(60):
            while self.finished.count(outcome) < count:
                self.changed.clear()
                await self.changed.wait()
