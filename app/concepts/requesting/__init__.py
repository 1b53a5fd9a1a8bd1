from .concept import Requesting
from .documents import RequestRecord
from .handler import RequestHandler, Response
from .journal import RequestJournal

__all__ = ["RequestHandler", "RequestJournal", "RequestRecord", "Requesting", "Response"]
