"""Side by side with the peer: authenticated "who am I" here and in FastAPI-Users.

The peer (FastAPI + FastAPI-Users on Beanie, a database-token strategy and a JWT
strategy) is started from a scratch copy of the folder given, by its own start.sh,
with argon2 at our cost (PEER_ARGON2=owasp) on its own SecantusDB on disk; this
project runs `python -m app` on its own SecantusDB on disk, as the embedded one. Each
contender is driven alone by the same keep-alive clients, round after round (the order
rotates each round), and the table adds up the rounds: requests/s, p50/p99 latency,
and the CPU its app process and its database process spent per request.

    .venv/bin/python -m benchmarks.peer --peer /work/shared/peers/fastapi-users \\
        [--peer-venv DIR] [--rounds 5] [--requests 3000] [--concurrency 16] \\
        [--cache-off] [--before DIR] [--logins]

--peer-venv: an existing virtualenv with the peer's requirements (else one is made in
the scratch copy from its requirements.lock.txt). --cache-off adds this project with
SESSION_CACHE=off; --before DIR adds the app of the checkout in DIR (e.g. a worktree
of main); --logins adds a login row per server (argon2 at the same cost).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from app.database import EmbeddedDatabase, free_port

from .http_client import Connection
from .live import PASSWORD, app_environment, gql, percentiles

ME = "{ me { id username } }"
REGISTER = """mutation($u: String!, $p: String!) {
  register(username: $u, password: $p) { __typename ... on AuthSuccess { user { id } session } }
}"""
AUTHENTICATE = """mutation($u: String!, $p: String!) {
  authenticate(username: $u, password: $p) { __typename ... on AuthSuccess { session } }
}"""
GOAL = 1.1
"""GraphQL `{ me }` at least this many times the JWT peer's requests/s (issue 26)."""
JWT_PEER = "FastAPI-Users, JWT (cannot be revoked)"
OURS = "this project, GraphQL `{ me }`"
REST = "this project, REST `_getUsernameById`"
LOGIN = "this project, login (`authenticate`)"

Call = Callable[[Connection, int], Awaitable[bool]]


@dataclass
class Processes:
    """A server under test: where it answers, and the processes whose CPU it costs."""

    url: str
    app_pid: int
    database_pid: int

    def app_cpu(self) -> float:
        """The app's CPU seconds: its process and every child but the database."""
        process = psutil.Process(self.app_pid)
        processes = [process, *(p for p in process.children(recursive=True) if p.pid != self.database_pid)]
        return sum(cpu_seconds(p) for p in processes)

    def database_cpu(self) -> float:
        return cpu_seconds(psutil.Process(self.database_pid))


def cpu_seconds(process: psutil.Process) -> float:
    try:
        times = process.cpu_times()
    except psutil.NoSuchProcess:
        return 0.0
    return float(times.user + times.system)


@dataclass
class Contender:
    name: str
    server: Processes
    call: Call
    requests: int
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    app_cpu: float = 0.0
    database_cpu: float = 0.0
    failures: int = 0
    rounds: list[float] = field(default_factory=list)
    """Requests/s of each round."""

    def row(self) -> str:
        p50, p99 = percentiles(self.latencies)
        count = len(self.latencies)
        return (
            f"| {self.name} | {count / self.seconds:.0f} | {p50:.1f} | {p99:.1f} | "
            f"{self.app_cpu * 1000 / count:.2f} | {self.database_cpu * 1000 / count:.2f} | {self.failures} |"
        )


async def drive(contender: Contender, concurrency: int) -> float:
    """One round: the contender's requests from `concurrency` keep-alive clients; its requests/s."""
    numbers = itertools.count()
    latencies: list[float] = []
    failures = 0
    connections = [await Connection.open(contender.server.url) for _ in range(concurrency)]

    async def client(connection: Connection) -> None:
        nonlocal failures
        while (i := next(numbers)) < contender.requests:
            started = time.perf_counter()
            try:
                ok = await contender.call(connection, i)
            except Exception:
                ok = False
            latencies.append((time.perf_counter() - started) * 1000)
            failures += not ok

    app_cpu, database_cpu = contender.server.app_cpu(), contender.server.database_cpu()
    started = time.perf_counter()
    await asyncio.gather(*(client(connection) for connection in connections))
    seconds = time.perf_counter() - started
    contender.app_cpu += contender.server.app_cpu() - app_cpu
    contender.database_cpu += contender.server.database_cpu() - database_cpu
    for connection in connections:
        await connection.close()
    contender.latencies += latencies
    contender.seconds += seconds
    contender.failures += failures
    contender.rounds.append(len(latencies) / seconds)
    return len(latencies) / seconds


async def ready(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = await Connection.open(url)
        except OSError:
            await asyncio.sleep(0.2)
            continue
        await connection.close()
        return
    raise RuntimeError(f"nothing answers at {url}")


# -- this project ---------------------------------------------------------------------


@contextmanager
def our_app(name: str, tmp: Path, extra: dict[str, str], root: Path | None = None) -> Iterator[Processes]:
    """`python -m app` (of the checkout in `root`, if given) on a database of its own."""
    data = tmp / name
    data.mkdir()
    with EmbeddedDatabase(data / "db") as database:
        env = {**app_environment(database, "bench", str(data)), **extra}
        for setting in ("ARGON2_MEMORY_KIB", "ARGON2_TIME_COST", "ARGON2_PARALLELISM", "WORKERS"):
            env.pop(setting, None)  # the defaults, as the peer runs with PEER_ARGON2=owasp and one worker
        port = free_port()
        env["PORT"] = str(port)
        if root is not None:
            env["PYTHONPATH"] = str(root)
        process = subprocess.Popen([sys.executable, "-m", "app"], env=env, cwd=root)
        try:
            yield Processes(f"http://127.0.0.1:{port}", process.pid, database.pid)
        finally:
            process.terminate()
            process.wait(timeout=15)


async def our_calls(server: Processes, concurrency: int, tag: str) -> dict[str, Call]:
    """The calls against one of our apps: `{ me }`, REST `_getUsernameById`, a login."""
    setup = await Connection.open(server.url)
    data = await gql(setup, REGISTER, u=f"reader_{tag}", p=PASSWORD)
    user, token = data["register"]["user"]["id"], data["register"]["session"]
    # One user per client for the logins: a username's attempts in flight are throttled.
    for k in range(concurrency):
        await gql(setup, REGISTER, u=f"login_{tag}_{k}", p=PASSWORD)
    await setup.close()
    bearer = {"Authorization": f"Bearer {token}"}
    by_id = {"session": token, "user": user}

    async def me(connection: Connection, _: int) -> bool:
        status, body = await connection.post_json("/graphql", {"query": ME}, bearer)
        return status == 200 and body["data"]["me"]["id"] == user

    async def username_by_id(connection: Connection, _: int) -> bool:
        status, body = await connection.post_json("/api/UserAuthentication/_getUsernameById", by_id)
        return status == 200 and body == {"username": f"reader_{tag}"}

    async def login(connection: Connection, i: int) -> bool:
        variables = {"u": f"login_{tag}_{i % concurrency}", "p": PASSWORD}
        status, body = await connection.post_json("/graphql", {"query": AUTHENTICATE, "variables": variables})
        return status == 200 and body["data"]["authenticate"]["__typename"] == "AuthSuccess"

    return {"me": me, "rest": username_by_id, "login": login}


# -- the peer ---------------------------------------------------------------------------


@contextmanager
def peer(folder: Path, venv: Path | None, tmp: Path) -> Iterator[Processes]:
    """The peer, started by its own start.sh from a scratch copy of `folder`."""
    copy = tmp / "peer"
    shutil.copytree(folder, copy, ignore=shutil.ignore_patterns(".venv", "data", "pids", "*.log"))
    copy.chmod(copy.stat().st_mode | stat.S_IWUSR)  # the folder may be read-only
    if venv is None and (folder / ".venv").is_dir():
        venv = folder / ".venv"
    if venv is not None:
        (copy / ".venv").symlink_to(venv.resolve(), target_is_directory=True)
    else:
        print("making the peer's virtualenv from its requirements.lock.txt ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(copy / ".venv")], check=True)
        pip = [str(copy / ".venv" / "bin" / "pip"), "install", "-q"]
        subprocess.run([*pip, "-r", str(copy / "requirements.lock.txt")], check=True)
    port = free_port()
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith(("MONGODB_", "PEER_"))},
        "PORT": str(port),
        "PEER_ARGON2": "owasp",
        "PEER_FRESH": "1",
    }
    subprocess.run([str(copy / "start.sh")], env=env, check=True, stdout=subprocess.DEVNULL)
    try:
        database_pid, app_pid = (int(line) for line in (copy / "pids").read_text().split())
        yield Processes(f"http://127.0.0.1:{port}", app_pid, database_pid)
    finally:
        subprocess.run([str(copy / "stop.sh")], env=env, check=False, stdout=subprocess.DEVNULL)


async def peer_calls(server: Processes, concurrency: int) -> dict[str, Call]:
    """The calls against the peer: `/jwt/users/me`, `/db/users/me`, a JWT login."""
    setup = await Connection.open(server.url)
    users = [f"user{k}@example.com" for k in range(concurrency + 1)]
    for email in users:
        status, _ = await setup.post_json("/auth/register", {"email": email, "password": PASSWORD})
        assert status == 201, f"the peer did not register {email}: {status}"
    tokens = {}
    for backend in ("jwt", "db"):
        status, body = await setup.post_form(f"/auth/{backend}/login", {"username": users[0], "password": PASSWORD})
        assert status == 200, f"the peer's {backend} login answered {status}"
        tokens[backend] = {"Authorization": f"Bearer {body['access_token']}"}
    await setup.close()

    def me(backend: str) -> Call:
        async def call(connection: Connection, _: int) -> bool:
            status, body = await connection.get(f"/{backend}/users/me", tokens[backend])
            return status == 200 and body["email"] == users[0]

        return call

    async def login(connection: Connection, i: int) -> bool:
        fields = {"username": users[1 + i % concurrency], "password": PASSWORD}
        status, body = await connection.post_form("/auth/jwt/login", fields)
        return status == 200 and "access_token" in body

    return {"jwt": me("jwt"), "db": me("db"), "login": login}


# -- the run -----------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-peer-") as name, ExitStack() as stack:
        tmp = Path(name)
        servers = {"ours": stack.enter_context(our_app("ours", tmp, {}))}
        if args.cache_off:
            servers["off"] = stack.enter_context(our_app("off", tmp, {"SESSION_CACHE": "off"}))
        if args.before is not None:
            servers["before"] = stack.enter_context(our_app("before", tmp, {}, args.before.resolve()))
        servers["peer"] = stack.enter_context(peer(args.peer, args.peer_venv, tmp))
        calls = {}
        for key, server in servers.items():
            await ready(server.url)
            calls[key] = (
                await peer_calls(server, args.concurrency)
                if key == "peer"
                else await our_calls(server, args.concurrency, key)
            )
        n = args.requests
        contenders = [Contender(OURS, servers["ours"], calls["ours"]["me"], n)]
        if args.cache_off:
            contenders.append(Contender(f"{OURS}, SESSION_CACHE=off", servers["off"], calls["off"]["me"], n))
        before = f"before ({args.before.name})" if args.before is not None else ""
        if args.before is not None:
            contenders.append(Contender(f"{OURS}, {before}", servers["before"], calls["before"]["me"], n))
        contenders.append(Contender(REST, servers["ours"], calls["ours"]["rest"], n))
        if args.before is not None:
            contenders.append(Contender(f"{REST}, {before}", servers["before"], calls["before"]["rest"], n))
        contenders += [
            Contender("FastAPI-Users, database tokens (revocable)", servers["peer"], calls["peer"]["db"], n),
            Contender(JWT_PEER, servers["peer"], calls["peer"]["jwt"], n),
        ]
        if args.logins:
            light = max(n // 10, 50)
            contenders.append(Contender(LOGIN, servers["ours"], calls["ours"]["login"], light))
            if args.before is not None:
                contenders.append(Contender(f"{LOGIN}, {before}", servers["before"], calls["before"]["login"], light))
            contenders.append(Contender("FastAPI-Users, login (JWT)", servers["peer"], calls["peer"]["login"], light))
        for contender in contenders:  # warm-up: connections, caches, JIT-less Python's first calls
            await drive(Contender(contender.name, contender.server, contender.call, 300), args.concurrency)
        print(
            f'authenticated "who am I": {args.rounds} rounds of {n} requests per contender, '
            f"{args.concurrency} clients, each contender alone, the order rotating; SecantusDB on disk for each server"
        )
        for i in range(args.rounds):
            turn = contenders[i % len(contenders) :] + contenders[: i % len(contenders)]
            figures = [f"{await drive(c, args.concurrency):.0f} ({c.name})" for c in turn]
            print(f"  round {i + 1}, req/s: " + ", ".join(figures), flush=True)
        report(contenders)


def report(contenders: list[Contender]) -> None:
    print()
    print('| authenticated "who am I" | req/s | p50 ms | p99 ms | app CPU ms/req | DB CPU ms/req | failures |')
    print("|---|---|---|---|---|---|---|")
    for contender in contenders:
        print(contender.row())
    ours = next(c for c in contenders if c.name == OURS)
    jwt = next(c for c in contenders if c.name == JWT_PEER)
    ratio = (len(ours.latencies) / ours.seconds) / (len(jwt.latencies) / jwt.seconds)
    rounds = [a / b for a, b in zip(ours.rounds, jwt.rounds, strict=True)]
    p99_ours, p99_jwt = percentiles(ours.latencies)[1], percentiles(jwt.latencies)[1]
    print()
    for contender in contenders:
        if contender is not jwt and "login" not in contender.name:
            each = (len(contender.latencies) / contender.seconds) / (len(jwt.latencies) / jwt.seconds)
            print(f"{contender.name} / JWT peer: {each:.2f}x req/s")
    print(f"GraphQL `{{ me }}` / JWT peer by round: {', '.join(f'{r:.2f}' for r in rounds)}")
    met = ratio >= GOAL and p99_ours <= p99_jwt and not ours.failures
    print(
        f"goal (>= {GOAL}x the JWT peer's req/s, p99 no worse): {ratio:.2f}x, p99 {p99_ours:.1f} ms against "
        f"{p99_jwt:.1f} ms: {'met' if met else 'NOT met'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peer", type=Path, required=True, help="the peer's folder (copied, never changed)")
    parser.add_argument("--peer-venv", type=Path, help="an existing virtualenv with the peer's requirements")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=3000, help="requests per contender per round")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--cache-off", action="store_true", help="add this project with SESSION_CACHE=off")
    parser.add_argument("--before", type=Path, help="add the app of the checkout in this directory")
    parser.add_argument("--logins", action="store_true", help="add a login row for this project and the peer")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
