"""GraphiQL served by this server from pinned, vendored files: it works with no internet."""

from .page import CONTENT_SECURITY_POLICY, page
from .static import routes

__all__ = ["CONTENT_SECURITY_POLICY", "page", "routes"]
