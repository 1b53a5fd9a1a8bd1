"""The GraphQL schema, assembled once from the application's parts: every route exposed
in GraphQL becomes a field (`app.api.fields`), `ErrorCode` is every declared domain
code, and the cross-cutting behaviour is the list of extensions below. No business
logic lives here; the syncs decide everything."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions.query_depth_limiter import IgnoreContext
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from app.parts import Parts
from app.protocol import codes
from app.protocol.coverage import Coverage

from .errors import assign_code
from .extensions import FlowTrace
from .fields import Fields
from .introspection import hide_suggestions
from .types import error_code_enum, user_error_type


class Schema(strawberry.Schema):
    """A schema whose errors all leave with `extensions.code`, and that, closed, names no
    field, argument or type in them. (Strawberry's `disable_field_suggestions` covers
    fields only; graphql-core also suggests arguments, types and enum values.)"""

    def __init__(self, *args: object, suggestions: bool, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.suggestions = suggestions

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """Every error leaves with `extensions.code`; only unexpected ones are logged."""
        for error in errors:
            assign_code(error)
            if not self.suggestions:
                hide_suggestions(error)


def guarded_operations(
    *, max_depth: int, max_aliases: int, max_tokens: int, introspection: bool = True
) -> list[Callable[[], SchemaExtension] | type[SchemaExtension]]:
    """Limits on what an operation may ask (rejected before execution), then parse
    and validation caches. The limits' validation rules are made once: the validation
    cache is keyed by the rules, so rules made per request would never hit it."""
    limits = [
        *QueryDepthLimiter(max_depth=max_depth, should_ignore=_introspection).validation_rules,
        *MaxAliasesLimiter(max_alias_count=max_aliases).validation_rules,
    ]
    return [
        lambda: MaxTokensLimiter(max_token_count=max_tokens),
        lambda: ParserCache(maxsize=1000),  # the caches are shared by every request
        lambda: AddValidationRules(limits),
        *([] if introspection else [DisableIntrospection]),
        lambda: ValidationCache(maxsize=1000),
    ]


def build_schema(
    parts: Parts,
    coverages: Iterable[Coverage],
    *,
    max_depth: int = 10,
    max_aliases: int = 15,
    max_tokens: int = 2000,
    introspection: bool = True,
) -> Schema:
    """The schema of `parts` (whose routes can answer what `coverages` found), with its
    cross-cutting behaviour: guarded operations, then flow traces. Error codes and
    masking are in `Schema.process_errors`. Without `introspection`, the schema neither
    answers introspection nor suggests names."""
    user_error = user_error_type(error_code_enum(codes.domain_codes()))
    answers = {coverage.route.path: coverage.domain_codes for coverage in coverages}
    fields = Fields(parts.routes, parts.presenters, user_error, answers)
    guards = guarded_operations(
        max_depth=max_depth, max_aliases=max_aliases, max_tokens=max_tokens, introspection=introspection
    )
    return Schema(
        query=fields.operation("Query"),
        mutation=fields.operation("Mutation"),
        extensions=[*guards, FlowTrace],
        config=StrawberryConfig(disable_field_suggestions=not introspection),
        suggestions=introspection,
    )


def _introspection(ignored: IgnoreContext) -> bool:
    """Introspection (GraphiQL, code generators) nests deeper than any operation of ours."""
    return ignored.field_name.startswith("__")
