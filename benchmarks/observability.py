"""What metrics and traces cost: the authenticated query against three live apps,
metrics off (METRICS=false), metrics on (the default), and metrics on with tracing
to a local OTLP/HTTP sink. The machine is shared, so the apps take turns: round
after round each runs the same workload (A, B, C, then B, C, A, ...), and the figures
are the medians over rounds, and of each round's ratios to metrics off.

    .venv/bin/python -m benchmarks.load --observability [--requests 2000] [--rounds 5] [--concurrency 16]
"""

from __future__ import annotations

import multiprocessing
import statistics
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from app.database import EmbeddedDatabase, free_port

from .http_client import Connection
from .live import PASSWORD, app_environment, gql, start, wait_ready

REGISTER = """mutation($u: String!, $p: String!) {
  register(username: $u, password: $p) { __typename ... on AuthSuccess { user { id } session } }
}"""
USERNAME_BY_ID = "query($id: ID!) { usernameById(user: $id) }"


def sink(port: int) -> None:
    """An OTLP/HTTP endpoint that accepts every export and keeps nothing."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


async def engine_overhead(flows: int, chunks: int = 10) -> tuple[float, float, float]:
    """CPU µs per flow of the engine benchmark's flows (in process, no HTTP, no database),
    without and with the metrics as the engine's observer, and µs per request_completed:
    the metrics' own work, free of the live servers' noise."""
    from app.observability.metrics import Metrics

    from .engine import build, measure

    plain, observed = build("metrics off", 0), build("metrics on", 0)
    metrics = Metrics(["/count"])
    observed.engine.observer = metrics
    await measure([plain, observed], flows, flows // 10, chunks)
    n = 100_000
    started = time.process_time()
    for _ in range(n):
        metrics.request_completed("/count", None, 0.004)
    per_request = (time.process_time() - started) / n * 1e6
    return plain.us_per_flow, observed.us_per_flow, per_request


async def run(requests: int, rounds: int, concurrency: int) -> None:
    from .load import drive  # the load benchmark's client

    sink_port = free_port()
    receiver = multiprocessing.Process(target=sink, args=(sink_port,), daemon=True)
    receiver.start()
    with tempfile.TemporaryDirectory() as tmp, EmbeddedDatabase(Path(tmp) / "db") as database:
        env = app_environment(database, "bench", tmp)
        configs = {
            "metrics off": {**env, "METRICS": "false"},
            "metrics on (default)": env,
            "metrics + tracing": {**env, "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{sink_port}"},
        }
        servers = {name: start(name, "app", config, database) for name, config in configs.items()}
        try:
            for server in servers.values():
                await wait_ready(server)
            setup = await Connection.open(servers["metrics off"].url)
            data = await gql(setup, REGISTER, u="bench_user", p=PASSWORD)
            await setup.close()
            user, token = data["register"]["user"]["id"], data["register"]["session"]

            async def username_by_id(connection: Connection, _: int) -> object:
                return await gql(connection, USERNAME_BY_ID, token, id=user)

            for server in servers.values():
                await drive("warm-up", server, 300, concurrency, username_by_id)
            throughput: dict[str, list[float]] = {name: [] for name in servers}
            cpu: dict[str, list[float]] = {name: [] for name in servers}
            print(f"usernameById, authenticated, {concurrency} concurrent clients, {rounds} rounds of {requests}")
            names = list(servers)
            for i in range(rounds):
                for name in names[i % 3 :] + names[: i % 3]:  # who goes first rotates
                    server = servers[name]
                    result = await drive(name, server, requests, concurrency, username_by_id)
                    assert result.failures == 0, f"{name}: {result.failures} failures"
                    throughput[name].append(len(result.latencies) / result.seconds)
                    cpu[name].append(result.cpu_ms / len(result.latencies))
                    print(f"  round {i + 1} {result.line()}")
            median = {name: statistics.median(values) for name, values in throughput.items()}
            for name in servers:
                print(
                    f"{name:<22} median {median[name]:>7.0f} req/s  "
                    f"server CPU {statistics.median(cpu[name]):.2f} ms/req  "
                    f"rounds {', '.join(f'{v:.0f}' for v in throughput[name])}"
                )
            cpu_median = {name: statistics.median(values) for name, values in cpu.items()}
            plain, observed, per_request = await engine_overhead(50_000)
            added = observed - plain + per_request
            print(
                f"metrics' own work, in process: engine flow {plain:.1f} -> {observed:.1f} µs, "
                f"request_completed {per_request:.2f} µs: about {added:.1f} µs per request, "
                f"{added / (cpu_median['metrics off'] * 1000):.2%} of the server's CPU per request"
            )
            off = "metrics off"
            for name in ("metrics on (default)", "metrics + tracing"):
                # Each round's ratio to its own "off" run: the apps took turns, so the
                # machine's changing load cancels within a round.
                ratio = statistics.median(a / b for a, b in zip(throughput[name], throughput[off], strict=True))
                cpu_ratio = statistics.median(a / b for a, b in zip(cpu[name], cpu[off], strict=True))
                print(
                    f"{name} / {off}, median of the rounds' ratios: throughput {ratio:.3f} ({1 - ratio:+.1%} cost), "
                    f"server CPU per request {cpu_ratio:.3f} ({cpu_ratio - 1:+.1%})"
                )
        finally:
            for server in servers.values():
                server.process.terminate()
                server.process.wait(timeout=15)
            receiver.terminate()
