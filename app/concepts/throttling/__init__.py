from datetime import timedelta

from beanie import Document

from app.settings import SettingsView

from .concept import Limit, Throttling
from .documents import Count

DOCUMENTS: list[type[Document]] = [Count]


class ThrottlingSettings(SettingsView):
    throttle_window: int
    throttle_username_failures: int
    throttle_address_failures: int
    throttle_address_registrations: int
    throttle_email_resets: int
    throttle_address_resets: int


def limits(settings: ThrottlingSettings) -> dict[str, Limit]:
    """What the syncs throttle (see syncs/throttling.py), by the THROTTLE_* settings."""
    window = timedelta(seconds=settings.throttle_window)
    return {
        "login": Limit(settings.throttle_username_failures, window, per_source=settings.throttle_address_failures),
        "password": Limit(settings.throttle_username_failures, window),
        # The codes of verifySecondFactor, per user: a password sign-in does not clear it.
        "second-factor": Limit(settings.throttle_username_failures, window),
        "registration": Limit(settings.throttle_address_registrations, window),
        "reset": Limit(settings.throttle_email_resets, window, per_source=settings.throttle_address_resets),
        # The verification links setEmail mails to one address (another inbox flooded otherwise).
        "verification": Limit(settings.throttle_email_resets, window),
    }


def create(settings: ThrottlingSettings) -> Throttling:
    return Throttling(limits(settings))


__all__ = ["DOCUMENTS", "Count", "Limit", "Throttling", "create", "limits"]
