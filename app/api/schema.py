"""The GraphQL schema, assembled once from the application's parts: every route exposed
in GraphQL becomes a field (`app.api.fields`), `ErrorCode` is every declared domain
code, and the cross-cutting behaviour is the list of extensions below. No business
logic lives here; the syncs decide everything."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import lru_cache

import strawberry
from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema, parse
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter, SchemaExtension
from strawberry.extensions.query_depth_limiter import IgnoreContext
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import validate_document
from strawberry.types import ExecutionContext

from app.parts import Parts
from app.protocol import codes
from app.protocol.coverage import Coverage

from .errors import assign_code
from .extensions import FlowTrace
from .fields import Fields
from .introspection import hide_suggestions
from .types import error_code_enum, request_error_code_enum, user_error_type


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


class Operations:
    """The operations clients send, each distinct text parsed (within the token limit) and
    validated (with the limits' rules) once, for every request that sends it again: at
    most `size` texts of each are kept, the least recently used going first."""

    def __init__(self, rules: Sequence[type[ASTValidationRule]], *, max_tokens: int, size: int = 1000) -> None:
        self.rules = tuple(rules)
        self.max_tokens = max_tokens
        self.size = size
        self.parse = lru_cache(maxsize=size)(parse)
        self._validated: OrderedDict[tuple[str, tuple[type[ASTValidationRule], ...]], list[GraphQLError]] = (
            OrderedDict()
        )

    def validate(
        self, schema: GraphQLSchema, text: str, document: DocumentNode, rules: tuple[type[ASTValidationRule], ...]
    ) -> list[GraphQLError]:
        """The document's errors, kept by its text (which makes the document: hashing a
        document, as Strawberry's ValidationCache does, walks all of it)."""
        key = (text, rules)
        errors = self._validated.get(key)
        if errors is None:
            errors = self._validated[key] = validate_document(schema, document, rules)
            if len(self._validated) > self.size:
                self._validated.popitem(last=False)
        else:
            self._validated.move_to_end(key)
        return errors


class GuardedOperation(SchemaExtension):
    """One request's use of `Operations`: the document from the parse cache, the rules
    added to the schema's, the errors from the validation cache. One extension, where
    Strawberry's own (MaxTokensLimiter, ParserCache, AddValidationRules, ValidationCache)
    would be four, each with its hooks run on every request."""

    def __init__(self, operations: Operations) -> None:
        self.operations = operations

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        options = {**context.parse_options, "max_tokens": self.operations.max_tokens}
        context.graphql_document = self.operations.parse(context.query, **options)
        yield

    def on_validate(self) -> Iterator[None]:
        context, operations = self.execution_context, self.operations
        if context.query is not None and context.graphql_document is not None:
            rules = context.validation_rules + operations.rules
            context.validation_rules = rules
            context.pre_execution_errors = operations.validate(
                context.schema._schema, context.query, context.graphql_document, rules
            )
        yield


def guarded_operations(
    *, max_depth: int, max_aliases: int, max_tokens: int, introspection: bool = True
) -> list[Callable[[], SchemaExtension] | type[SchemaExtension]]:
    """Limits on what an operation may ask (rejected before execution), with its parsing
    and validation cached. The limits' validation rules are made once: the validation
    cache is keyed by the rules, so rules made per request would never hit it."""
    limits = [
        *QueryDepthLimiter(max_depth=max_depth, should_ignore=_introspection).validation_rules,
        *MaxAliasesLimiter(max_alias_count=max_aliases).validation_rules,
        *([] if introspection else [NoSchemaIntrospectionCustomRule]),
    ]
    operations = Operations(limits, max_tokens=max_tokens)  # shared by every request
    return [lambda: GuardedOperation(operations)]


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
        types=[request_error_code_enum(codes.request_level_codes())],
        extensions=[*guards, FlowTrace],
        config=StrawberryConfig(disable_field_suggestions=not introspection),
        suggestions=introspection,
    )


def _introspection(ignored: IgnoreContext) -> bool:
    """Introspection (GraphiQL, code generators) nests deeper than any operation of ours."""
    return ignored.field_name.startswith("__")
