"""The concept/sync engine: concepts composed by when/where/then synchronizations."""

from .concepts import Secret
from .engine import Engine
from .errors import FlowError, SyncDeclarationError
from .frames import Frames
from .observers import Observer
from .records import ActionRecord, Flow
from .syncs import Sync, sync, syncs_in
from .tracing import Trace, redact
from .vars import Frame, Var

__all__ = [
    "ActionRecord",
    "Engine",
    "Flow",
    "FlowError",
    "Frame",
    "Frames",
    "Observer",
    "Secret",
    "Sync",
    "SyncDeclarationError",
    "Trace",
    "Var",
    "redact",
    "sync",
    "syncs_in",
]
