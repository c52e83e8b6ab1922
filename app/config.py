"""Settings: read once from `CPMS_*` environment variables into one object."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from urllib.parse import SplitResult, urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "CPMS_"


class LogLevel(StrEnum):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class LogFormat(StrEnum):
    AUTO = "auto"  # JSON when stderr is not a terminal, readable text when it is
    JSON = "json"
    TEXT = "text"


class Settings(BaseSettings):
    """Everything the service can be configured with; see README for the table."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    database_url: str = Field(
        default="sqlite:///cpms.sqlite3",
        description="sqlite:///relative/path, sqlite:////absolute/path or postgresql://…",
    )
    redis_url: str | None = Field(
        default=None, description="redis://… for the scale-out bus; unset: in-memory bus"
    )
    redis_prefix: str | None = Field(
        default=None,
        max_length=64,
        pattern=r"^[\w.-]+$",
        description="starts every Redis key and channel, beside the database number",
    )
    host: str = Field(default="127.0.0.1", min_length=1)
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=256)
    node_id: str = Field(default="node-1", min_length=1, max_length=64, pattern=r"^[\w.-]+$")
    log_level: LogLevel = LogLevel.INFO
    log_format: LogFormat = LogFormat.AUTO
    db_pool_min_size: int = Field(default=2, ge=1, le=1000)
    db_pool_max_size: int = Field(default=20, ge=1, le=1000)
    graphiql: bool = True
    anonymous_introspection: bool = Field(
        default=True,
        description="let callers without a credential introspect the schema and see "
        "'Did you mean' suggestions (the schema is published anyway; keys always may)",
    )
    metrics_token: str | None = Field(
        default=None, description="when set, GET /metrics needs `Authorization: Bearer <it>`"
    )
    command_timeout_s: float = Field(
        default=30.0, gt=0, le=600, description="how long to wait for a station's answer"
    )
    message_log_retention_days: float = Field(
        default=7, gt=0, le=3650, description="how long raw OCPP frames are kept"
    )
    login_token_ttl_hours: float = Field(
        default=720, gt=0, le=24 * 366, description="how long a login token stays valid"
    )
    max_request_bytes: int = Field(
        default=1_048_576,
        ge=65_536,
        le=1_073_741_824,
        description="the largest HTTP request body and websocket message read, in bytes",
    )
    max_document_chars: int = Field(
        default=32_768,
        ge=1_024,
        le=10_485_760,
        description="the longest GraphQL document parsed, in characters (comments included)",
    )
    outbound_allow_private: bool = Field(
        default=False,
        description="let URLs that tenants and partners set use http and reach this machine "
        "or private networks (tests and closed networks only)",
    )
    credential_recheck_s: float = Field(
        default=60,
        ge=1,
        le=3600,
        description="per node: seconds between checks of every open API websocket's credential "
        "(a safety net: revocations on this installation close them at once)",
    )
    auth_max_failures: int = Field(
        default=10,
        ge=1,
        le=10_000,
        description="per account and per station identity: failed credential checks within "
        "CPMS_AUTH_FAILURE_WINDOW_S before further attempts are locked out",
    )
    auth_address_max_failures: int = Field(
        default=50,
        ge=1,
        le=1_000_000,
        description="per source address: failed credential checks within "
        "CPMS_AUTH_FAILURE_WINDOW_S before its attempts are locked out (higher: many users "
        "or stations may share one address)",
    )
    auth_failure_window_s: float = Field(
        default=300, gt=0, le=86_400, description="how long a failed credential check counts"
    )
    auth_lockout_s: float = Field(
        default=300,
        gt=0,
        le=86_400,
        description="how long a locked-out account, station identity or address is refused",
    )
    security_event_retention_days: float = Field(
        default=90, gt=0, le=3650, description="how long stations' security events are kept"
    )
    ocpp_frames_per_s: float = Field(
        default=100,
        gt=0,
        le=100_000,
        description="per station: frames read per second beyond a burst of 5 s worth",
    )
    ocpp_admissions_at_once: int = Field(
        default=32,
        ge=1,
        le=10_000,
        description="per node: station connections admitted (database work) at the same time",
    )
    ocpp_admission_wait_s: float = Field(
        default=10,
        gt=0,
        le=300,
        description="per node: a connection waiting longer for its turn is refused (retry later)",
    )
    ocpp_ping_interval_s: float = Field(
        default=50,
        ge=5,
        le=3600,
        description="per station: seconds between the server's websocket pings (dead-link check)",
    )
    ws_compression: bool = Field(
        default=True,
        description="offer permessage-deflate on websockets (about 40 KiB per connection)",
    )
    station_ca_cert_file: Path | None = Field(
        default=None,
        description="PEM certificate of the CA that signs stations' client certificates "
        "(SignCertificate); unset: stations' signing requests are rejected",
    )
    station_ca_key_file: Path | None = Field(
        default=None, description="the station CA's private key (PEM, unencrypted)"
    )
    station_certificate_days: int = Field(
        default=365, ge=1, le=3650, description="how long a station certificate we sign is valid"
    )
    tls_cert_file: Path | None = Field(
        default=None,
        description="`cpms serve` terminates TLS with this certificate chain (PEM); unset: "
        "plain http and ws (TLS at a proxy)",
    )
    tls_key_file: Path | None = Field(default=None, description="the TLS certificate's key (PEM)")
    tls_client_ca_file: Path | None = Field(
        default=None,
        description="with TLS: CA certificates (PEM) that stations' client certificates are "
        "checked against (security profile 3); unset: no client certificates are asked for",
    )
    ocpp_dry_run: bool = Field(
        default=False,
        description="benchmarks only: answer stations without storing anything",
    )
    stripe_secret_key: str | None = Field(
        default=None, description="Stripe secret key; unset: payments are disabled"
    )
    stripe_webhook_secret: str | None = Field(
        default=None, description="signing secret of the /webhooks/stripe endpoint"
    )
    stripe_api_base: str | None = Field(
        default=None, description="another Stripe API address, e.g. a localstripe for tests"
    )
    preauth_amount_minor: int = Field(
        default=5000,
        gt=0,
        le=1_000_000,
        description="ad hoc charging: amount held on the card before the start (minor units)",
    )
    registration_organization: str | None = Field(
        default=None,
        description="slug of the organization whose policy decides about unknown stations",
    )
    public_url: str | None = Field(
        default=None,
        description="the address partners reach this installation at, e.g. "
        "https://cpms.example.com: the base of every URL handed to roaming partners (OCPI "
        "versions, endpoints); unset: http://<CPMS_HOST>:<CPMS_PORT>",
    )
    ocpi_timeout_s: float = Field(
        default=15, gt=0, le=120, description="how long one call to a roaming partner may take"
    )
    ocpi_page_limit: int = Field(
        default=1000,
        ge=10,
        le=10_000,
        description="the most objects an OCPI list answer holds (X-Limit); partners page on",
    )
    ocpi_authorize_timeout_s: float = Field(
        default=5,
        gt=0,
        le=30,
        description="how long a roaming partner may take to answer a real-time authorization "
        "of its token (a station waits for the answer); slower counts as unreachable",
    )
    ocpi_session_update_s: float = Field(
        default=60,
        ge=0.5,
        le=3600,
        description="how often at most a running session's kWh and cost are sent to the "
        "partner whose token charges (its start and end go at once)",
    )
    balancing_interval_s: float = Field(
        default=2,
        ge=0.2,
        le=60,
        description="how often each site with a grid capacity or a demand response event has "
        "its capacity shared out again among the EVs charging there (a session that starts or "
        "ends is balanced within about this long, plus the stations' answers)",
    )
    local_list_interval_s: float = Field(
        default=60,
        ge=0.5,
        le=3600,
        description="how often stations' local authorization lists are brought up to date "
        "with the tokens of partners whose tokens go in them (a token that changed reaches "
        "every connected station within about this long)",
    )
    local_list_items_per_message: int = Field(
        default=100,
        ge=1,
        le=10_000,
        description="the most tokens one SendLocalList carries (a longer list goes out in "
        "several); keep it at or under the stations' SendLocalListMaxLength",
    )
    ocpi_token_pull_s: float = Field(
        default=900,
        ge=0.5,
        le=86_400,
        description="how often the tokens of partners that list them (OCPI tokens sender) "
        "are pulled for what changed since the last pull (all of them after each "
        "registration); a token a partner pushes arrives at once regardless",
    )
    ocpi_max_pulled_tokens: int = Field(
        default=5_000_000,
        ge=1_000,
        le=100_000_000,
        description="the most tokens one pull from a partner reads; a list that goes on "
        "longer (or comes round again) is a failed pull",
    )
    ocpi_max_hub_parties: int = Field(
        default=10_000,
        ge=1,
        le=1_000_000,
        description="the most parties kept per roaming hub from what it tells (hub client "
        "info); a hub telling about a new one beyond is answered OCPI 2000",
    )
    ocpi_max_response_bytes: int = Field(
        default=16_777_216,
        ge=65_536,
        le=1_073_741_824,
        description="the largest answer read from a roaming partner, in bytes",
    )
    cors_origins: str = Field(
        default="",
        description="comma-separated origins of browser apps allowed to call the API "
        "(CORS), e.g. https://dashboard.example.com; empty: none",
    )
    import_max_lines: int = Field(
        default=1000, ge=1, le=100_000, description="importStations: stations per request"
    )

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme == "sqlite":
            if not parts.path or parts.path == "/":
                raise ValueError("sqlite URL needs a file path, e.g. sqlite:///cpms.sqlite3")
            return value
        if parts.scheme in ("postgresql", "postgres"):
            if not parts.hostname and "host=" not in parts.query:
                raise ValueError("postgresql URL needs a host, e.g. postgresql://user@host/db")
            _check_port(parts)
            return value
        raise ValueError(
            f"unsupported scheme {parts.scheme!r}; use sqlite:///path or postgresql://host/db"
        )

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("redis", "rediss", "unix"):
            raise ValueError(f"unsupported scheme {parts.scheme!r}; use redis://host:port/db")
        if parts.scheme != "unix" and not parts.hostname:
            raise ValueError("redis URL needs a host, e.g. redis://127.0.0.1:6379/0")
        _check_port(parts)
        return value

    @model_validator(mode="after")
    def _check_pool(self) -> Settings:
        if self.db_pool_min_size > self.db_pool_max_size:
            raise ValueError(
                f"{ENV_PREFIX}DB_POOL_MIN_SIZE: must not exceed {ENV_PREFIX}DB_POOL_MAX_SIZE"
            )
        return self

    @model_validator(mode="after")
    def _check_workers(self) -> Settings:
        # Workers share stations, subscriptions and leases only through PostgreSQL and Redis.
        if self.workers > 1 and (self.is_sqlite or self.redis_url is None):
            raise ValueError(
                f"{ENV_PREFIX}WORKERS: more than one worker needs PostgreSQL "
                "(CPMS_DATABASE_URL) and Redis (CPMS_REDIS_URL): SQLite and the in-memory bus "
                "serve one process"
            )
        return self

    @model_validator(mode="after")
    def _check_pairs(self) -> Settings:
        pairs = (("station_ca_cert_file", "station_ca_key_file"), ("tls_cert_file", "tls_key_file"))
        for first, second in pairs:
            if (getattr(self, first) is None) != (getattr(self, second) is None):
                raise ValueError(
                    f"{ENV_PREFIX}{first.upper()} and {ENV_PREFIX}{second.upper()} are set together"
                )
        if self.tls_client_ca_file is not None and self.tls_cert_file is None:
            raise ValueError(
                f"{ENV_PREFIX}TLS_CLIENT_CA_FILE: client certificates need TLS "
                f"({ENV_PREFIX}TLS_CERT_FILE and {ENV_PREFIX}TLS_KEY_FILE)"
            )
        return self

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
            raise ValueError("an http(s) URL without a query, e.g. https://cpms.example.com")
        _check_port(parts)
        return value.strip().rstrip("/")

    @property
    def public_base_url(self) -> str:
        """Where partners reach this installation (no trailing slash)."""
        if self.public_url:
            return self.public_url
        host = f"[{self.host}]" if ":" in self.host else self.host
        scheme = "https" if self.tls_cert_file is not None else "http"
        return f"{scheme}://{host}:{self.port}"

    @property
    def cors_origin_list(self) -> list[str]:
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]

    @property
    def is_sqlite(self) -> bool:
        return urlsplit(self.database_url).scheme == "sqlite"

    @property
    def sqlite_path(self) -> Path:
        """The SQLite file: `sqlite:///a.db` is relative, `sqlite:////srv/a.db` absolute."""
        return Path(urlsplit(self.database_url).path[1:])

    @property
    def bus_url(self) -> str:
        return self.redis_url or "memory://"


def redis_namespace(redis_url: str | None, prefix: str | None = None) -> str:
    """What every Redis channel and key of an installation starts with: its optional prefix
    and the database number of its Redis URL. Pub/sub channels ignore the database number, so
    without this two installations on one Redis would hear each other."""
    head = f"{prefix}:" if prefix else ""
    if not redis_url or redis_url.startswith("memory"):
        return head
    parts = urlsplit(redis_url)
    database = parts.path.strip("/") or "0"
    for pair in parts.query.split("&"):
        name, _, value = pair.partition("=")
        if name == "db" and value:
            database = value
    return f"{head}db{database}:"


def _check_port(parts: SplitResult) -> None:
    # Reading .port raises ValueError("Port out of range 0-65535") for a bad one.
    if parts.hostname and parts.port == 0:
        raise ValueError("port 0 is not a valid port")


class SettingsError(Exception):
    """Invalid configuration, with a one-line message naming the variable."""


def load_settings(**overrides: object) -> Settings:
    """Read the environment (plus explicit overrides) and validate it."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        first = error.errors()[0]
        message = first["msg"].removeprefix("Value error, ")
        if not first["loc"]:  # a check across fields names its variables itself
            raise SettingsError(message) from None
        raise SettingsError(f"{ENV_PREFIX}{str(first['loc'][0]).upper()}: {message}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()
