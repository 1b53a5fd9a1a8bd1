from datetime import timedelta
from pathlib import Path

from beanie import Document
from pydantic import SecretStr

from app.database.cache import Cache
from app.keys import jwt_secrets
from app.settings import SettingsView

from .concept import Cached, Sessioning, SessionRow
from .documents import Session
from .tokens import TokenCodec

DOCUMENTS: list[type[Document]] = [Session]


class SessioningSettings(SettingsView):
    jwt_secret: SecretStr | None
    jwt_secret_previous: SecretStr | None
    data_dir: Path
    jwt_issuer: str
    session_ttl: int
    sessions_per_user: int
    session_cache: bool
    session_cache_size: int


def signing_keys(settings: SessioningSettings) -> list[str]:
    """The current key first, then the previous one (still accepted, never used to sign)."""
    return jwt_secrets(settings)


def create(settings: SessioningSettings) -> Sessioning:
    size = settings.session_cache_size if settings.session_cache else 0
    return Sessioning(
        TokenCodec(signing_keys(settings), settings.jwt_issuer, remember=size),
        timedelta(seconds=settings.session_ttl),
        per_user=settings.sessions_per_user,
        cache=Cache[str, Cached](Session.Settings.name, size) if size else None,
    )


__all__ = ["DOCUMENTS", "Session", "SessionRow", "Sessioning", "TokenCodec", "create", "signing_keys"]
