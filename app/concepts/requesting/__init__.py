from beanie import Document

from app.settings import Settings

from .concept import Requesting, SecondResponse
from .documents import RequestRecord

DOCUMENTS: list[type[Document]] = [RequestRecord]


def create(settings: Settings) -> Requesting:
    return Requesting(strict=settings.strict_responses_enabled)


__all__ = ["DOCUMENTS", "RequestRecord", "Requesting", "SecondResponse", "create"]
