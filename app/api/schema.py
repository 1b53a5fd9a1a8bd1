"""The GraphQL schema of api.md. Every field is one request: arguments and the bearer
token in, `Requesting.request` for the field's route (declared with the syncs that
answer it), the response record out. No business logic
lives here; the syncs decide everything."""

from __future__ import annotations

from collections.abc import Callable

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions.query_depth_limiter import IgnoreContext
from strawberry.types import ExecutionContext, Info

from syncs.account import CHANGE_PASSWORD, DELETE_ACCOUNT
from syncs.auth import AUTHENTICATE, LOGOUT, REGISTER
from syncs.me import ME
from syncs.user_sessions import LIST_SESSIONS, LOGOUT_EVERYWHERE, REVOKE_SESSION
from syncs.users import CHECK_USER_EXISTS, GET_ALL_USERS, GET_USERNAME_BY_ID

from .context import Context
from .errors import assign_code
from .extensions import FlowTrace
from .introspection import closed_rules, hide_suggestions
from .types import (
    AuthResult,
    AuthSuccess,
    ChangePasswordResult,
    ChangePasswordSuccess,
    DeleteAccountResult,
    DeleteAccountSuccess,
    LogoutEverywhereSuccess,
    LogoutSuccess,
    RevokeSessionResult,
    RevokeSessionSuccess,
    Session,
    User,
    as_session,
    as_user,
    user_error,
)

Ctx = Info[Context, None]


def given(value: strawberry.ID | None) -> strawberry.ID | None:
    """An optional argument as the syncs see it: None when the client left it out."""
    return None if value is strawberry.UNSET else value


@strawberry.type
class Query:
    @strawberry.field(description="The session's user; null without a valid session.")
    async def me(self, info: Ctx) -> User | None:
        response = await info.context.request(ME)
        return as_user(response) if response.get("user") else None

    @strawberry.field
    async def check_user_exists(self, info: Ctx, user: strawberry.ID) -> bool:
        response = await info.context.request(CHECK_USER_EXISTS, user=user)
        return bool(response["exists"])

    @strawberry.field(description="Users ordered by id; `first` is 1..1000.")
    async def all_users(
        self, info: Ctx, first: int = 100, after: strawberry.ID | None = strawberry.UNSET
    ) -> list[User]:
        response = await info.context.request(GET_ALL_USERS, first=first, after=given(after))
        return [as_user(row) for row in response["results"]]

    @strawberry.field(description="A user's name; null if no such user.")
    async def username_by_id(self, info: Ctx, user: strawberry.ID) -> str | None:
        response = await info.context.request(GET_USERNAME_BY_ID, user=user)
        return response["username"]  # type: ignore[no-any-return]

    @strawberry.field(description="The session user's live sessions, newest first.")
    async def sessions(self, info: Ctx) -> list[Session]:
        response = await info.context.request(LIST_SESSIONS)
        return [as_session(row) for row in response["results"]]


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Create an account and a session for it.")
    async def register(self, info: Ctx, username: str, password: str) -> AuthResult:
        response = await info.context.request(REGISTER, username=username, password=password)
        return user_error(response) or AuthSuccess(
            user=as_user(response), session=response["session"], expires_at=response["expiresAt"]
        )

    @strawberry.mutation(description="Check a username and password and create a session.")
    async def authenticate(self, info: Ctx, username: str, password: str) -> AuthResult:
        response = await info.context.request(AUTHENTICATE, username=username, password=password)
        return user_error(response) or AuthSuccess(
            user=as_user(response), session=response["session"], expires_at=response["expiresAt"]
        )

    @strawberry.mutation(description="Revoke the current session.")
    async def logout(self, info: Ctx) -> LogoutSuccess:
        await info.context.request(LOGOUT)
        return LogoutSuccess(ok=True)

    @strawberry.mutation(description="Change the session user's password; revokes their other sessions.")
    async def change_password(
        self, info: Ctx, old_password: str, new_password: str, user: strawberry.ID | None = strawberry.UNSET
    ) -> ChangePasswordResult:
        response = await info.context.request(
            CHANGE_PASSWORD,
            user=given(user),
            oldPassword=old_password,
            newPassword=new_password,
        )
        return user_error(response) or ChangePasswordSuccess(user=as_user(response))

    @strawberry.mutation(description="Delete the session user's account; revokes all their sessions.")
    async def delete_account(self, info: Ctx, user: strawberry.ID | None = strawberry.UNSET) -> DeleteAccountResult:
        response = await info.context.request(DELETE_ACCOUNT, user=given(user))
        return user_error(response) or DeleteAccountSuccess(user=strawberry.ID(response["user"]))

    @strawberry.mutation(description="End one of the session user's sessions (the current one too: that logs out).")
    async def revoke_session(self, info: Ctx, id: strawberry.ID) -> RevokeSessionResult:
        response = await info.context.request(REVOKE_SESSION, id=id)
        return user_error(response) or RevokeSessionSuccess(id=strawberry.ID(response["id"]))

    @strawberry.mutation(description="End every session of the session user, or every other one with `keepCurrent`.")
    async def logout_everywhere(self, info: Ctx, keep_current: bool = False) -> LogoutEverywhereSuccess:
        response = await info.context.request(LOGOUT_EVERYWHERE, keepCurrent=keep_current)
        return LogoutEverywhereSuccess(revoked=response["revoked"])


class Schema(strawberry.Schema):
    suggestions = True
    """Whether errors may suggest similar field and type names."""

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """Every error leaves with `extensions.code`; only unexpected ones are logged."""
        for error in errors:
            assign_code(error)
            if not self.suggestions:
                hide_suggestions(error)


def guarded_operations(
    *, max_depth: int, max_aliases: int, max_tokens: int, introspection: bool = True
) -> list[Callable[[], SchemaExtension]]:
    """Limits on what an operation may ask (rejected before execution), then parse
    and validation caches. The limits' validation rules are made once: the validation
    cache is keyed by the rules, so rules made per request would never hit it."""
    limits = [
        *QueryDepthLimiter(max_depth=max_depth, should_ignore=_introspection).validation_rules,
        *MaxAliasesLimiter(max_alias_count=max_aliases).validation_rules,
        *([] if introspection else closed_rules()),
    ]
    return [
        lambda: MaxTokensLimiter(max_token_count=max_tokens),
        lambda: ParserCache(maxsize=1000),  # the caches are shared by every request
        lambda: AddValidationRules(limits),
        lambda: ValidationCache(maxsize=1000),
    ]


def build_schema(
    *, max_depth: int = 10, max_aliases: int = 15, max_tokens: int = 2000, introspection: bool = True
) -> Schema:
    """The schema with its cross-cutting behaviour: guarded operations, then flow traces.
    Error codes and masking are in `Schema.process_errors`. Without `introspection`,
    the schema neither answers introspection nor suggests names in errors."""
    guards = guarded_operations(
        max_depth=max_depth, max_aliases=max_aliases, max_tokens=max_tokens, introspection=introspection
    )
    built = Schema(query=Query, mutation=Mutation, extensions=[*guards, FlowTrace])
    built.suggestions = introspection
    return built


def _introspection(ignored: IgnoreContext) -> bool:
    """Introspection (GraphiQL, code generators) nests deeper than any operation of ours."""
    return ignored.field_name.startswith("__")


schema = build_schema()
