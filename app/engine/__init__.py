"""The concept/sync engine: concepts composed by when/where/then synchronizations."""

from .concepts import Secret
from .engine import Engine
from .errors import FlowError, SyncDeclarationError
from .observers import Observer
from .plan import Plan
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
    "Observer",
    "Plan",
    "Secret",
    "Sync",
    "SyncDeclarationError",
    "Trace",
    "Var",
    "redact",
    "sync",
    "syncs_in",
]
