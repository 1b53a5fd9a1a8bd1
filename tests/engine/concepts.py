"""Small in-memory concepts for the engine tests.

Each one keeps its state in plain dicts and lists, so a test can look at what
happened. `Journal` is shared by tests that care about the order of effects: any
concept given the same journal appends `"<Concept>.<action> <details>"` to it.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterable
from typing import Any, TypedDict

from app.engine import Engine, Secret, Sync


class RequestOut(TypedDict):
    request: str


class Requesting:
    """A stand-in for the API's Requesting concept: requests, and their first response."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.requests: dict[str, dict[str, Any]] = {}
        self.responses: dict[str, dict[str, Any]] = {}
        self.ignored: list[tuple[str, dict[str, Any]]] = []
        self._ids = itertools.count(1)

    async def request(self, path: str, **inputs: Any) -> RequestOut:
        """Start one API call."""
        if self.delay:
            await asyncio.sleep(self.delay)
        request = f"req-{next(self._ids)}"
        self.requests[request] = {"path": path, **inputs}
        return {"request": request}

    async def respond(self, request: str, **response: Any) -> RequestOut:
        """Record the response to a request; the first one wins."""
        if request in self.responses:
            self.ignored.append((request, response))
        else:
            self.responses[request] = response
        return {"request": request}

    async def _awaitResponse(self, request: str) -> list[dict[str, Any]]:
        return [{"response": self.responses[request]}] if request in self.responses else []


class ButtonOut(TypedDict):
    button: str


class Button:
    def __init__(self, journal: list[str] | None = None) -> None:
        self.journal = journal if journal is not None else []
        self.clicks: list[str] = []

    async def clicked(self, button: str, kind: str = "plain") -> ButtonOut:
        self.clicks.append(button)
        self.journal.append(f"Button.clicked {button}")
        return {"button": button}


class CountOut(TypedDict):
    count: int


class CountError(TypedDict):
    error: str


class Counter:
    def __init__(
        self, journal: list[str] | None = None, delay: float = 0.0, barrier: asyncio.Barrier | None = None
    ) -> None:
        self.journal = journal if journal is not None else []
        self.delay = delay
        self.barrier = barrier
        self.counts: dict[str, int] = {}
        self.passwords: list[str] = []

    async def increment(self, counter: str = "main") -> CountOut:
        """Add one; with a barrier, first wait until that many increments are under way."""
        if self.barrier is not None:
            await asyncio.wait_for(self.barrier.wait(), timeout=2)
        if self.delay:
            await asyncio.sleep(self.delay)
        self.counts[counter] = self.counts.get(counter, 0) + 1
        self.journal.append(f"Counter.increment {counter}")
        return {"count": self.counts[counter]}

    async def unlock(self, counter: str, password: Secret) -> CountOut | CountError:
        """Increment, if the password is right (a secret parameter)."""
        self.passwords.append(password)
        if password != "open sesame":
            return {"error": "wrong password"}
        return await Counter.increment(self, counter)

    async def explode(self, counter: str) -> CountOut:
        raise RuntimeError(f"counter {counter} exploded")

    def _getCount(self, counter: str) -> list[dict[str, Any]]:
        return [{"count": self.counts[counter]}] if counter in self.counts else []


class NotificationOut(TypedDict):
    notification: int


class Notification:
    def __init__(self, journal: list[str] | None = None) -> None:
        self.journal = journal if journal is not None else []
        self.sent: list[dict[str, Any]] = []

    async def notify(self, message: str, **details: Any) -> NotificationOut:
        self.sent.append({"message": message, **details})
        self.journal.append(f"Notification.notify {message}")
        return {"notification": len(self.sent)}


class PostOut(TypedDict):
    post: str


class Post:
    def __init__(self, journal: list[str] | None = None) -> None:
        self.journal = journal if journal is not None else []
        self.posts: dict[str, str] = {}

    async def create(self, post: str, author: str) -> PostOut:
        self.posts[post] = author
        return {"post": post}

    async def delete(self, post: str) -> PostOut:
        self.posts.pop(post, None)
        self.journal.append(f"Post.delete {post}")
        return {"post": post}

    async def _getAuthor(self, post: str) -> list[dict[str, Any]]:
        return [{"author": self.posts[post]}] if post in self.posts else []


class CommentOut(TypedDict):
    comment: str


class Comment:
    def __init__(self, journal: list[str] | None = None) -> None:
        self.journal = journal if journal is not None else []
        self.comments: dict[str, dict[str, str]] = {}

    async def create(self, comment: str, post: str, author: str = "anon") -> CommentOut:
        self.comments[comment] = {"post": post, "author": author}
        return {"comment": comment}

    async def delete(self, comment: str) -> CommentOut:
        self.comments.pop(comment, None)
        self.journal.append(f"Comment.delete {comment}")
        return {"comment": comment}

    async def _byPost(self, post: str) -> list[dict[str, Any]]:
        await asyncio.sleep(0)
        return [
            {"comment": c, "author": fields["author"]}
            for c, fields in sorted(self.comments.items())
            if fields["post"] == post
        ]


class StepOut(TypedDict):
    step: str


class Steps:
    """Actions that only note that they ran, in order, in a journal."""

    def __init__(self, journal: list[str] | None = None) -> None:
        self.journal = journal if journal is not None else []

    async def first(self, tag: str) -> StepOut:
        self.journal.append(f"Steps.first {tag}")
        return {"step": "first"}

    async def second(self, tag: str) -> StepOut:
        self.journal.append(f"Steps.second {tag}")
        return {"step": "second"}

    async def nested(self, tag: str) -> StepOut:
        self.journal.append(f"Steps.nested {tag}")
        return {"step": "nested"}


class NotRegistered:
    """A concept that no engine in the tests registers."""

    async def act(self, x: str) -> StepOut:
        return {"step": x}

    async def _look(self, x: str) -> list[dict[str, Any]]:
        return []


def engine_with(*concepts: object, syncs: Iterable[Sync] = (), **options: Any) -> Engine:
    """A fresh engine with these concept instances and syncs registered."""
    engine = Engine(**options)
    engine.register(*concepts)
    engine.add_syncs(syncs)
    return engine
