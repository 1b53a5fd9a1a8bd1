"""What a flood of huge request headers costs the server: its RSS before and after.

    .venv/bin/python -m benchmarks.header_flood [--mib 16] [--clients 4] [--root DIR]

Starts `python -m app` (from `--root`, default this checkout, with that checkout's
.venv) on the embedded database, then `--clients` connections at once each send a
POST /graphql whose Authorization header is `--mib` MiB. Prints the server's status
answers and its RSS before and after (the peak the kernel recorded, too). Run it with
`--root` at a checkout before the 16 KiB head bound to compare.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psutil

from .live import free_port

ROOT = Path(__file__).resolve().parents[1]


def rss_mib(pid: int) -> tuple[float, float]:
    """(current RSS, peak RSS) in MiB, of the process and its children (the workers)."""
    processes = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    current = peak = 0.0
    for process in processes:
        if "secantus" in " ".join(process.cmdline()).lower():
            continue
        current += process.memory_info().rss / 2**20
        with open(f"/proc/{process.pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    peak += int(line.split()[1]) / 1024
    return current, peak


async def flood(port: int, mib: int) -> str:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    body = b'{"query": "{ me { id } }"}'
    head = (
        b"POST /graphql HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nConnection: close\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\nAuthorization: Bearer "
    )
    try:
        writer.write(head + b"x" * (mib * 2**20) + b"\r\n\r\n" + body)
        await writer.drain()
    except ConnectionError:
        pass
    try:
        answer = await reader.read(200)
    except ConnectionError:
        answer = b""
    writer.close()
    return answer.split(b"\r\n", 1)[0].decode(errors="replace") or "(connection closed by the server)"


async def flood_all(port: int, mib: int, clients: int) -> list[str]:
    return await asyncio.gather(*(flood(port, mib) for _ in range(clients)))


def wait_healthy(port: int) -> None:
    for _ in range(400):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
                if sock.recv(100).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the server did not start")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=16)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--root", type=Path, default=ROOT)
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "PORT": str(port), "DATA_DIR": data, "LOG_LEVEL": "WARNING", "PYTHONPATH": str(args.root)}
        server = subprocess.Popen([str(args.root / ".venv/bin/python"), "-m", "app"], cwd=args.root, env=env)
        try:
            wait_healthy(port)
            before, _ = rss_mib(server.pid)
            answers = asyncio.run(flood_all(port, args.mib, args.clients))
            time.sleep(1)
            after, peak = rss_mib(server.pid)
        finally:
            server.terminate()
            server.wait()
    print(f"server: {args.root} ({args.clients} connections, {args.mib} MiB Authorization header each)")
    print(f"answers: {', '.join(sorted(set(answers)))}")
    print(f"RSS before {before:.1f} MiB, after {after:.1f} MiB (+{after - before:.1f}), peak {peak:.1f} MiB")


if __name__ == "__main__":
    main()
