from .concept import Requesting
from .documents import RequestRecord

__all__ = ["RequestRecord", "Requesting"]
