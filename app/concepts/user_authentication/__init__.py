from beanie import Document

from app.settings import Settings

from .concept import UserAuthentication
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


__all__ = ["DOCUMENTS", "PasswordHasher", "User", "UserAuthentication", "create"]
