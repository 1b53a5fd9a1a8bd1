from beanie import Document

from app.settings import Settings

from .concept import PAGE_SIZES, UserAuthentication, UserListRow
from .documents import User
from .passwords import PasswordHasher

DOCUMENTS: list[type[Document]] = [User]


def create(settings: Settings) -> UserAuthentication:
    return UserAuthentication(
        PasswordHasher(
            memory_kib=settings.argon2_memory_kib,
            time_cost=settings.argon2_time_cost,
            parallelism=settings.argon2_parallelism,
        )
    )


__all__ = ["DOCUMENTS", "PAGE_SIZES", "PasswordHasher", "User", "UserAuthentication", "UserListRow", "create"]
