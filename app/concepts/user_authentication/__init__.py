from datetime import timedelta

from beanie import Document
from bson import ObjectId

from app.database.cache import Cache
from app.settings import SettingsView

from .concept import PAGE_SIZES, PASSWORD_RULE, USERNAME_RULE, UserAuthentication, UserListRow
from .documents import User
from .passwords import PasswordHasher

DOCUMENTS: list[type[Document]] = [User]


class UserAuthenticationSettings(SettingsView):
    argon2_memory_kib: int
    argon2_time_cost: int
    argon2_parallelism: int
    requesting_timeout: float
    session_cache: bool
    session_cache_size: int


def create(settings: UserAuthenticationSettings) -> UserAuthentication:
    """A change of the credentials holds them for as long as a request may take: a flow
    that has not completed its change by then has already been answered a timeout."""
    return UserAuthentication(
        PasswordHasher(
            memory_kib=settings.argon2_memory_kib,
            time_cost=settings.argon2_time_cost,
            parallelism=settings.argon2_parallelism,
        ),
        lease=timedelta(seconds=settings.requesting_timeout),
        usernames=Cache[ObjectId, str](User.Settings.name, settings.session_cache_size)
        if settings.session_cache
        else None,
    )


__all__ = [
    "DOCUMENTS",
    "PAGE_SIZES",
    "PASSWORD_RULE",
    "USERNAME_RULE",
    "PasswordHasher",
    "User",
    "UserAuthentication",
    "UserListRow",
    "create",
]
