"""The application's synchronizations, one module per theme, found here (nothing lists
them): every module of this package is imported and its syncs registered, modules by
name, syncs in the order each module defines them. A module declares the routes it
answers (`Route`) at its top."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from app.engine import Sync, syncs_in
from app.protocol.routes import Route, routes_in


def modules() -> list[ModuleType]:
    return [
        importlib.import_module(f"{__name__}.{info.name}")
        for info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name)
    ]


def all_syncs() -> list[Sync]:
    """Every sync of the application, in the order they are registered."""
    return syncs_in(*modules())


def all_routes() -> list[Route]:
    """Every route the syncs answer, as their modules declare them."""
    return routes_in(modules())
