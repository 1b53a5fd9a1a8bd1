"""Traces as an OpenTelemetry collector receives them: a real OTLP/HTTP receiver
decodes what the app exports, and the span tree of a `register` is checked."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Span as SpanMessage

from app.observability.tracing import Tracing

from .helpers import REGISTER, StartApi
from .otlp import Receiver, receiving
from .second_factor import enroll, outcome, ticket, verify

PASSWORD = "correct horse traced"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as found:
        yield found


async def test_a_register_is_one_span_tree_continuing_the_callers_trace(
    start_api: StartApi, receiver: Receiver
) -> None:
    async with start_api(otel_exporter_otlp_endpoint=receiver.url) as api:
        response = await api.http.post(
            "/graphql",
            json={"query": REGISTER, "variables": {"username": "ada", "password": PASSWORD}},
            headers={"traceparent": f"00-{TRACE_ID}-{CALLER_SPAN}-01"},
        )
        token = response.json()["data"]["register"]["session"]
        flow = api.engine.recent[-1].id
    # Leaving the app flushed its spans to the receiver.

    print(receiver.tree())
    spans = {span.name: span for span in receiver.spans}
    http = spans.pop("POST /graphql")
    assert http.parent == CALLER_SPAN
    assert http.kind == SpanMessage.SPAN_KIND_SERVER
    assert http.attributes["http.response.status_code"] == 200
    assert http.attributes["graphql.operation.name"] == "Register"

    # Each action under the one whose completion fired its sync.
    tree = [  # (action, firing sync, parent)
        ("Requesting.request", None, "POST /graphql"),
        ("Throttling.attempt", "RegisterAttempt", "Requesting.request"),
        ("UserAuthentication.register", "RegisterRequest", "Throttling.attempt"),
        ("Gating.ask", "RegisterAsksForSession", "UserAuthentication.register"),
        ("Gating.decide", "RegisterAsksForSession", "UserAuthentication.register"),
        ("Sessioning.create", "RegisterCreatesSession", "Gating.decide"),
        ("Requesting.respond", "RegisterResponse", "Sessioning.create"),
    ]
    assert len(receiver.spans) == len(tree) + 1, receiver.tree()
    spans["POST /graphql"] = http
    for name, sync, parent in tree:
        span = spans[name]
        assert span.parent == spans[parent].id, name
        assert span.attributes.get("concept.sync") == sync, name
        assert span.attributes["concept.flow_id"] == flow
    assert {span.trace for span in receiver.spans} == {TRACE_ID}
    assert {span.service for span in receiver.spans} == {"concept-auth"}

    for body in receiver.bodies:
        assert PASSWORD.encode() not in body and token.encode() not in body


async def test_a_refused_login_shows_its_error_code_on_the_action(start_api: StartApi, receiver: Receiver) -> None:
    async with start_api(otel_exporter_otlp_endpoint=receiver.url, otel_service_name="auth-eu") as api:
        await api.rest("/UserAuthentication/authenticate", {"username": "nobody", "password": PASSWORD})

    spans = {span.name: span for span in receiver.spans}
    assert spans["UserAuthentication.authenticate"].attributes["concept.error_code"] == "INVALID_CREDENTIALS"
    assert spans["POST /api/UserAuthentication/authenticate"].parent == ""  # no caller trace: a new one
    assert {span.service for span in receiver.spans} == {"auth-eu"}
    assert all(PASSWORD.encode() not in body for body in receiver.bodies)


async def test_without_an_endpoint_nothing_traces(start_api: StartApi) -> None:
    async with start_api() as api:
        await api.register("ada", PASSWORD)
        assert not [m for m in api.app.user_middleware if m.cls is Tracing]


async def test_span_names_are_declared_paths_never_a_clients(start_api: StartApi, receiver: Receiver) -> None:
    chosen = "/api/" + "x" * 40
    async with start_api(otel_exporter_otlp_endpoint=receiver.url) as api:
        answers = [
            (await api.http.get(chosen)).status_code,  # 405: /api/* takes POST only
            (await api.http.post(chosen, content=b"{}", headers={"Content-Type": "text/plain"})).status_code,  # 415
            (await api.http.post(chosen, json={})).status_code,  # 404
            (await api.http.put("/graphql")).status_code,  # 405 on a declared path
            (await api.http.post("/api/me", content=b"{}", headers={"Content-Type": "text/plain"})).status_code,
        ]

    assert answers == [405, 415, 404, 405, 415]
    names = [span.name for span in receiver.spans if span.kind == SpanMessage.SPAN_KIND_SERVER]
    assert sorted(names) == sorted(["GET", "POST", "POST", "PUT /graphql", "POST /api/me"]), names


async def test_probes_and_scrapes_are_not_traced(start_api: StartApi, receiver: Receiver) -> None:
    async with start_api(otel_exporter_otlp_endpoint=receiver.url) as api:
        answers = [(await api.http.get(path)).status_code for path in ("/healthz", "/readyz", "/metrics")]
        await api.http.post("/api/me", json={})

    assert answers == [200, 200, 200]
    names = [span.name for span in receiver.spans if span.kind == SpanMessage.SPAN_KIND_SERVER]
    assert names == ["POST /api/me"]


async def test_two_factor_secrets_and_codes_are_never_in_a_span(start_api: StartApi, receiver: Receiver) -> None:
    async with start_api(otel_exporter_otlp_endpoint=receiver.url) as api:
        ada = await enroll(api)
        held = await ticket(api)
        code = ada.code()
        signed_in = await verify(api, held, code)
        recovered = await verify(api, await ticket(api), ada.recovery_codes[0])

    assert outcome(signed_in) == "ok" and outcome(recovered) == "ok"
    assert any(span.name == "TwoFactor.verify" for span in receiver.spans), receiver.tree()
    sent = b"".join(receiver.bodies)
    for secret in [ada.secret, code, held, *ada.recovery_codes]:
        assert secret.encode() not in sent, secret
