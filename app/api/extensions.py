"""Cross-cutting GraphQL behaviour, as schema extensions listed where the schema is built."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from app.engine import describe_flow

from .errors import BAD_USER_INPUT, INTERNAL_SERVER_ERROR, ApiError

logger = logging.getLogger(__name__)

MASKED = "Internal server error."


def _coded(error: GraphQLError) -> GraphQLError:
    if isinstance(error.original_error, ApiError):
        return error
    if error.original_error is None:
        code = (error.extensions or {}).get("code") or (
            "GRAPHQL_PARSE_FAILED" if error.message.startswith("Syntax Error") else BAD_USER_INPUT
        )
        return GraphQLError(
            error.message, error.nodes, error.source, error.positions, error.path, extensions={"code": code}
        )
    logger.error("unexpected error in %s", ".".join(map(str, error.path or [])), exc_info=error.original_error)
    return GraphQLError(
        MASKED, error.nodes, error.source, error.positions, error.path, extensions={"code": INTERNAL_SERVER_ERROR}
    )


class ErrorCodes(SchemaExtension):
    """Every error gets `extensions.code`; unexpected ones are logged and masked.

    Request-level failures (ApiError) keep their code and message; invalid
    documents and arguments are BAD_USER_INPUT (or GRAPHQL_PARSE_FAILED); anything
    else is INTERNAL_SERVER_ERROR with a fixed message, its details only in the log.
    """

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = [_coded(error) for error in result.errors]


class FlowTrace(SchemaExtension):
    """Names the operation for the access log and, with DEBUG_FLOWS, puts each field's
    flow (its actions, the syncs that fired them, secrets as `***`) in the response's
    `extensions.flow` (`extensions.flows` when the operation ran several)."""

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        yield
        context.state.operation = self.execution_context.operation_name

    def get_results(self) -> dict[str, Any]:
        context = self.execution_context.context
        if not context.debug_flows or not context.flows:
            return {}
        flows = [describe_flow(flow, context.handler.secrets) for flow in context.flows]
        return {"flow": flows[0]} if len(flows) == 1 else {"flows": flows}
