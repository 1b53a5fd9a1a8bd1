from .concept import Requesting
from .documents import RequestRecord
from .handler import RequestHandler, Response
from .journal import JournalPolicy, RequestJournal

__all__ = ["JournalPolicy", "RequestHandler", "RequestJournal", "RequestRecord", "Requesting", "Response"]
