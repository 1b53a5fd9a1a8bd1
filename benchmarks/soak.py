"""Soak: many authenticated `{ me }` queries against `python -m app`, in chunks, to see
whether memory or throughput drift as requests pile up.

Starts the app as users do (`python -m app`, embedded database, a fresh DATA_DIR),
registers a user, and sends its queries from N keep-alive clients. After each chunk
it prints the app's RSS, the database's RSS and the chunk's requests/s; then whether
the targets hold: app RSS growth < 10 MB, database RSS growth < 20 MB per 50k
queries, last chunk's requests/s >= 90% of the first's (all measured after the
warm-up). The journal runs with the app's default unless --journal says otherwise.

    .venv/bin/python -m benchmarks.soak [--requests 100000] [--chunks 10] [--concurrency 16]
        [--warmup 2000] [--journal all|default|off]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psutil
from pymongo import AsyncMongoClient

from app.database import free_port
from app.database.credentials import Credentials

from .http_client import Connection
from .live import PASSWORD, Server, gql, wait_ready
from .load import REGISTER, drive

ME = "{ me { id username } }"
DB_NAME = "soak"
APP_GROWTH_MB = 10.0
DATABASE_GROWTH_MB_PER_50K = 20.0
THROUGHPUT_RATIO = 0.9


@dataclass
class Chunk:
    requests: int
    app_mb: float
    database_mb: float
    per_second: float
    failures: int


def rss_mb(pid: int) -> float:
    return float(psutil.Process(pid).memory_info().rss) / 2**20


def database_process(app_pid: int) -> psutil.Process:
    """The embedded database the launcher started: its child that is `secantusd`."""
    for child in psutil.Process(app_pid).children(recursive=True):
        if "secantus" in " ".join(child.cmdline()).lower():
            return child
    raise RuntimeError("the app started no embedded database")


def database_url(database: psutil.Process, data_dir: str) -> str:
    """The embedded database's URL, signed in with the credentials the app generated."""
    ports = [c.laddr.port for c in database.net_connections("tcp") if c.status == psutil.CONN_LISTEN]
    credentials = Credentials.read(Path(data_dir) / "db.credentials")
    assert credentials is not None, "the app generated no credentials for its database"
    return credentials.url("127.0.0.1", min(ports))


def start_app(data_dir: str, journal: str | None) -> Server:
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("MONGODB_", "REQUESTING_", "DEBUG_"))}
    env |= {
        "DATA_DIR": data_dir,
        "MONGODB_DB": DB_NAME,
        "JWT_SECRET": secrets.token_urlsafe(48),
        "LOG_LEVEL": "WARNING",
        "PORT": str(port),
    }
    if journal is not None:
        env["REQUESTING_JOURNAL"] = journal
    process = subprocess.Popen([sys.executable, "-m", "app"], env=env)
    return Server("app", process, f"http://127.0.0.1:{port}", database_pid=0)


async def journal_size(url: str) -> tuple[int, float]:
    """(records, average BSON bytes) of Requesting.requests."""
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(url)
    try:
        stats = await client[DB_NAME].command("collStats", "Requesting.requests")
        return int(stats.get("count", 0)), float(stats.get("avgObjSize", 0) or 0)
    finally:
        await client.close()


def verdict(name: str, value: str, ok: bool) -> bool:
    print(f"  {'PASS' if ok else 'FAIL'}  {name}: {value}")
    return ok


def judge(results: list[Chunk], start_app_mb: float, start_database_mb: float) -> bool:
    """Print each target's figure and verdict; whether all of them hold."""
    first, last = results[0], results[-1]
    app_growth = last.app_mb - start_app_mb
    database_growth = (last.database_mb - start_database_mb) * 50_000 / last.requests
    ratio = last.per_second / first.per_second
    failures = sum(chunk.failures for chunk in results)
    print("targets:")
    passed = [
        verdict("app RSS growth", f"{app_growth:+.1f} MB (< {APP_GROWTH_MB:.0f})", app_growth < APP_GROWTH_MB),
        verdict(
            "database RSS growth per 50k queries",
            f"{database_growth:+.1f} MB (< {DATABASE_GROWTH_MB_PER_50K:.0f})",
            database_growth < DATABASE_GROWTH_MB_PER_50K,
        ),
        verdict(
            "last chunk's req/s / first's",
            f"{last.per_second:.0f} / {first.per_second:.0f} = {ratio:.2f} (>= {THROUGHPUT_RATIO})",
            ratio >= THROUGHPUT_RATIO,
        ),
        verdict("failed queries", str(failures), failures == 0),
    ]
    print("PASS" if all(passed) else "FAIL")
    return all(passed)


async def soak(requests: int, chunks: int, concurrency: int, warmup: int, journal: str | None) -> bool:
    with tempfile.TemporaryDirectory() as data_dir:
        app = start_app(data_dir, journal)
        try:
            await wait_ready(app)
            database = database_process(app.process.pid)
            app.database_pid = database.pid
            setup = await Connection.open(app.url)
            token = (await gql(setup, REGISTER, u="soak_user", p=PASSWORD))["register"]["session"]
            await setup.close()

            async def me(connection: Connection, _: int) -> object:
                data = await gql(connection, ME, token)
                assert data["me"]["username"] == "soak_user", data
                return data

            await drive("warm-up", app, warmup, concurrency, me)
            await asyncio.sleep(1)  # the journal's last batch
            start_app_mb, start_database_mb = rss_mb(app.process.pid), rss_mb(database.pid)
            print(
                f"soak: {requests} authenticated `me` queries in {chunks} chunks, {concurrency} clients, "
                f"journal {journal or 'unset (default)'}; after {warmup} warm-up queries: "
                f"app {start_app_mb:.1f} MB, database {start_database_mb:.1f} MB"
            )
            print(f"{'chunk':>5} {'queries':>8} {'app RSS MB':>11} {'db RSS MB':>10} {'req/s':>7} {'failures':>8}")
            results: list[Chunk] = []
            size = requests // chunks
            for number in range(1, chunks + 1):
                result = await drive(f"chunk {number}", app, size, concurrency, me)
                chunk = Chunk(
                    number * size,
                    rss_mb(app.process.pid),
                    rss_mb(database.pid),
                    len(result.latencies) / result.seconds,
                    result.failures,
                )
                results.append(chunk)
                print(
                    f"{number:>5} {chunk.requests:>8} {chunk.app_mb:>11.1f} {chunk.database_mb:>10.1f} "
                    f"{chunk.per_second:>7.0f} {chunk.failures:>8}"
                )
            await asyncio.sleep(1)
            records, average = await journal_size(database_url(database, data_dir))
            print(f"journal: {records} records, {average:.0f} B each on average (BSON)")
            return judge(results, start_app_mb, start_database_mb)
        finally:
            app.process.terminate()
            app.process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--chunks", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--warmup", type=int, default=2000, help="queries before the first measurement")
    parser.add_argument("--journal", choices=["all", "default", "off"], help="REQUESTING_JOURNAL (default: unset)")
    args = parser.parse_args()
    ok = asyncio.run(soak(args.requests, args.chunks, args.concurrency, args.warmup, args.journal))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
