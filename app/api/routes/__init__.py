"""The routes the API offers, one module per feature (found here: nothing lists them).

Each module declares its routes as typed contracts (`app.protocol.routes.Route`): the
syncs in `syncs/` answer them, `app/api/graphql/` presents them, REST serves them.
"""

from __future__ import annotations

from app.discovery import submodules
from app.protocol.routes import Route, routes_in


def all_routes() -> list[Route]:
    """Every route, modules by name, each in the order its module declares them."""
    return routes_in(submodules(__name__))
