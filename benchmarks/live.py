"""Live servers for the load runs: processes on loopback, their CPU and memory."""

from __future__ import annotations

import asyncio
import os
import secrets
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

import psutil

from app.database import EmbeddedDatabase, free_port

from .http_client import Connection

PASSWORD = "correct horse battery"


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    url: str
    database_pid: int

    def cpu_seconds(self) -> float:
        times = psutil.Process(self.process.pid).cpu_times()
        return float(times.user + times.system)

    def rss_mb(self) -> float:
        return float(psutil.Process(self.process.pid).memory_info().rss) / 2**20


def start(name: str, module: str, env: dict[str, str], database: EmbeddedDatabase) -> Server:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", module], env={**env, "PORT": str(port)})
    return Server(name, process, f"http://127.0.0.1:{port}", database.pid)


async def wait_ready(server: Server) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = await Connection.open(server.url)
            await connection.close()
            return
        except OSError:
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{server.name} did not start")


async def gql(connection: Connection, query: str, token: str | None = None, **variables: object) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    status, body = await connection.post_json("/graphql", {"query": query, "variables": variables}, headers)
    if status != 200 or body.get("errors"):
        raise RuntimeError(f"{status}: {body}")
    return body["data"]  # type: ignore[no-any-return]


def cpu_seconds(pid: int | None = None) -> float:
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def app_environment(database: EmbeddedDatabase, db_name: str, data_dir: str) -> dict[str, str]:
    """The environment of a server under load: our database, a fixed key, quiet logs."""
    return {
        **os.environ,
        "MONGODB_URL": database.url,
        "MONGODB_DB": db_name,
        "JWT_SECRET": secrets.token_urlsafe(48),
        "DATA_DIR": data_dir,
        "LOG_LEVEL": "WARNING",
        "THROTTLE_ADDRESS_REGISTRATIONS": "1000000",  # the load runs register thousands of users
    }


def percentiles(latencies: list[float]) -> tuple[float, float]:
    """(p50, p99) of a list of latencies."""
    if len(latencies) < 2:
        return latencies[0], latencies[0]
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return cuts[49], cuts[98]
