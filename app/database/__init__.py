"""The database: connecting to it, and the embedded one for running without MongoDB."""

from .client import Client, connect, ping
from .embedded import DAEMON, MEMORY, EmbeddedDatabase, EmbeddedDatabaseError, find_daemon

__all__ = [
    "DAEMON",
    "MEMORY",
    "Client",
    "EmbeddedDatabase",
    "EmbeddedDatabaseError",
    "connect",
    "find_daemon",
    "ping",
]
