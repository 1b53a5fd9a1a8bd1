"""ASGI middleware the app runs every HTTP request through: security headers, the
access log, and what a body must be (JSON, at most so large)."""
