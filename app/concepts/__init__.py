"""The application's concepts, one folder each: documents (state) and the concept class."""

from beanie import Document

from .requesting import Requesting, RequestRecord
from .sessioning import Session, Sessioning
from .throttling import Attempts, Throttling
from .user_authentication import User, UserAuthentication

DOCUMENTS: list[type[Document]] = [User, Session, RequestRecord, Attempts]
"""Every concept's Beanie documents, for init_beanie."""

__all__ = ["DOCUMENTS", "Requesting", "Sessioning", "Throttling", "UserAuthentication"]
