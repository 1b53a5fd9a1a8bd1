from .concept import UserAuthentication
from .documents import User
from .passwords import PasswordHasher

__all__ = ["PasswordHasher", "User", "UserAuthentication"]
