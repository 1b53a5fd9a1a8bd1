from beanie import Document

from app.settings import SettingsView

from .ceremonies import CEREMONY_TIME, MAX_CREDENTIAL_JSON, RelyingParty
from .concept import Passkeys
from .documents import Credential, UserHandle

DOCUMENTS: list[type[Document]] = [Credential, UserHandle]


class PasskeysSettings(SettingsView):
    webauthn_rp_id: str
    webauthn_rp_name: str
    webauthn_accepted_origins: list[str]


def relying_party(settings: PasskeysSettings) -> RelyingParty:
    return RelyingParty(settings.webauthn_rp_id, settings.webauthn_rp_name, tuple(settings.webauthn_accepted_origins))


def create(settings: PasskeysSettings) -> Passkeys:
    return Passkeys(relying_party(settings))


__all__ = [
    "CEREMONY_TIME",
    "DOCUMENTS",
    "MAX_CREDENTIAL_JSON",
    "Credential",
    "Passkeys",
    "RelyingParty",
    "UserHandle",
    "create",
    "relying_party",
]
