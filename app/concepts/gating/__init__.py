from beanie import Document

from app.settings import Settings

from .concept import Gating

DOCUMENTS: list[type[Document]] = []


def create(settings: Settings) -> Gating:
    return Gating()


__all__ = ["DOCUMENTS", "Gating", "create"]
