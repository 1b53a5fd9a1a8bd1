"""UserAuthentication's state: a set of users with a username and a password hash."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from beanie import Document, Indexed, PydanticObjectId
from pydantic import BaseModel, Field


class Lease(BaseModel):
    """A change of the credentials under way, holding them until `until`: a new
    password's `hash`, or the account's removal (`delete`)."""

    id: str
    until: datetime
    hash: str | None = None
    delete: bool = False


class User(Document):
    """A user. `key` is the case-folded username; its unique index enforces uniqueness.
    `version` counts the changes of the credentials: a change is staged on it (`lease`),
    and a session made with an older version is stale. `last_change` names the last
    change completed, so completing it again is known to be done."""

    username: str
    key: Annotated[str, Indexed(unique=True)]
    password_hash: str
    normalized: bool = False
    """Whether `password_hash` is of the password's NFKC form (every hash made now is);
    False for users stored before, whose hash is of the password as they typed it,
    replaced at their next login."""
    version: int = 0
    lease: Lease | None = None
    last_change: str | None = None
    created: datetime
    updated: datetime

    class Settings:
        name = "UserAuthentication.users"
        keep_nulls = False  # no change staged is no `lease` at all


class UserName(BaseModel):
    """The public part of a user: what queries return (never the hash)."""

    id: PydanticObjectId = Field(alias="_id")
    username: str
