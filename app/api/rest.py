"""The TypeScript version's REST protocol: `POST /api/<path>` with a flat JSON body.

The body is validated against the route's declared inputs (`app.protocol.routes`,
declared by the syncs that answer it) before any action runs: a body that is not a
JSON object, an unknown key, a missing input or a value of the wrong type is a 400
and invokes nothing. The valid body becomes the inputs of
`Requesting.request`, and the response record comes back as JSON.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from app.concepts.outputs import error
from app.observability.exchange import exchange
from app.protocol import codes
from app.protocol.codes import BAD_USER_INPUT, NOT_FOUND, UNAUTHENTICATED, Code
from app.protocol.routes import SESSION, InvalidInput, Route

from .context import MalformedAuthorization, bearer_token, client_address, user_agent
from .handler import RequestHandler


def validate(route: Route, body: object) -> dict[str, Any]:
    """The inputs for `Requesting.request`: every input of the route, absent optional ones as their default."""
    if not isinstance(body, dict):
        raise InvalidInput("The body must be a JSON object.")
    return route.accept(body, "Field")


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class JSON(JSONResponse):
    def render(self, content: Any) -> bytes:
        return json.dumps(content, default=_json, ensure_ascii=False, separators=(",", ":")).encode()


class RestEndpoint:
    """`POST /api/<path>`: the body checked against the path's route, then the request."""

    def __init__(self, handler: RequestHandler, *, proxies: int, debug_flows: bool) -> None:
        self.handler = handler
        self.proxies = proxies
        self.debug_flows = debug_flows

    async def answer(self, request: Request) -> JSON:
        started = time.perf_counter()
        path = "/" + request.path_params["path"]
        route = self.handler.routes.get(path)
        if route is None or not route.rest:
            return self._refused(path, 404, f"No such path: /api{path[:100]}.", NOT_FOUND, started)
        try:
            bearer = bearer_token(request)
        except MalformedAuthorization as malformed:
            return self._refused(path, 401, str(malformed), UNAUTHENTICATED, started)
        try:
            body = json.loads(await request.body())
            if isinstance(body, dict) and SESSION in route.inputs and body.get("session") is None:
                body = {**body, "session": bearer}
            inputs = validate(route, body)
        except (ValueError, RecursionError) as invalid:
            message = str(invalid) if isinstance(invalid, InvalidInput) else "The body is not valid JSON."
            return self._refused(path, 400, message, BAD_USER_INPUT, started)
        inputs["client"] = client_address(request, proxies=self.proxies)
        inputs["userAgent"] = user_agent(request)
        response = await self.handler.handle(path, inputs)
        exchange(request.scope).flows.append(response.flow)
        body = {key: value for key, value in response.body.items() if key != "request"}
        headers = {"X-Flow-Id": response.flow.id} if self.debug_flows else None
        return JSON(body, status_code=codes.status(response.code) if response.code else 200, headers=headers)

    def _refused(self, path: str, status: int, message: str, code: Code, started: float) -> JSON:
        """A request refused before any action ran, counted like the others (by the metrics)."""
        self.handler.refused(path, code, time.perf_counter() - started)
        return JSON(error(code, message), status_code=status)
