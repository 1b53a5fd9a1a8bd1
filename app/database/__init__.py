"""The database: connecting to it, and the embedded one for running without MongoDB."""

from .client import Client, connect, ping, unavailable
from .embedded import MEMORY, EmbeddedDatabase, EmbeddedDatabaseError, free_port

__all__ = [
    "MEMORY",
    "Client",
    "EmbeddedDatabase",
    "EmbeddedDatabaseError",
    "connect",
    "free_port",
    "ping",
    "unavailable",
]
