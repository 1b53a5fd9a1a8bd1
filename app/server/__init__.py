"""The server: the Starlette app, its services, and the `python -m app` launcher."""
