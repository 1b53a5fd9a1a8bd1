from beanie import Document

from app.settings import Settings

from .ceremonies import CEREMONY_TIME, RelyingParty
from .concept import Passkeys
from .documents import Credential, UserHandle

DOCUMENTS: list[type[Document]] = [Credential, UserHandle]


def relying_party(settings: Settings) -> RelyingParty:
    return RelyingParty(settings.webauthn_rp_id, settings.webauthn_rp_name, tuple(settings.webauthn_accepted_origins))


def create(settings: Settings) -> Passkeys:
    return Passkeys(relying_party(settings))


__all__ = [
    "CEREMONY_TIME",
    "DOCUMENTS",
    "Credential",
    "Passkeys",
    "RelyingParty",
    "UserHandle",
    "create",
    "relying_party",
]
