"""The embedded database's credentials: a user and a random password, generated into
DATA_DIR on the first start (0600), with which the app connects (SCRAM-SHA-256)."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self
from urllib.parse import quote

USERNAME = "concept-auth"


@dataclass(frozen=True, slots=True)
class Credentials:
    username: str
    password: str = field(repr=False)

    @classmethod
    def generate(cls) -> Self:
        return cls(USERNAME, secrets.token_urlsafe(32))

    @classmethod
    def read(cls, path: Path) -> Self | None:
        """The credentials stored at `path`; None if there are none (a first start, or a
        data directory from before credentials existed)."""
        try:
            stored = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        return cls(str(stored["username"]), str(stored["password"]))

    def write(self, path: Path) -> None:
        """Store them at `path`, readable by this user only, replacing what was there at once."""
        temporary = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "w") as file:
                json.dump({"username": self.username, "password": self.password}, file)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()

    def url(self, host: str, port: int) -> str:
        """A MongoDB URL that signs in with them; it holds the password: never log it."""
        user, password = quote(self.username, safe=""), quote(self.password, safe="")
        return f"mongodb://{user}:{password}@{host}:{port}/?authSource=admin&retryWrites=false"
