"""The GraphQL types every feature shares, and the two built from the error-code
registry once every part of the app has declared its codes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Any, TypeVar

import strawberry
from strawberry.utils.str_converters import to_camel_case

from app.protocol import codes

T = TypeVar("T")


@strawberry.type
class User:
    id: strawberry.ID
    username: str


def code_enum(name: str, declared: Iterable[str], description: str) -> type[Enum]:
    """A GraphQL enum of declared error codes, each described as it was declared, so
    GraphiQL's docs and generated clients say when a client gets it."""
    values = {code: strawberry.enum_value(code, description=codes.description(code)) for code in declared}
    enum: type[Enum] = Enum(name, values)  # type: ignore[misc]
    return strawberry.enum(enum, description=description)


def error_code_enum(domain_codes: Iterable[str]) -> type[Enum]:
    """`ErrorCode`: every declared domain code, so no answer of a concept is unknown here."""
    return code_enum(
        "ErrorCode",
        domain_codes,
        "Why an operation answered a `UserError`: an expected failure, returned as data. (A failure of the "
        "request itself is a GraphQL error whose `extensions.code` is a `RequestErrorCode`.)",
    )


def request_error_code_enum(request_level_codes: Iterable[str]) -> type[Enum]:
    """`RequestErrorCode`: what `extensions.code` of a GraphQL error can be. No field
    answers it; it is in the schema so clients know (and generate) the codes. By name:
    the layers that declare them are imported in no fixed order."""
    return code_enum(
        "RequestErrorCode",
        sorted(request_level_codes),
        "The `extensions.code` of a GraphQL error: a failure of the request itself (no session, invalid input, "
        "the database down...), not an answer of the operation. The field it names is null.",
    )


def user_error_type(error_code: type[Enum]) -> Any:
    """`UserError`: an expected failure, returned as data (its code from `error_code`)."""
    namespace = {"__annotations__": {"code": error_code, "message": str}}
    return strawberry.type(
        type("UserError", (), namespace), description="An expected, user-facing failure, returned as data."
    )


def from_row(kind: type[T], row: Mapping[str, Any]) -> T:
    """An object of a GraphQL type from a row keyed by the type's field names (`createdAt`
    for `created_at`): the row's shape is declared once, by the type."""
    fields = kind.__strawberry_definition__.fields  # type: ignore[attr-defined]
    return kind(**{field.python_name: row[field.graphql_name or to_camel_case(field.python_name)] for field in fields})
