from .concept import Limit, Throttling
from .documents import Failures

__all__ = ["Failures", "Limit", "Throttling"]
