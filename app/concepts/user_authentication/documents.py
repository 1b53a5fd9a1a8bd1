"""UserAuthentication's state: a set of users with a username and a password hash."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from beanie import Document, Indexed, PydanticObjectId
from pydantic import BaseModel, Field


class User(Document):
    """A user. `key` is the case-folded username; its unique index enforces uniqueness.
    `version` counts the changes of the credentials: a change is a compare-and-swap on it,
    and a session made with an older version is stale."""

    username: str
    key: Annotated[str, Indexed(unique=True)]
    password_hash: str
    normalized: bool = False
    """Whether `password_hash` is of the password's NFKC form (every hash made now is);
    False for users stored before, whose hash is of the password as they typed it,
    replaced at their next login."""
    version: int = 0
    created: datetime
    updated: datetime

    class Settings:
        name = "UserAuthentication.users"


class UserName(BaseModel):
    """The public part of a user: what queries return (never the hash)."""

    id: PydanticObjectId = Field(alias="_id")
    username: str
