"""The application's parts, found rather than listed: concept packages (`app/concepts/`),
routes (`app/api/routes/`), GraphQL presenters (`app/api/graphql/`) and syncs (every
module of the top-level `syncs` package, which `app` never imports by name: the
dependency runs one way, from the syncs to the app)."""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

from app import concepts
from app.api.fields import Presenter, presenters_in
from app.api.routes import all_routes
from app.discovery import submodules
from app.engine import Sync, syncs_in
from app.protocol.routes import Route

SYNCS = "syncs"
"""The package of the application's synchronizations: each of its modules is registered."""


@dataclass(frozen=True)
class Parts:
    concepts: tuple[ModuleType, ...]
    routes: tuple[Route, ...]
    presenters: tuple[Presenter, ...]
    sync_modules: tuple[ModuleType, ...]
    syncs: tuple[Sync, ...]


def discover() -> Parts:
    """Every part, imported: concepts first (they declare the error codes the rest use)."""
    packages = tuple(concepts.packages())
    modules = tuple(submodules(SYNCS))
    return Parts(
        concepts=packages,
        routes=tuple(all_routes()),
        presenters=tuple(presenters_in(submodules("app.api.graphql"))),
        sync_modules=modules,
        syncs=tuple(syncs_in(*modules)),
    )
