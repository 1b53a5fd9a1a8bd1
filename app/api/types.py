"""The GraphQL types every feature shares, and the two built from the error-code
registry once every part of the app has declared its codes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Any, TypeVar

import strawberry
from strawberry.utils.str_converters import to_camel_case

T = TypeVar("T")


@strawberry.type
class User:
    id: strawberry.ID
    username: str


def error_code_enum(domain_codes: Iterable[str]) -> type[Enum]:
    """`ErrorCode`: every declared domain code, so no answer of a concept is unknown here."""
    error_code: type[Enum] = Enum("ErrorCode", {code: code for code in domain_codes})  # type: ignore[misc]
    return strawberry.enum(error_code)


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
