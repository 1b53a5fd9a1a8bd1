"""`python -m app`: the embedded database (unless MONGODB_URL is set), then uvicorn."""

from __future__ import annotations

import logging
import os
from contextlib import ExitStack

import uvicorn

from app.database import EmbeddedDatabase
from app.settings import Settings, jwt_secret

from .application import configure_logging


def main() -> None:
    settings = Settings()
    configure_logging(settings.log_level)
    jwt_secret(settings)  # create the development key once, before any worker needs it
    with ExitStack() as stack:
        if settings.mongodb_url is None:
            database = stack.enter_context(EmbeddedDatabase.from_settings(settings))
            os.environ["MONGODB_URL"] = database.url  # the workers' settings read it
            logging.getLogger("app").info("embedded database at %s (data in %s)", database.url, settings.data_dir)
        uvicorn.run(
            "app.server.application:create_app",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            log_level=settings.log_level.lower(),
            access_log=False,
            log_config=None,
        )
