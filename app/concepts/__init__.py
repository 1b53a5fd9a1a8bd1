"""The application's concepts, one package each, found here (nothing lists them).

A concept package declares what the application needs of it in its `__init__`:

    DOCUMENTS = [Profile]                          # its Beanie documents (its state)
    def create(settings: ProfileSettings): ...     # the concept, from the settings it reads
    def create(): ...                              # (or from none)
"""

from __future__ import annotations

import importlib
import pkgutil
import typing
from types import ModuleType

from beanie import Document
from pydantic import ValidationError

from app.settings import Settings, SettingsView

from .email_addresses import EmailAddresses
from .gating import Gating
from .mailing import Mailing
from .one_time_tokens import OneTimeTokens
from .passkeys import Passkeys
from .requesting import Requesting
from .sessioning import Sessioning
from .throttling import Throttling
from .two_factor import TwoFactor
from .user_authentication import UserAuthentication


class ConceptDeclarationError(Exception):
    """A concept package does not declare what the application needs of it."""


def packages() -> list[ModuleType]:
    """Every concept package, by name; each checked for its declarations."""
    found = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
        if info.ispkg:
            package = importlib.import_module(f"{__name__}.{info.name}")
            _check(package)
            found.append(package)
    return found


def _check(package: ModuleType) -> None:
    name = package.__name__
    documents = getattr(package, "DOCUMENTS", None)
    if not isinstance(documents, list) or not callable(getattr(package, "create", None)):
        raise ConceptDeclarationError(
            f"concept package {name} must declare DOCUMENTS (a list of its Beanie documents) "
            "and create() in its __init__.py"
        )
    for document in _defined_documents(name):
        if document not in documents:
            raise ConceptDeclarationError(
                f"concept package {name}: document {document.__name__} is not in its DOCUMENTS "
                "(the database would not be initialised for it)"
            )


def _defined_documents(package: str) -> list[type[Document]]:
    """The Beanie documents defined by the package's modules (as imported so far)."""
    found: list[type[Document]] = []
    pending: list[type[Document]] = [Document]
    while pending:
        for cls in pending.pop().__subclasses__():
            pending.append(cls)
            if cls.__module__ == package or cls.__module__.startswith(f"{package}."):
                found.append(cls)
    return found


def documents() -> list[type[Document]]:
    """Every concept's documents, for init_beanie."""
    return [document for package in packages() for document in package.DOCUMENTS]


def create_all(settings: Settings) -> list[object]:
    """One configured instance of every concept, each given its view of the settings
    (the SettingsView its `create` takes), or nothing if it takes none."""
    return [_create(package, settings) for package in packages()]


def _create(package: ModuleType, settings: Settings) -> object:
    hints = typing.get_type_hints(package.create)
    views = [hint for name, hint in hints.items() if name != "return"]
    if not views:
        return package.create()
    view = views[0]
    if len(views) > 1 or not (isinstance(view, type) and issubclass(view, SettingsView)):
        raise ConceptDeclarationError(
            f"concept package {package.__name__}: create() takes nothing, or one SettingsView (the settings it reads)"
        )
    try:
        return package.create(view.model_validate(settings))
    except ValidationError as wrong:
        fields = ", ".join(str(error["loc"][0]) for error in wrong.errors())
        raise ConceptDeclarationError(
            f"concept package {package.__name__}: its {view.__name__} reads {fields}, which Settings does not have "
            "(or has with another type)"
        ) from None


DOCUMENTS = documents()
"""Every concept's Beanie documents, for init_beanie."""

__all__ = [
    "DOCUMENTS",
    "ConceptDeclarationError",
    "EmailAddresses",
    "Gating",
    "Mailing",
    "OneTimeTokens",
    "Passkeys",
    "Requesting",
    "Sessioning",
    "Throttling",
    "TwoFactor",
    "UserAuthentication",
    "create_all",
    "packages",
]
