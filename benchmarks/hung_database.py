"""How long requests take while the database hangs (its process stopped by SIGSTOP).

    .venv/bin/python -m benchmarks.hung_database [--clients 5]

Starts the embedded database and `python -m app` on it, registers a user, stops the
database process, then sends `--clients` concurrent `me` queries, a REST login and
/readyz. Prints each answer's code and time (the bound is pymongo's client-side
operation timeout, OPERATION_TIMEOUT_MS), then resumes the database and prints how
long the app took to serve `me` again.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import tempfile
import time
import uuid
from collections.abc import Awaitable
from pathlib import Path

import httpx

from app.database import EmbeddedDatabase

from .live import app_environment, start, wait_ready

REGISTER = (
    "mutation($u: String!, $p: String!) { register(username: $u, password: $p) { ... on AuthSuccess { session } } }"
)


async def timed(name: str, call: Awaitable[httpx.Response]) -> tuple[str, float, httpx.Response]:
    started = time.perf_counter()
    response = await call
    return name, time.perf_counter() - started, response


def code(response: httpx.Response) -> str:
    body = response.json()
    if "errors" in body:
        return ",".join(error["extensions"]["code"] for error in body["errors"])
    return str(body.get("code", response.status_code))


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory, EmbeddedDatabase(Path(directory) / "db") as database:
        server = start("app", "app", app_environment(database, f"hung_{uuid.uuid4().hex}", directory), database)
        try:
            await wait_ready(server)
            async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
                variables = {"u": "alice", "p": "correct horse"}
                body = (await http.post("/graphql", json={"query": REGISTER, "variables": variables})).json()
                token = body["data"]["register"]["session"]
                me = {"query": "{ me { id } }"}
                auth = {"Authorization": f"Bearer {token}"}
                os.kill(database.pid, signal.SIGSTOP)
                try:
                    calls = [
                        timed(f"me {n}", http.post("/graphql", json=me, headers=auth)) for n in range(args.clients)
                    ]
                    calls.append(
                        timed("rest login", http.post("/api/login", json={"username": "alice", "password": "x"}))
                    )
                    calls.append(timed("readyz", http.get("/readyz")))
                    results = await asyncio.gather(*calls)
                finally:
                    os.kill(database.pid, signal.SIGCONT)
                resumed = time.perf_counter()
                for _ in range(1000):
                    if (await http.post("/graphql", json=me, headers=auth)).json().get("data", {}).get("me"):
                        break
                    await asyncio.sleep(0.05)
                recovery = time.perf_counter() - resumed
        finally:
            server.process.terminate()
            server.process.wait()
    print(f"database stopped (SIGSTOP); {args.clients} concurrent `me`, a REST login, /readyz:")
    for name, seconds, response in results:
        print(f"  {name:<12} {response.status_code} {code(response):<22} {seconds * 1000:7.0f} ms")
    worst = max(seconds for _, seconds, _ in results)
    print(f"worst: {worst * 1000:.0f} ms (bound: 2000 ms)")
    print(f"after SIGCONT, `me` served again in {recovery * 1000:.0f} ms")


if __name__ == "__main__":
    asyncio.run(main())
