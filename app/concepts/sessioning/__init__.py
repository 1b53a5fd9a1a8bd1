from .concept import Sessioning
from .documents import Session
from .tokens import TokenCodec

__all__ = ["Session", "Sessioning", "TokenCodec"]
