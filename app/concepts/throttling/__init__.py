from datetime import timedelta

from beanie import Document

from app.settings import Settings

from .concept import Limit, Throttling
from .documents import Count

DOCUMENTS: list[type[Document]] = [Count]


def limits(settings: Settings) -> dict[str, Limit]:
    """What the syncs throttle (see syncs/throttling.py), by the THROTTLE_* settings."""
    window = timedelta(seconds=settings.throttle_window)
    return {
        "login": Limit(settings.throttle_username_failures, window, per_source=settings.throttle_address_failures),
        "password": Limit(settings.throttle_username_failures, window),
        "registration": Limit(settings.throttle_address_registrations, window),
    }


def create(settings: Settings) -> Throttling:
    return Throttling(limits(settings))


__all__ = ["DOCUMENTS", "Count", "Limit", "Throttling", "create", "limits"]
