from beanie import Document

from .concept import Gating

DOCUMENTS: list[type[Document]] = []


def create() -> Gating:
    return Gating()


__all__ = ["DOCUMENTS", "Gating", "create"]
