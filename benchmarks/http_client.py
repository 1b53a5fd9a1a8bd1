"""A minimal HTTP/1.1 keep-alive client for load runs.

The load generator shares the machine's two cores with the server and the database;
a general-purpose client (httpx) spends more CPU per request than the server under
test. This one sends prebuilt requests over persistent connections and reads
Content-Length responses: just enough for JSON APIs on loopback.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlencode, urlsplit


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str) -> None:
        self.reader, self.writer, self.host = reader, writer, host

    @classmethod
    async def open(cls, url: str) -> Connection:
        parts = urlsplit(url)
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        return cls(reader, writer, parts.netloc)

    async def post_json(self, path: str, body: Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        return await self.request("POST", path, json.dumps(body).encode(), "application/json", headers)

    async def post_form(self, path: str, fields: dict[str, str]) -> tuple[int, Any]:
        return await self.request("POST", path, urlencode(fields).encode(), "application/x-www-form-urlencoded")

    async def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        return await self.request("GET", path, None, None, headers)

    async def request(
        self,
        method: str,
        path: str,
        payload: bytes | None,
        content_type: str | None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        """One request; its status and its JSON body (None if it has none)."""
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}"]
        if payload is not None:
            head += [f"Content-Type: {content_type}", f"Content-Length: {len(payload)}"]
        head += [f"{name}: {value}" for name, value in (headers or {}).items()]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + (payload or b""))
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
