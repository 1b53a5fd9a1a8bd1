"""A minimal HTTP/1.1 keep-alive client for load runs.

The load generator shares the machine's two cores with the server and the database;
a general-purpose client (httpx) spends more CPU per request than the server under
test. This one sends prebuilt requests over persistent connections and reads
Content-Length responses: just enough for JSON POSTs to our own server.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlsplit


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str) -> None:
        self.reader, self.writer, self.host = reader, writer, host

    @classmethod
    async def open(cls, url: str) -> Connection:
        parts = urlsplit(url)
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        return cls(reader, writer, parts.netloc)

    async def post_json(self, path: str, body: Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        payload = json.dumps(body).encode()
        head = [f"POST {path} HTTP/1.1", f"Host: {self.host}", "Content-Type: application/json"]
        head += [f"{name}: {value}" for name, value in (headers or {}).items()]
        head.append(f"Content-Length: {len(payload)}")
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, json.loads(await self.reader.readexactly(length)) if length else None

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()
