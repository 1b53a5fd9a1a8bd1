"""UserAuthentication's state: a set of users with a username and a password hash."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from beanie import Document, Indexed, PydanticObjectId
from pydantic import BaseModel, Field


class User(Document):
    """A user. `key` is the case-folded username; its unique index enforces uniqueness."""

    username: str
    key: Annotated[str, Indexed(unique=True)]
    password_hash: str
    created: datetime
    updated: datetime

    class Settings:
        name = "UserAuthentication.users"


class UserName(BaseModel):
    """The public part of a user: what queries return (never the hash)."""

    id: PydanticObjectId = Field(alias="_id")
    username: str
