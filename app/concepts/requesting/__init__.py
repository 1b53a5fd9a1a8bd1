from beanie import Document

from app.settings import Settings

from .concept import Requesting
from .documents import RequestRecord

DOCUMENTS: list[type[Document]] = [RequestRecord]


def create(settings: Settings) -> Requesting:
    return Requesting()


__all__ = ["DOCUMENTS", "RequestRecord", "Requesting", "create"]
