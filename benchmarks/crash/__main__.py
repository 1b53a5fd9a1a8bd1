"""`python -m benchmarks.crash`: the crash checker.

A mixed workload (register, login, logout, revoke a session, log out everywhere else,
changePassword, deleteAccount) from several clients against `python -m app` with its
embedded database. At a random moment of each round the database process is killed
(SIGKILL), or, in the second mode, the app process (which takes its embedded database
with it); once the server is back, every operation of the round is checked against
what its client was told: accounts exist, ended sessions stay ended, changed passwords
hold, deleted accounts stay deleted, no session outlives its credentials. After the
last kill every account is checked again. It prints, per kind of operation, how many
were acknowledged, verified, lost and half done (and how many got no answer), then
what durable writes cost: logins/s and authenticated reads/s with and without them.

    .venv/bin/python -m benchmarks.crash [--kill database|app|both] [--kills 20] [--clients 8]
        [--database embedded|external] [--writes durable|fast] [--no-cost] [--seed N] [--root DIR]

`--writes fast` (with `--database external`: the embedded database always gets durable
writes) runs the same against an app told `w=1&journal=false`: the checker then finds
the writes a crash loses. `--root DIR` runs the app of another checkout (e.g. main
before a change). Exit status 1 if anything was lost or half done.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Literal

import httpx

from .. import durability
from .model import DESCRIPTIONS, Account, Ledger
from .target import LEASE, Target
from .verify import NoAnswer, check
from .workload import Client

Kill = Literal["database", "app"]
RESTART_EVERY = 5
"""Database kills per run of the app: a supervisor waits longer before each restart of
a database that keeps dying (0.5 s, 1 s, 2 s, ...), so the app is started afresh now and then."""
ROUND = (0.3, 3.0)
"""Seconds of workload before the kill, drawn uniformly."""


async def check_all(url: str, accounts: list[Account]) -> None:
    """Check the accounts, one client's at a time per connection; again if the server
    was not answering (it has just come back)."""
    for attempt in range(5):
        try:
            async with httpx.AsyncClient(base_url=url, timeout=30.0) as http:
                for account in accounts:
                    await check(http, account)
            return
        except NoAnswer:
            if attempt == 4:
                raise
            await asyncio.sleep(1.0)


async def one_round(target: Target, clients: list[Client], kill: Kill, rng: random.Random) -> str:
    stop = asyncio.Event()
    running = [asyncio.create_task(client.run(target.url, stop)) for client in clients]
    delay = rng.uniform(*ROUND)
    await asyncio.sleep(delay)
    victim, killed = target.kill(kill), time.monotonic()
    stop.set()
    await asyncio.gather(*running)
    await asyncio.to_thread(target.recover, kill, victim)
    back = time.monotonic() - killed
    touched = [account for client in clients for account in client.touched]
    for client in clients:
        client.touched.clear()
    if any(account.pending_password or account.pending_deletion for account in touched):
        await asyncio.sleep(LEASE + 1)  # an unfinished change holds the credentials until then
    await check_all(target.url, touched)
    return f"after {delay:.2f} s of workload, back in {back:.1f} s, {len(touched)} accounts checked"


async def run_mode(args: argparse.Namespace, kill: Kill, rng: random.Random) -> tuple[Ledger, int]:
    ledger = Ledger()
    clients = [Client(n, ledger, rng) for n in range(args.clients)]
    with tempfile.TemporaryDirectory(prefix="crash-") as tmp:
        target = Target(Path(tmp), args.database, args.writes, root=args.root)
        where = "its embedded database" if args.database == "embedded" else "a SecantusDB named by MONGODB_URL"
        which = f" (the app of {args.root})" if args.root else ""
        writes = f"{args.writes} writes" if args.root is None else "writes as that checkout makes them"
        print(
            f"\nkilling the {kill} process {args.kills} times: python -m app{which} with {where}, "
            f"{writes}, {args.clients} clients"
        )
        started = time.monotonic()
        try:
            target.start()
            for number in range(1, args.kills + 1):
                if kill == "database" and args.database == "embedded" and number % RESTART_EVERY == 1 < number:
                    target.restart_app()
                before = len(ledger.ops)
                line = await one_round(target, clients, kill, rng)
                new = ledger.ops[before:]
                answered = sum(op.answered for op in new)
                bad = sum(op.verdict in ("lost", "half-done") for op in new)
                print(f"  kill {number:>2}: {answered} acknowledged, {len(new) - answered} unanswered, {line}", end="")
                print(f"; {bad} lost or half done" if bad else "")
            await check_all(target.url, [account for client in clients for account in client.accounts])
        finally:
            target.stop()
        print(f"  {time.monotonic() - started:.0f} s; every account checked again after the last kill")
    return ledger, sum(client.refused for client in clients)


def print_table(ledger: Ledger, refused: int) -> int:
    """The per-kind table; the number of operations lost or half done."""
    columns = ("acknowledged", 13), ("verified", 10), ("lost", 6), ("half-done", 11), ("unanswered", 12)
    print(f"  {'operation':<16}" + "".join(f"{name:>{width}}" for name, width in columns) + "  checked")
    totals = [0, 0, 0, 0, 0]
    for kind, *figures in ledger.table():
        totals = [a + b for a, b in zip(totals, figures, strict=True)]
        acknowledged, verified, lost, half, unanswered = figures
        print(f"  {kind:<16}{acknowledged:>13}{verified:>10}{lost:>6}{half:>11}{unanswered:>12}  {DESCRIPTIONS[kind]}")
    print(f"  {'total':<16}{totals[0]:>13}{totals[1]:>10}{totals[2]:>6}{totals[3]:>11}{totals[4]:>12}")
    if ledger.unchecked():
        print(f"  {ledger.unchecked()} acknowledged operations could not be checked")
    if refused:
        print(f"  {refused} operations were refused although the client expected them to work (a sign of a loss)")
    return totals[2] + totals[3]


async def main(args: argparse.Namespace) -> int:
    rng = random.Random(args.seed)
    modes: list[Kill] = ["database", "app"] if args.kill == "both" else [args.kill]
    failures = 0
    for kill in modes:
        ledger, refused = await run_mode(args, kill, rng)
        failures += print_table(ledger, refused) + refused
    if args.cost:
        print(
            f"\nthe cost of durable writes: logins (authenticate) and authenticated reads (usernameById) per second, "
            f"apps taking turns, {args.cost_rounds} rounds, default argon2"
        )
        durability.report(await durability.measure(args.cost_rounds, 8, 1000, show=lambda _: None))
    print(f"\n{'FAIL' if failures else 'PASS'}: {failures} operations lost or half done")
    return 1 if failures else 0


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.crash", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--kill", choices=["database", "app", "both"], default="both")
    parser.add_argument("--kills", type=int, default=20, help="kills per mode")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--database", choices=["embedded", "external"], default="embedded")
    parser.add_argument("--writes", choices=["durable", "fast"], default="durable")
    parser.add_argument("--cost", action=argparse.BooleanOptionalAction, default=True, help="measure the cost after")
    parser.add_argument("--cost-rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--root", type=Path, help="run the app of the checkout in this directory instead")
    args = parser.parse_args(argv)
    if args.writes == "fast" and args.database == "embedded":
        parser.error("--writes fast needs --database external (the embedded database always gets durable writes)")
    return args


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse())))
