from datetime import timedelta

from beanie import Document

from app.keys import jwt_secrets
from app.settings import Settings

from .concept import Sessioning, SessionRow
from .documents import Session
from .tokens import TokenCodec

DOCUMENTS: list[type[Document]] = [Session]


def signing_keys(settings: Settings) -> list[str]:
    """The current key first, then the previous one (still accepted, never used to sign)."""
    return jwt_secrets(settings)


def create(settings: Settings) -> Sessioning:
    return Sessioning(
        TokenCodec(signing_keys(settings), settings.jwt_issuer),
        timedelta(seconds=settings.session_ttl),
        per_user=settings.sessions_per_user,
    )


__all__ = ["DOCUMENTS", "Session", "SessionRow", "Sessioning", "TokenCodec", "create", "signing_keys"]
