"""`python -m app`: the server (embedded database unless MONGODB_URL is set, then uvicorn),
or `python -m app syncs|graph|routes|schema` to see the syncs it runs, the routes they
answer and the GraphQL schema, or `python -m app docs` to write the generated pages of
the documentation."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import tempfile
from contextlib import ExitStack

import uvicorn
from pydantic import SecretStr
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from app.concepts.mailing import MailingSettings
from app.concepts.mailing import templates as mail_templates
from app.database import EmbeddedDatabase, EmbeddedDatabaseError, Supervisor, unreachable
from app.keys import jwt_secret
from app.observability.logs import configure_logging
from app.observability.metrics import MULTIPROCESS_DIR
from app.parts import discover
from app.settings import ANY_ORIGIN, ConfigurationError, Settings, load_settings
from app.views import reference, specs

from .services import assemble


def serve() -> None:
    """Run the server: the embedded database if MONGODB_URL is unset (else check that its
    database answers), then uvicorn."""
    settings = load_settings()
    mail_templates(MailingSettings.model_validate(settings))  # a bad template stops us before anything starts
    configure_logging(settings.log_level, settings.log_format)
    with ExitStack() as stack:
        if settings.mongodb_url is None:
            database = stack.enter_context(EmbeddedDatabase.from_settings(settings))
            stack.enter_context(Supervisor(database, settings.data_dir / "db.down"))
            os.environ["MONGODB_URL"] = database.url  # the workers' settings read it
            logging.getLogger("app").info("embedded database at %s (data in %s)", database.address, settings.data_dir)
        elif problem := unreachable(settings.mongodb_url):
            instead = "" if settings.production else " (or unset it, and the embedded database runs instead)"
            raise ConfigurationError(f"MONGODB_URL: {problem}; check the URL and that the database runs{instead}")
        jwt_secret(settings)  # create the development key once, before any worker needs it
        announce(settings)
        if settings.metrics and settings.workers > 1 and not os.environ.get(MULTIPROCESS_DIR):
            # Each worker writes its figures here; a scrape of any of them adds up all.
            os.environ[MULTIPROCESS_DIR] = stack.enter_context(tempfile.TemporaryDirectory(prefix="metrics-"))
        # uvicorn re-raises the SIGTERM it caught once it has shut down; exit through
        # Python instead of dying of the signal, so the embedded database is stopped.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
        run_uvicorn(settings)


def run_uvicorn(settings: Settings) -> None:
    """uvicorn on PORT, and with METRICS_PORT on that port too (for /metrics only, which
    the app answers by the port a request came in on): one server, one set of workers."""
    config = uvicorn.Config(
        "app.server.application:app_from_environment",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level=settings.log_level.lower(),
        access_log=False,
        server_header=False,
        http="app.server.http:BoundedHeadProtocol",
        # The client address is the socket's peer unless TRUST_PROXY says how many
        # proxies to look through (app.api.context): uvicorn's own reading of
        # X-Forwarded-For trusts any client on loopback and takes its first line only.
        proxy_headers=False,
        log_config=None,
    )
    sockets = [config.bind_socket()]
    if settings.metrics and settings.metrics_port is not None:
        metrics = uvicorn.Config(config.app, host=settings.host, port=settings.metrics_port, log_config=None)
        sockets.append(metrics.bind_socket())
    server = uvicorn.Server(config)
    if config.workers > 1:
        Multiprocess(config, sockets=sockets).run()
    else:
        server.run(sockets=sockets)
        if not server.started:
            sys.exit(STARTUP_FAILURE)


LOCAL_ADDRESSES = frozenset({"127.0.0.1", "::1", "0.0.0.0", "::", "localhost"})


def browsed_host(settings: Settings) -> str:
    """The host to open the server at: `localhost` when it listens there and passkeys are
    for localhost (the development default), since an RP ID is a domain and a page on
    127.0.0.1 can never use its passkeys; else HOST."""
    if settings.host in LOCAL_ADDRESSES and settings.webauthn_rp_id == "localhost":
        return "localhost"
    return settings.host


def announce(settings: Settings) -> None:
    """Say where the API is, and what a setting does not do across workers."""
    log = logging.getLogger("app")
    origin = f"http://{browsed_host(settings)}:{settings.port}"
    graphiql = (
        f"GraphiQL at {origin}/graphql in a browser" if settings.graphiql_enabled else "GraphiQL off (production)"
    )
    log.info("GraphQL at %s/graphql; REST at %s/api/...; %s", origin, origin, graphiql)
    if ANY_ORIGIN in settings.cors_origins:
        log.warning(
            "CORS_ORIGINS is *: any web site may call the API from its visitors' browsers; list the origins "
            "of your front ends instead (scheme://host[:port]); production refuses *"
        )
    if settings.debug_flows and settings.workers > 1:
        log.warning(
            "DEBUG_FLOWS with WORKERS=%d: each worker keeps only the flows it ran, so /flows shows one "
            "worker's flows and a flow id from another worker is not found; use WORKERS=1 to debug flows",
            settings.workers,
        )


def show(what: str, fmt: str) -> None:
    """Print the GraphQL schema (SDL), the registered syncs as specifications, their
    wiring diagram, or the routes; or write the generated documentation pages."""
    placeholder = SecretStr("not a key: nothing is signed when printing")
    settings = load_settings().model_copy(update={"jwt_secret": placeholder})
    assembly = assemble(settings, discover())
    if what == "schema":
        from app.api.schema import build_schema  # the server never needs it printed

        print(build_schema(assembly.parts, assembly.coverages).as_str())
    elif what == "routes":
        print(specs.describe_routes(assembly.coverages), end="")
    elif what == "graph":
        print(specs.wiring_diagram(assembly.engine), end="")
    elif what == "docs":
        for path, text in reference.pages(Settings, assembly.engine, assembly.coverages).items():
            stale = not path.exists() or path.read_text(encoding="utf-8") != text
            if stale:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
            print(f"{path}: {'written' if stale else 'up to date'}")
    elif fmt == "markdown":
        print(specs.markdown(assembly.engine), end="")
    else:
        print(specs.specifications(assembly.engine), end="")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m app", description="The concept-auth server.")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="run the server (the default)")
    printing = commands.add_parser("syncs", help="print every registered sync as a specification")
    printing.add_argument("--format", choices=["text", "markdown"], default="text")
    commands.add_parser("graph", help="print the wiring diagram (Mermaid)")
    commands.add_parser("schema", help="print the GraphQL schema (SDL), as schema.graphql holds it")
    commands.add_parser("routes", help="print every route: its inputs, where it is exposed, the syncs that answer it")
    commands.add_parser(
        "docs", help="write the generated documentation pages (settings, error codes, syncs) under ./docs"
    )
    args = parser.parse_args(argv)
    try:
        if args.command in (None, "serve"):
            serve()
        else:
            show(args.command, getattr(args, "format", "text"))
    except (ConfigurationError, EmbeddedDatabaseError) as error:
        # A setting or a missing program, not a bug: the reason, without a traceback.
        for line in str(error).splitlines():
            print(f"python -m app: {line}", file=sys.stderr)
        sys.exit(2)
