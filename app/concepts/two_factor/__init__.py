from pathlib import Path

from beanie import Document
from pydantic import SecretStr

from app.keys import jwt_secrets
from app.sealing import Sealer, derive_key
from app.settings import SettingsView

from .concept import RECOVERY, RECOVERY_CODES, TOTP, TwoFactor
from .documents import Factor

DOCUMENTS: list[type[Document]] = [Factor]


class TwoFactorSettings(SettingsView):
    jwt_secret: SecretStr | None
    jwt_secret_previous: SecretStr | None
    data_dir: Path
    webauthn_rp_name: str


def create(settings: TwoFactorSettings) -> TwoFactor:
    """Secrets sealed, and recovery codes hashed, under keys of their own derived from
    JWT_SECRET (and JWT_SECRET_PREVIOUS, so rotating it keeps them); the issuer the
    authenticator app shows is the service's name, WEBAUTHN_RP_NAME."""
    keys = jwt_secrets(settings)
    return TwoFactor(
        Sealer.for_purpose(keys, "totp secrets"),
        [derive_key(key, "recovery codes") for key in keys],
        settings.webauthn_rp_name,
    )


__all__ = ["DOCUMENTS", "RECOVERY", "RECOVERY_CODES", "TOTP", "Factor", "TwoFactor", "create"]
