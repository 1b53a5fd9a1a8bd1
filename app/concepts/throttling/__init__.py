from .concept import Limit, Throttling
from .documents import Attempts

__all__ = ["Attempts", "Limit", "Throttling"]
