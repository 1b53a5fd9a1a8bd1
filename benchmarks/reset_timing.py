"""Whether `requestPasswordReset` tells by its time if an address is an account's.

It always answers `{ok: true}`, and mails a link only to a verified address. This runs
the real app's request handler on an embedded database, mailing to a local SMTP catcher
(aiosmtpd; the sender runs in the same process, as it does in the server), and asks for
resets of three kinds of address, interleaved in a shuffled order each round so a busy
machine slows all alike: an account's verified address, an account's unverified one,
and one no account has. It prints each kind's latency (p50, p90, p99) and the ratios of
the medians to the unknown address's, and each kind's CPU per request (mean): the app's
event-loop thread (time.thread_time: the handler and the in-process sender, not the
catcher's thread) and the database's process (psutil), read around each request.

With `--compare`, a second app on the same database runs without the mail queued unsent
in place of the reset mail on the paths that send none (the RequestPasswordResetForNoOne
sync), and its requests are interleaved with the first's: what that write is for, measured.

    .venv/bin/python -m benchmarks.reset_timing [--requests 400] [--accounts 100] [--compare]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import secrets
import socket
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import psutil
from aiosmtpd.controller import Controller

from app.concepts import EmailAddresses
from app.database import EmbeddedDatabase
from app.parts import discover
from app.server import services
from app.settings import Settings

ORIGIN = {"client": "203.0.113.7", "userAgent": "benchmark/1.0"}
PATH = "/UserAuthentication/requestPasswordReset"
KINDS = ("verified", "unverified", "unknown")
STAND_IN = "RequestPasswordResetForNoOne"


class Catcher:
    """Takes every mail and forgets it."""

    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        return "250 OK"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def run(requests: int, accounts: int, compare: bool) -> None:
    catcher = Catcher()
    with socket.socket() as probe:  # a free port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    smtp = Controller(catcher, hostname="127.0.0.1", port=port)
    smtp.start()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        mongodb_db="bench",
        jwt_secret=secrets.token_urlsafe(48),
        argon2_memory_kib=1024,
        argon2_time_cost=1,
        smtp_url=f"smtp://127.0.0.1:{port}",  # type: ignore[arg-type]
        mail_from="Bench <no-reply@example.com>",
        throttle_email_resets=1_000_000,  # every request is counted and served, none refused
        throttle_address_resets=1_000_000,
        throttle_address_registrations=1_000_000,
    )
    sides = ["as served", f"without {STAND_IN}"] if compare else ["as served"]
    latency: dict[tuple[str, str], list[float]] = {(side, kind): [] for side in sides for kind in KINDS}
    cpu: dict[tuple[str, str], list[float]] = {(side, kind): [0.0, 0.0] for side in sides for kind in KINDS}
    try:
        with tempfile.TemporaryDirectory() as tmp, EmbeddedDatabase(Path(tmp) / "db") as database:
            parts = discover()
            apps = [await services.start(settings, database.url, services.assemble(settings, parts))]
            if compare:
                without = replace(parts, syncs=tuple(sync for sync in parts.syncs if sync.name != STAND_IN))
                apps.append(await services.start(settings, database.url, services.assemble(settings, without)))
            try:
                addresses = await accounts_with_addresses(apps[0], accounts)
                addresses["unknown"] = [f"nobody{n}@example.com" for n in range(accounts)]
                for app in apps:  # warm up every path
                    for kind in KINDS:
                        for address in addresses[kind][:20]:
                            await app.handler.handle(PATH, {"address": address, **ORIGIN})
                order = [(side, kind) for side in range(len(apps)) for kind in KINDS]
                daemon = psutil.Process(database.pid)
                for n in range(requests):
                    random.shuffle(order)
                    for side, kind in order:
                        address = addresses[kind][n % accounts]
                        database_cpu, thread_cpu = cpu_seconds(daemon), time.thread_time()
                        started = time.perf_counter()
                        answer = (await apps[side].handler.handle(PATH, {"address": address, **ORIGIN})).body
                        latency[sides[side], kind].append((time.perf_counter() - started) * 1000)
                        spent = cpu[sides[side], kind]
                        spent[0] += time.thread_time() - thread_cpu
                        spent[1] += cpu_seconds(daemon) - database_cpu
                        assert answer == {"ok": True}, answer
                mailed = catcher.count
            finally:
                for app in reversed(apps):  # the first last: Beanie is bound to the client started last
                    await app.close()
    finally:
        smtp.stop()
    print(f"requestPasswordReset through the app's handler: {requests} requests of each kind, interleaved")
    print(f"(embedded database, durable writes; mails sent meanwhile by the in-process senders: {mailed})")
    for side in sides:
        medians = {kind: statistics.median(latency[side, kind]) for kind in KINDS}
        print(side)
        for kind in KINDS:
            values = latency[side, kind]
            print(
                f"  {kind:<11} ms p50 {medians[kind]:7.3f}  p90 {percentile(values, 0.9):7.3f}  "
                f"p99 {percentile(values, 0.99):7.3f}  CPU ms app {cpu[side, kind][0] * 1000 / len(values):6.3f}  "
                f"database {cpu[side, kind][1] * 1000 / len(values):6.3f}"
            )
        for kind in ("verified", "unverified"):
            print(f"  p50 {kind}/unknown {medians[kind] / medians['unknown']:.3f}")


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


async def accounts_with_addresses(app: services.Services, count: int) -> dict[str, list[str]]:
    """`count` accounts with a verified address and `count` with an unverified one."""
    addresses = app.engine.concepts["EmailAddresses"]
    assert isinstance(addresses, EmailAddresses)
    found: dict[str, list[str]] = {"verified": [], "unverified": []}
    for n in range(2 * count):
        kind = "verified" if n % 2 == 0 else "unverified"
        credentials = {"username": f"bench{n}", "password": "password123", **ORIGIN}
        user = (await app.handler.handle("/UserAuthentication/register", credentials)).body["user"]
        address = f"bench{n}@example.com"
        await addresses.set(user=user, address=address)
        if kind == "verified":
            await addresses.verify(user=user, address=address)
        found[kind].append(address)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=400, help="requests of each kind")
    parser.add_argument("--accounts", type=int, default=100, help="accounts of each kind (addresses rotate)")
    parser.add_argument("--compare", action="store_true", help=f"also an app without {STAND_IN}")
    args = parser.parse_args()
    asyncio.run(run(args.requests, args.accounts, args.compare))


if __name__ == "__main__":
    main()
