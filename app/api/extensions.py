"""Cross-cutting GraphQL behaviour, as schema extensions listed where the schema is built."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from strawberry.extensions import SchemaExtension

from app.protocol.bounds import MAX_LOGGED_NAME
from app.views.flows import describe_flow

from .context import Context


class FlowTrace(SchemaExtension):
    """Names the operation for the access log and, with DEBUG_FLOWS, puts each field's
    flow (its actions, the syncs that fired them, secrets as `***`) in the response's
    `extensions.flow` (`extensions.flows` when the operation ran several)."""

    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context.context
        if isinstance(context, Context):
            name = self.execution_context.operation_name
            # Client-chosen: cut before the access log and the traces keep it.
            context.exchange.operation = name[:MAX_LOGGED_NAME] if name else name

    def get_results(self) -> dict[str, Any]:
        context = self.execution_context.context
        if not isinstance(context, Context) or not context.debug_flows or not context.exchange.flows:
            return {}
        flows = [describe_flow(flow, context.handler.secrets) for flow in context.exchange.flows]
        return {"flow": flows[0]} if len(flows) == 1 else {"flows": flows}
