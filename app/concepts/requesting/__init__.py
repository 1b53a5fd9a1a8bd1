from beanie import Document

from app.settings import SettingsView

from .concept import Requesting, SecondResponse
from .documents import RequestRecord

DOCUMENTS: list[type[Document]] = [RequestRecord]


class RequestingSettings(SettingsView):
    strict_responses_enabled: bool


def create(settings: RequestingSettings) -> Requesting:
    return Requesting(strict=settings.strict_responses_enabled)


__all__ = ["DOCUMENTS", "RequestRecord", "Requesting", "SecondResponse", "create"]
