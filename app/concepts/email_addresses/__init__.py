from beanie import Document

from .addresses import MAX_LENGTH, Address, parse
from .concept import EmailAddresses
from .documents import EmailAddress

DOCUMENTS: list[type[Document]] = [EmailAddress]


def create() -> EmailAddresses:
    return EmailAddresses()


__all__ = ["DOCUMENTS", "MAX_LENGTH", "Address", "EmailAddress", "EmailAddresses", "create", "parse"]
