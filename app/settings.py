"""The server's configuration: environment variables, optionally from a `.env` file.

Every field is read from the environment variable of the same name in upper case
(`MONGODB_URL` -> `mongodb_url`; matching is case-insensitive). Real environment
variables take precedence over `.env`.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections import Counter
from email.utils import parseaddr
from pathlib import Path
from typing import Annotated, Any, Literal, Self
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PositiveFloat,
    PositiveInt,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict, SettingsError

logger = logging.getLogger(__name__)

JWT_SECRET_MIN_BYTES = 32
"""HS256 keys shorter than the hash output (32 bytes) weaken the signature (RFC 7518 §3.2)."""

_DAY = 24 * 60 * 60

# Fields whose raw input must never appear in a validation error, not even in the
# structured `errors()`/`json()` (which `hide_input_in_errors` does not cover).
_REDACTED_FIELDS = frozenset({"jwt_secret", "jwt_secret_previous", "mongodb_url", "smtp_url"})


def _check_secret_length(value: SecretStr) -> SecretStr:
    # The message states the rule and the length only, never the value.
    length = len(value.get_secret_value().encode())
    if length < JWT_SECRET_MIN_BYTES:
        raise ValueError(
            f"must be at least {JWT_SECRET_MIN_BYTES} bytes (got {length}); "
            'generate one with: python -c "import secrets; print(secrets.token_urlsafe(64))"'
        )
    return value


JwtSecret = Annotated[SecretStr, AfterValidator(_check_secret_length)]

JWT_SECRET_MIN_BITS = 128
"""In production a key must look random: at least this many bits by `estimated_bits`."""


def estimated_bits(secret: str) -> float:
    """A key's entropy as its length times the Shannon entropy of its characters: a
    random key of 43 URL-safe characters has about 200 bits, one character repeated
    none, a word repeated to length little (`password` four times: 88)."""
    length = len(secret)
    return -sum(count * math.log2(count / length) for count in Counter(secret).values())


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _proxies(value: Any) -> Any:
    """A number of proxies, or a boolean: true is one, false none."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "on", "false", "no", "off"):
        return int(value.strip().lower() in ("true", "yes", "on"))
    return value


def _list(value: Any) -> Any:
    """A JSON list, or the comma-separated items people write at a shell."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                return json.loads(text)
            except json.JSONDecodeError:
                raise ValueError("must be a JSON list or comma-separated values") from None
        return [item.strip() for item in text.split(",") if item.strip()]
    return value


_WEBAUTHN = ("webauthn_rp_id", "webauthn_rp_name", "webauthn_origins")
_MAIL = ("mail_from", "verify_email_url", "reset_password_url")
"""What production needs set when it sends mail (their defaults are for development)."""

_DOMAIN = re.compile(r"(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*")
_WEB_ORIGIN = re.compile(r"(https?)://([a-z0-9.-]+)(:[0-9]{1,5})?")
_APP_ORIGIN = "android:apk-key-hash:"
"""An Android app's origin (its signing key's hash), which has no host to check."""


def webauthn_problem(rp_id: str, origins: list[str]) -> str | None:
    """What browsers would refuse about this relying party, said at start-up rather than
    at the first ceremony: an RP ID is a domain (never an address), and an origin is one
    a browser sends (scheme, host, port; no path), under the RP ID, and https except on
    localhost (browsers offer WebAuthn only in secure contexts)."""
    if not _DOMAIN.fullmatch(rp_id) or rp_id.replace(".", "").isdigit():
        return f"WEBAUTHN_RP_ID: must be a domain name such as example.com (not a URL or an IP address), got {rp_id!r}"
    for origin in origins:
        if origin.startswith(_APP_ORIGIN) and len(origin) > len(_APP_ORIGIN):
            continue
        web = _WEB_ORIGIN.fullmatch(origin)
        if web is None:
            return f"WEBAUTHN_ORIGINS: {origin!r} is not an origin (scheme://host[:port], no path or trailing slash)"
        scheme, host = web.group(1), web.group(2)
        if host != rp_id and not host.endswith("." + rp_id):
            return f"WEBAUTHN_ORIGINS: {origin} is not on WEBAUTHN_RP_ID ({rp_id}) or one of its subdomains"
        local = host == "localhost" or host.endswith(".localhost")
        if scheme == "http" and not local:
            return f"WEBAUTHN_ORIGINS: {origin} must be https (browsers offer passkeys over http only on localhost)"
    return None


def _origins(value: Any) -> Any:
    """A list of origins, web origins in lower case (as browsers send them)."""
    items = _list(value)
    if not isinstance(items, list):
        return items
    return [item.lower() if isinstance(item, str) and not item.startswith(_APP_ORIGIN) else item for item in items]


ANY_ORIGIN = "*"
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*")
_HOST = re.compile(r"[a-z0-9.-]+|[0-9a-f:.]*:[0-9a-f:.]*")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def web_origin(text: str) -> str:
    """An origin as browsers send it in `Origin` (scheme, host, optional port: lower case,
    without the scheme's default port or a trailing slash), or ValueError saying what an
    origin is. Browsers compare origins as strings, so `https://app.example/` or
    `https://App.example:443` as written would never match one and fail every preflight."""
    problem = ValueError(
        f"{text[:100]!r} is not an origin: scheme://host[:port], such as https://app.example.com or "
        "http://localhost:3000 (no path, query or credentials)"
    )
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise problem from None
    host = parts.hostname or ""
    if (
        not _SCHEME.fullmatch(parts.scheme)
        or not _HOST.fullmatch(host)
        or "@" in parts.netloc
        or parts.path not in ("", "/")
        or "?" in text
        or "#" in text
    ):
        raise problem
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{host}" + (f":{port}" if port not in (None, _DEFAULT_PORTS.get(parts.scheme)) else "")


def _cors_origins(value: list[str]) -> list[str]:
    """Each origin as browsers send it (see `web_origin`), or `*` for any; each once."""
    return list(dict.fromkeys(item if item == ANY_ORIGIN else web_origin(item) for item in map(str.strip, value)))


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


class Settings(BaseSettings):
    """All configuration; construct once at startup (`Settings()`)."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        hide_input_in_errors=True,
        use_attribute_docstrings=True,
    )

    # --- Database ---------------------------------------------------------------
    mongodb_url: str | None = Field(default=None, repr=False)
    """The MongoDB to use, a `mongodb://` or `mongodb+srv://` URL. Unset: the launcher runs the
    embedded database (SecantusDB) with its files in DATA_DIR, so a checkout runs with no MongoDB
    installed. Its `w` and `journal` options, if any, replace the durable write concern. Never
    printed: a URL may carry credentials."""
    mongodb_db: str = Field(default="concepts", min_length=1)
    """The database holding every concept's collections."""

    # --- Local state --------------------------------------------------------------
    data_dir: Path = Path(".data")
    """Where the embedded database's files (`db/`, `db.log`, `db.credentials`, `db.lock`) and the
    generated development JWT key live, relative to the working directory unless absolute;
    created 0700, files 0600. One instance at a time: a second `python -m app` on the same
    DATA_DIR stops at once with one line naming it and the first's pid (give each instance its
    own DATA_DIR and PORT)."""

    # --- Tokens -------------------------------------------------------------------
    jwt_secret: JwtSecret | None = None
    """The HS256 signing key, at least 32 bytes (in production also at least 128 bits of
    entropy). Unset: a random key generated once into DATA_DIR/jwt_secret (0600), with a
    warning: fine for development, wrong for production or several hosts."""
    jwt_secret_previous: JwtSecret | None = None
    """The key before the current one, still accepted when verifying, so the key can be rotated
    without logging everyone out."""
    jwt_issuer: str = Field(default="concept-auth", min_length=1)
    """The `iss` claim written and required, so tokens of other services don't pass."""
    session_ttl: PositiveInt = 7 * _DAY
    """Seconds a session lasts (7 days)."""
    sessions_per_user: PositiveInt = 100
    """Live sessions one user may have: a new session beyond ends their least recently used one."""
    session_cache: bool = True
    """Keep the sessions and usernames requests use in each process's memory, coherent through
    the database's change stream: a session revoked anywhere is refused everywhere within
    100 ms. `false`: every request reads them from the database."""
    session_cache_size: PositiveInt = 10_000
    """Sessions (and as many usernames, and tokens) one process keeps at most; the least
    recently used go first."""

    # --- Requests -----------------------------------------------------------------
    requesting_timeout: PositiveFloat = 10.0
    """Seconds a request waits for its flow to respond before it is answered with a timeout
    error, so a missing sync cannot hang a client; also how long a password change or an
    account deletion holds the credentials."""
    requesting_journal: Annotated[Literal["all", "default", "off"], BeforeValidator(_lower)] = "default"
    """Which answered requests are kept in `Requesting.requests`, for auditing and debugging:
    `default` keeps every failure (up to a rate per client address) and every request that
    changed state, and a sample of the successful reads; `all` keeps every request; `off` none."""
    requesting_sample_queries: float = Field(default=0.01, ge=0, le=1)
    """The share of successful reads kept under REQUESTING_JOURNAL=default (0 to 1)."""
    requesting_save_responses: bool | None = None
    """Deprecated: `false` means REQUESTING_JOURNAL=off (with a warning); use
    REQUESTING_JOURNAL instead."""
    requesting_ttl: PositiveInt = 7 * _DAY
    """Seconds stored requests are kept before they expire (bounds the collection's size)."""

    # --- Server -------------------------------------------------------------------
    log_level: Annotated[Literal["CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"], BeforeValidator(_upper)] = "INFO"
    """`CRITICAL`, `ERROR`, `WARNING`, `INFO` or `DEBUG` (any case). `DEBUG` adds the engine's
    trace, one line per action with secrets as `***` (pymongo and beanie stay at `INFO`: their
    debug lines hold documents)."""
    log_format: Literal["text", "json"] = "text"
    """`json`: every log line a JSON object (time, level, logger, message, pid, flow), for log
    pipelines; `text`: one line per record."""
    host: str = "127.0.0.1"
    """The address to listen on. Loopback by default: exposing the API on a network is a
    deliberate choice (`0.0.0.0` behind a proxy)."""
    port: int = Field(default=8000, ge=1, le=65535)
    """The port to listen on."""
    workers: PositiveInt = 1
    """Server processes; they share the database and the JWT key."""
    metrics: bool = True
    """Serve Prometheus metrics at GET /metrics (keep that path off the public internet);
    `false`: no such route."""
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    """Serve /metrics on this port (at HOST) and only there: PORT then answers 404 for it, and
    this port 404 for anything else, so the API's port can be published and the metrics' kept
    inside the network."""
    otel_exporter_otlp_endpoint: str | None = None
    """OpenTelemetry's standard variable, a collector's OTLP/HTTP address: every request and
    its flow's actions are exported as spans to `<endpoint>/v1/traces`. Unset: nothing is
    traced (the tracing code is not even imported)."""
    otel_service_name: str = Field(default="concept-auth", min_length=1)
    """The `service.name` the spans carry."""

    # --- Password hashing ---------------------------------------------------------
    argon2_memory_kib: int = Field(default=19456, ge=8)
    """Argon2id's memory cost. The defaults of the three are OWASP's minimum recommendation
    (19 MiB, t=2, p=1); raising them slows down every login and registration. Older hashes are
    upgraded at the next login."""
    argon2_time_cost: PositiveInt = 2
    """Argon2id's time cost (passes over the memory)."""
    argon2_parallelism: PositiveInt = 1
    """Argon2id's parallelism (lanes)."""

    # --- Abuse limits -------------------------------------------------------------------
    graphql_max_depth: PositiveInt = 10
    """Deepest selection a GraphQL operation may nest (introspection exempt; the schema needs 3)."""
    graphql_max_aliases: PositiveInt = 15
    """Aliases per operation: each alias can run a field (and a password hash) again."""
    graphql_max_tokens: PositiveInt = 2000
    """Lexical tokens per GraphQL document, checked before parsing the whole of it."""
    max_body_bytes: PositiveInt = 64 * 1024
    """Largest request body accepted (413 beyond)."""
    cors_origins: Annotated[list[str], NoDecode, BeforeValidator(_list), AfterValidator(_cors_origins)] = []
    """Browser origins allowed to call the API, comma-separated or a JSON list; none: same origin
    only. Each is an origin, scheme://host[:port] (`https://app.example.com`,
    `http://localhost:3000`), read as browsers send it (a trailing slash, capitals and the
    scheme's default port dropped); anything else stops the start. `*` allows every origin:
    warned about at start-up, refused in production."""
    trust_proxy: Annotated[int, Field(ge=0, le=10), BeforeValidator(_proxies)] = 0
    """How many proxies stand in front of the app, each appending the address it was reached
    from to X-Forwarded-For: the client address is the entry that many from the end (over every
    X-Forwarded-For line). `true` is 1; `false` (0): the socket's peer, and the header is ignored."""
    head_timeout: PositiveFloat = 10.0
    """Seconds a request's line and headers may take from their first byte (from the
    connection's start, for its first request): 408 and the connection closed beyond."""
    body_timeout: PositiveFloat = 10.0
    """Seconds in which a request body must send at least 1 KiB more, or end: 408 and the
    connection closed otherwise."""

    # --- Login throttling ------------------------------------------------------------------
    throttle_username_failures: PositiveInt = 5
    """Failed logins for one username (and failed old-password checks of `changePassword`, and
    wrong codes of `verifySecondFactor`, for one user) within the window before further attempts
    are refused (RATE_LIMITED)."""
    throttle_address_failures: PositiveInt = 50
    """Failed logins from one client address within the window (several users share addresses)."""
    throttle_address_registrations: PositiveInt = 20
    """Registrations from one client address within the window."""
    throttle_email_resets: PositiveInt = 3
    """Password reset requests for one email address within the window (beyond: answered
    the same, and no mail); and, counted apart, the verification links setEmail mails to
    one address (beyond: RATE_LIMITED, the address recorded but no new link mailed)."""
    throttle_address_resets: PositiveInt = 20
    """Password reset requests from one client address within the window (beyond: answered
    the same, and no mail)."""
    throttle_window: PositiveInt = 15 * 60
    """Seconds in a throttling window: time is cut into windows this long, aligned to the
    clock, and counts start again in each (refused attempts wait for the next)."""

    # --- Email -----------------------------------------------------------------------------
    smtp_url: SecretStr | None = None
    """How mail goes out: `smtp://[user:password@]host[:port]` (STARTTLS whenever the server
    offers it; port 587 unless given) or `smtps://...` (TLS from the first byte; port 465); user
    and password percent-encoded. Unset: mail is written to the log, or is off in production."""
    mail_from: str = "concept-auth <no-reply@localhost>"
    """The From of every mail, `Name <address>` or an address (also the envelope sender)."""
    mail_templates: Path | None = None
    """A directory of mail templates replacing the shipped ones of the same name."""
    verify_email_url: str | None = None
    """The link an email verification mail carries, `{token}` where its token goes (e.g.
    `https://app.example.com/verify?token={token}`). Unset: this server's GraphiQL with the
    mutation that takes the token (development)."""
    reset_password_url: str | None = None
    """The link a password reset mail carries, `{token}` where its token goes, as
    VERIFY_EMAIL_URL."""
    verify_email_ttl: PositiveInt = _DAY
    """Seconds an email verification link works (24 hours)."""
    reset_password_ttl: PositiveInt = 60 * 60
    """Seconds a password reset link works (1 hour)."""
    mail_give_up_after: PositiveInt = _DAY
    """Seconds after which a mail not yet sent is given up (and logged)."""

    # --- Passkeys (WebAuthn) ------------------------------------------------------------
    webauthn_rp_id: Annotated[str, BeforeValidator(_lower)] = "localhost"
    """The relying party's ID: the domain passkeys are bound to (`example.com` serves it and
    its subdomains). A domain, never an IP address: open the development server as
    http://localhost:8000 for passkeys. A passkey made for one RP ID never works for another."""
    webauthn_rp_name: str = Field(default="concept-auth", min_length=1, max_length=64)
    """The name some authenticators show and keep next to a passkey."""
    webauthn_origins: Annotated[list[str], NoDecode, BeforeValidator(_origins)] = []
    """The pages whose passkey ceremonies are accepted, comma-separated or a JSON list:
    `https://host[:port]` on WEBAUTHN_RP_ID or a subdomain (`http` only on localhost), or an
    Android app's `android:apk-key-hash:...`. Unset: `http://localhost:<PORT>`, the development
    server."""

    # --- Seeing what it does ----------------------------------------------------------
    production: bool = False
    """A production deployment (the Docker image sets it): JWT_SECRET, MONGODB_URL and the three
    WEBAUTHN_* are required, debugging aids refuse to start, and introspection, GraphiQL and the
    user directory are off."""
    graphql_introspection: bool | None = None
    """Answer introspection queries and suggest names ("Did you mean ...?") in errors. Unset:
    on, except in production (where clients generate code from schema.graphql instead)."""
    graphiql: bool | None = None
    """Serve GraphiQL to browsers at /graphql. Unset: on, except in production."""
    user_directory: bool | None = None
    """Let any signed-in user list every account (`allUsers`, REST `_getAllUsers`); off, they
    answer FORBIDDEN (UNAUTHENTICATED without a session), and looking one user up by id stays.
    Unset: on, except in production: a list of every username makes the per-username login
    throttling easy to aim at everyone."""
    strict_responses: bool | None = None
    """A second response to one request (two syncs answering one outcome: a bug) fails the
    request with INTERNAL_SERVER_ERROR, so the bug shows. Unset: on, except in production,
    where the second response is logged as an error and ignored."""
    debug_flows: bool = False
    """Show each request's flow: `extensions.flow` in GraphQL responses, `X-Flow-Id` on REST
    responses, and the recent flows at /flows. Inputs and outputs are shown with secrets as
    `***`, but they still reveal user data: refused in production. With WORKERS above 1 each
    worker shows only the flows it ran (warned at start-up)."""

    @field_validator("mongodb_url")
    @classmethod
    def _check_mongodb_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("mongodb://", "mongodb+srv://")):
            raise ValueError("must be a mongodb:// or mongodb+srv:// URL; unset it to use the embedded database")
        return value

    @field_validator("smtp_url")
    @classmethod
    def _check_smtp_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return value
        parts = urlsplit(value.get_secret_value())
        try:
            _ = parts.port
        except ValueError:
            raise ValueError("has a port that is not a number from 1 to 65535") from None
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(
                "must be smtp://[user:password@]host[:port] (STARTTLS when offered) or smtps://... (TLS from the start)"
            )
        return value

    @field_validator("verify_email_url", "reset_password_url")
    @classmethod
    def _check_link(cls, value: str | None) -> str | None:
        if value is None:
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or value.count("{token}") != 1:
            raise ValueError("must be an http(s) URL with `{token}` once, where the token goes")
        return value

    @field_validator("mail_from")
    @classmethod
    def _check_mail_from(cls, value: str) -> str:
        address = parseaddr(value)[1]
        if "@" not in address or any(character in value for character in "\r\n"):
            raise ValueError("must be an email address, as `Name <address>` or the address alone")
        return value

    @field_validator("mail_templates")
    @classmethod
    def _check_mail_templates(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError("must be a directory (of mail templates)")
        return value

    @model_validator(mode="after")
    def _check_metrics_port(self) -> Self:
        if self.metrics_port is not None and self.metrics_port == self.port:
            raise ValueError("METRICS_PORT must differ from PORT (unset it to serve /metrics on PORT)")
        return self

    @model_validator(mode="after")
    def _check_debug_flows(self) -> Self:
        if self.debug_flows and self.production:
            raise ValueError("DEBUG_FLOWS cannot be enabled when PRODUCTION is set")
        return self

    @model_validator(mode="after")
    def _read_save_responses(self) -> Self:
        if self.requesting_save_responses is not None:
            logger.warning("REQUESTING_SAVE_RESPONSES is deprecated: set REQUESTING_JOURNAL=all|default|off instead")
            if not self.requesting_save_responses and "requesting_journal" not in self.model_fields_set:
                self.requesting_journal = "off"
        return self

    @model_validator(mode="after")
    def _check_production(self) -> Self:
        if not self.production:
            return self
        problems = []
        missing = [name for name in ("jwt_secret", "mongodb_url") if getattr(self, name) is None]
        if missing:
            problems.append(
                f"PRODUCTION is set, so {_and([name.upper() for name in missing])} must be set too "
                "(a generated key and the embedded database are for development)"
            )
        for name in ("jwt_secret", "jwt_secret_previous"):
            key: SecretStr | None = getattr(self, name)
            if key is not None and estimated_bits(key.get_secret_value()) < JWT_SECRET_MIN_BITS:
                problems.append(
                    f"PRODUCTION is set, so {name.upper()} must be a random key: it has under "
                    f"{JWT_SECRET_MIN_BITS} bits of entropy (its length times the Shannon entropy of its "
                    "characters; a repeated character or word has little); "
                    'generate one with: python -c "import secrets; print(secrets.token_urlsafe(64))"'
                )
        if ANY_ORIGIN in self.cors_origins:
            problems.append(
                "PRODUCTION is set, so CORS_ORIGINS cannot be * (any web site could call the API from its "
                "visitors' browsers): list the origins of your front ends, such as https://app.example.com"
            )
        unset = [name.upper() for name in _WEBAUTHN if name not in self.model_fields_set]
        if unset:
            problems.append(
                f"PRODUCTION is set, so {_and(unset)} must be set too (passkeys are bound to your "
                "site's domain; the defaults are for a development server on localhost)"
            )
        unset = [name.upper() for name in _MAIL if self.smtp_url is not None and name not in self.model_fields_set]
        if unset:
            problems.append(
                f"PRODUCTION and SMTP_URL are set, so {_and(unset)} must be set too (the defaults are for "
                "development: a sender at localhost, links to this server's GraphiQL)"
            )
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @model_validator(mode="after")
    def _check_webauthn(self) -> Self:
        problem = webauthn_problem(self.webauthn_rp_id, self.webauthn_accepted_origins)
        if problem:
            raise ValueError(problem)
        return self

    @property
    def webauthn_accepted_origins(self) -> list[str]:
        """WEBAUTHN_ORIGINS, or the development server's origin when unset."""
        return self.webauthn_origins or [f"http://localhost:{self.port}"]

    @property
    def introspection_enabled(self) -> bool:
        return not self.production if self.graphql_introspection is None else self.graphql_introspection

    @property
    def strict_responses_enabled(self) -> bool:
        return not self.production if self.strict_responses is None else self.strict_responses

    @property
    def graphiql_enabled(self) -> bool:
        return not self.production if self.graphiql is None else self.graphiql

    @property
    def user_directory_enabled(self) -> bool:
        return not self.production if self.user_directory is None else self.user_directory

    @model_validator(mode="after")
    def _check_argon2(self) -> Self:
        # Argon2 needs at least 8 KiB of memory per lane.
        if self.argon2_memory_kib < 8 * self.argon2_parallelism:
            raise ValueError("ARGON2_MEMORY_KIB must be at least 8 * ARGON2_PARALLELISM")
        return self

    @model_validator(mode="wrap")
    @classmethod
    def _redact_errors(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        try:
            return handler(data)
        except ValidationError as error:
            details: list[InitErrorDetails] = []
            for line in error.errors():
                detail = InitErrorDetails(type=line["type"], loc=line["loc"], input=line["input"])
                if line["loc"] and line["loc"][0] in _REDACTED_FIELDS:
                    detail["input"] = "**********"
                if "ctx" in line:
                    detail["ctx"] = line["ctx"]
                details.append(detail)
            raise ValidationError.from_exception_data(error.title, details, hide_input=True) from None


class ConfigurationError(Exception):
    """Settings that cannot work; its message is one line per problem, no traceback needed."""


def load_settings() -> Settings:
    """`Settings()`, with any invalid value reported as a ConfigurationError."""
    try:
        return Settings()
    except ValidationError as error:
        raise ConfigurationError("\n".join(_describe(line) for line in error.errors())) from None
    except SettingsError as error:
        raise ConfigurationError(str(error)) from None


def _describe(line: Any) -> str:
    """`NAME: what is wrong`, naming the environment variable and never its value."""
    message = str(line["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    fields = [str(part) for part in line["loc"] if isinstance(part, str)]
    return f"{fields[0].upper()}: {message}" if fields else message


class SettingsView(BaseModel):
    """What one part of the app reads of the settings, declared as a model of those fields
    (same names and types as in Settings) and copied from Settings when the app is wired:
    a concept's `create(settings: ItsView)` gets its view, and nothing else."""

    model_config = ConfigDict(frozen=True, from_attributes=True)
