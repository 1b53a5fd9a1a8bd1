"""Finding the application's parts by package, so nothing has to list them: concept
packages, route modules, GraphQL modules, sync modules."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def submodules(package: str, *, packages: bool = False) -> list[ModuleType]:
    """The modules (or, with `packages`, the subpackages) of `package`, imported, by name."""
    parent = importlib.import_module(package)
    found = sorted(pkgutil.iter_modules(parent.__path__), key=lambda info: info.name)
    return [importlib.import_module(f"{package}.{info.name}") for info in found if info.ispkg == packages]
