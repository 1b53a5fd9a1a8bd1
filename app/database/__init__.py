"""The database: connecting to it, and the embedded one for running without MongoDB."""

from .client import Client, connect, ping, unavailable, unreachable
from .embedded import MEMORY, EmbeddedDatabase, EmbeddedDatabaseError, free_port
from .supervisor import Supervisor, embedded_database_down
from .write_concern import cheap

__all__ = [
    "MEMORY",
    "Client",
    "EmbeddedDatabase",
    "EmbeddedDatabaseError",
    "Supervisor",
    "cheap",
    "connect",
    "embedded_database_down",
    "free_port",
    "ping",
    "unavailable",
    "unreachable",
]
