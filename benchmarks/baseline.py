"""The baseline of the load benchmark: `usernameById` as a plain Strawberry resolver.

It does the same database reads as the engine path (the session by id, then the
user's name), with no engine, no Requesting, no syncs; so the load run can show
what the architecture costs. Run by benchmarks.load, not by the app.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import strawberry
import uvicorn
from bson import ObjectId
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route
from strawberry.asgi import GraphQL
from strawberry.types import Info

from app.api.schema import guarded_operations
from app.concepts import DOCUMENTS
from app.concepts.sessioning import Session, TokenCodec
from app.concepts.user_authentication import User
from app.concepts.user_authentication.documents import UserName
from app.database import connect
from app.keys import jwt_secret
from app.server.middleware.access_log import AccessLog
from app.server.middleware.limits import BodyLimit
from app.settings import Settings

settings = Settings()
tokens = TokenCodec([jwt_secret(settings)], settings.jwt_issuer)


@strawberry.type
class Query:
    @strawberry.field
    async def username_by_id(self, info: Info, user: strawberry.ID) -> str | None:
        header = info.context["request"].headers.get("authorization", "")
        claims = tokens.decode(header.removeprefix("Bearer "), datetime.now(UTC))
        session = await Session.find_one(Session.id == claims["sid"]) if claims else None
        if session is None or session.expires <= datetime.now(UTC):
            raise PermissionError("UNAUTHENTICATED")
        row = (
            await User.find_one(User.id == ObjectId(user), projection_model=UserName)
            if ObjectId.is_valid(user)
            else None
        )
        return row.username if row else None


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    client = await connect(os.environ["MONGODB_URL"], settings.mongodb_db, DOCUMENTS)
    yield
    await client.close()


schema = strawberry.Schema(
    query=Query,
    extensions=guarded_operations(
        max_depth=settings.graphql_max_depth,
        max_aliases=settings.graphql_max_aliases,
        max_tokens=settings.graphql_max_tokens,
    ),
)
# The same HTTP stack as the app (limits, caches, middleware), so the comparison
# isolates what the engine and Requesting cost.
app = Starlette(
    routes=[Route("/graphql", GraphQL(schema))],
    middleware=[Middleware(AccessLog), Middleware(BodyLimit, max_bytes=settings.max_body_bytes)],
    lifespan=lifespan,
)

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=settings.port, log_level="warning", access_log=False)
