"""The key that signs session tokens: JWT_SECRET, or a development key generated once
into DATA_DIR (never for production, which requires JWT_SECRET)."""

from __future__ import annotations

import logging
import os
import secrets
import stat
from pathlib import Path
from typing import Protocol

from pydantic import SecretStr

from app.settings import JWT_SECRET_MIN_BYTES

logger = logging.getLogger(__name__)

JWT_SECRET_FILE = "jwt_secret"
"""The file in DATA_DIR holding the generated secret when JWT_SECRET is not set."""

_WARNED = "CONCEPT_AUTH_DEVELOPMENT_KEY_WARNED"
"""Set once the development key was warned about, so the workers do not repeat it."""


class KeySettings(Protocol):
    """The settings the keys are made of."""

    @property
    def jwt_secret(self) -> SecretStr | None: ...

    @property
    def jwt_secret_previous(self) -> SecretStr | None: ...

    @property
    def data_dir(self) -> Path: ...


def jwt_secret(settings: KeySettings) -> str:
    """The key that signs tokens: JWT_SECRET, or else the development key in
    DATA_DIR/jwt_secret, generated (64 random bytes, URL-safe, mode 0600) on first use.

    The fallback logs a warning once per launch (the marker in the environment is
    inherited by the server's workers), because tokens signed with a key that lives
    next to the data do not survive a fresh DATA_DIR and cannot be shared by hosts.
    """
    if settings.jwt_secret is not None:
        return settings.jwt_secret.get_secret_value()
    path = settings.data_dir / JWT_SECRET_FILE
    secret = _read_or_create_secret(path)
    if os.environ.get(_WARNED) == str(path):
        return secret
    os.environ[_WARNED] = str(path)
    logger.warning(
        "JWT_SECRET is not set: signing tokens with the generated development key in %s. "
        "Production must set JWT_SECRET (at least %d bytes).",
        path,
        JWT_SECRET_MIN_BYTES,
    )
    return secret


def jwt_secrets(settings: KeySettings) -> list[str]:
    """JWT_SECRET (or the development key), then JWT_SECRET_PREVIOUS if set: the keys a
    value signed or sealed may have been made with, the current one first."""
    keys = [jwt_secret(settings)]
    if settings.jwt_secret_previous is not None:
        keys.append(settings.jwt_secret_previous.get_secret_value())
    return keys


def _read_or_create_secret(path: Path) -> str:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # DATA_DIR: this user only
    try:
        return _read_secret(path)
    except FileNotFoundError:
        pass
    secret = secrets.token_urlsafe(64)
    # Write the key to a private temporary file (O_CREAT|O_EXCL, 0600 from the start,
    # so it is never readable by others), then publish it with link(), which fails if
    # the file exists. So concurrent first starts (several workers) agree on one key,
    # and no reader ever sees a half-written file.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as file:
            file.write(secret + "\n")
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return _read_secret(path)  # another process won the race: use its key
    finally:
        tmp.unlink(missing_ok=True)
    return secret


def _read_secret(path: Path) -> str:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        logger.warning("%s is accessible by other users; restrict it with: chmod 600 %s", path, path)
    secret = path.read_text(encoding="ascii").strip()
    if len(secret.encode()) < JWT_SECRET_MIN_BYTES:
        raise ValueError(
            f"{path} holds a key shorter than {JWT_SECRET_MIN_BYTES} bytes; delete it to generate a new one"
        )
    return secret
