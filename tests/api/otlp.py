"""A real OTLP/HTTP trace receiver on loopback, for the tests that read what the app exports."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)


@dataclass
class Span:
    name: str
    id: str
    parent: str
    trace: str
    kind: int
    attributes: dict[str, Any]
    service: str


@dataclass
class Receiver:
    """An OTLP/HTTP trace receiver on loopback: what it was sent, raw and decoded."""

    url: str
    bodies: list[bytes] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)

    def receive(self, body: bytes) -> None:
        self.bodies.append(body)
        request = ExportTraceServiceRequest.FromString(body)
        for resource_spans in request.resource_spans:
            resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    self.spans.append(
                        Span(
                            span.name,
                            span.span_id.hex(),
                            span.parent_span_id.hex(),
                            span.trace_id.hex(),
                            span.kind,
                            {a.key: getattr(a.value, a.value.WhichOneof("value")) for a in span.attributes},
                            resource["service.name"],
                        )
                    )

    def tree(self) -> str:
        """The spans as an indented tree, the way a trace viewer nests them."""
        lines: list[str] = []

        def show(span: Span, depth: int) -> None:
            shown = ", ".join(f"{key}={value}" for key, value in sorted(span.attributes.items()))
            lines.append(f"{'    ' * depth}{span.name}  [{shown}]")
            for child in self.spans:
                if child.parent == span.id:
                    show(child, depth + 1)

        for span in self.spans:
            if span.parent not in {s.id for s in self.spans}:
                show(span, 0)
        return "\n".join(lines)


@contextmanager
def receiving() -> Iterator[Receiver]:
    """A receiver listening while the block runs."""
    found: list[Receiver] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            status = 200 if self.path == "/v1/traces" else 404
            if status == 200:
                found[0].receive(body)
            answer = ExportTraceServiceResponse().SerializeToString()
            self.send_response(status)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    found.append(Receiver(f"http://127.0.0.1:{server.server_address[1]}"))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield found[0]
    server.shutdown()
    server.server_close()
    thread.join()
