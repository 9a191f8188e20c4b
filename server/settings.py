"""Configuration, read once from environment variables (DESIGN §5).

Every setting has a default that suits the embedded run (`make run`); a bad value raises
`SettingsError` naming the variable, which the CLI prints as one line.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit


class SettingsError(ValueError):
    """A missing or malformed setting; the message names the environment variable."""


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _http_url(env: Mapping[str, str], name: str, default: str | None) -> str | None:
    value = env.get(name, default)
    if value is None or value == "":
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"{name} must be an http(s) URL, got {value!r}")
    if parts.scheme == "http" and not _is_loopback(value):
        raise SettingsError(f"{name} must use https unless it points at a loopback address, got {value!r}")
    return value.rstrip("/")


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None


def _database_url(env: Mapping[str, str]) -> str:
    raw = env.get("DATABASE_URL") or "sqlite:///okr.sqlite3"
    scheme = raw.split("://", 1)[0] if "://" in raw else ""
    # Plain driver names are accepted and mapped onto the async drivers the server runs on.
    mapping = {
        "sqlite": "sqlite+aiosqlite",
        "sqlite+aiosqlite": "sqlite+aiosqlite",
        "postgres": "postgresql+psycopg",
        "postgresql": "postgresql+psycopg",
        "postgresql+psycopg": "postgresql+psycopg",
        "postgresql+asyncpg": "postgresql+psycopg",
    }
    if scheme not in mapping:
        raise SettingsError(f"DATABASE_URL must start with sqlite:// or postgresql://, got {raw.split('@')[-1]!r}")
    return mapping[scheme] + raw[len(scheme) :]


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite+aiosqlite:///okr.sqlite3"
    env: str = "production"
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    public_url: str = "http://127.0.0.1:8000"
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = field(default=None, repr=False)
    oidc_audience: str | None = None
    oidc_groups_claim: str = "groups"
    oidc_scopes: str = "openid email profile"
    session_max_age: int = 8 * 3600
    cors_origins: tuple[str, ...] = ()
    max_depth: int = 12
    max_aliases: int = 15
    max_tokens: int = 5000
    max_page_size: int = 100
    default_page_size: int = 20
    max_query_bytes: int = 100_000
    max_body_bytes: int = 1_000_000
    max_query_cost: int = 50_000
    request_timeout: float = 30.0
    rate_limit_per_minute: int = 600
    signin_rate_limit_per_minute: int = 30
    max_subscriptions_per_connection: int = 10
    scheduler_enabled: bool = True
    scheduler_interval: float = 30.0
    log_json: bool = True

    @property
    def development(self) -> bool:
        return self.env == "development"

    @property
    def sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def oidc_configured(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id)

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.startswith("https://")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        okr_env = env.get("OKR_ENV", "production")
        if okr_env not in ("development", "production"):
            raise SettingsError(f"OKR_ENV must be 'development' or 'production', got {okr_env!r}")
        secret = env.get("OKR_SECRET_KEY")
        if secret is not None and len(secret) < 16:
            raise SettingsError("OKR_SECRET_KEY must be at least 16 characters long")
        if secret is None and okr_env == "production":
            raise SettingsError("OKR_SECRET_KEY must be set in production (OKR_ENV=production)")
        public_url = _http_url(env, "OKR_PUBLIC_URL", "http://127.0.0.1:8000")
        assert public_url is not None
        origins = tuple(o.strip().rstrip("/") for o in env.get("OKR_CORS_ORIGINS", "").split(",") if o.strip())
        return cls(
            database_url=_database_url(env),
            env=okr_env,
            secret_key=secret or secrets.token_urlsafe(32),
            public_url=public_url,
            oidc_issuer=_http_url(env, "OKR_OIDC_ISSUER", None),
            oidc_client_id=env.get("OKR_OIDC_CLIENT_ID") or None,
            oidc_client_secret=env.get("OKR_OIDC_CLIENT_SECRET") or None,
            oidc_audience=env.get("OKR_OIDC_AUDIENCE") or None,
            oidc_groups_claim=env.get("OKR_OIDC_GROUPS_CLAIM", "groups"),
            oidc_scopes=env.get("OKR_OIDC_SCOPES", "openid email profile"),
            session_max_age=_int(env, "OKR_SESSION_MAX_AGE", 8 * 3600, minimum=60),
            cors_origins=origins,
            max_depth=_int(env, "OKR_MAX_DEPTH", 12, minimum=1),
            max_aliases=_int(env, "OKR_MAX_ALIASES", 15, minimum=1),
            max_tokens=_int(env, "OKR_MAX_TOKENS", 5000, minimum=10),
            max_page_size=_int(env, "OKR_MAX_PAGE_SIZE", 100, minimum=1),
            max_query_bytes=_int(env, "OKR_MAX_QUERY_BYTES", 100_000, minimum=100),
            max_body_bytes=_int(env, "OKR_MAX_BODY_BYTES", 1_000_000, minimum=1000),
            max_query_cost=_int(env, "OKR_MAX_QUERY_COST", 50_000, minimum=1),
            request_timeout=_float(env, "OKR_REQUEST_TIMEOUT", 30.0),
            rate_limit_per_minute=_int(env, "OKR_RATE_LIMIT_PER_MINUTE", 600, minimum=1),
            signin_rate_limit_per_minute=_int(env, "OKR_SIGNIN_RATE_LIMIT_PER_MINUTE", 30, minimum=1),
            max_subscriptions_per_connection=_int(env, "OKR_MAX_SUBSCRIPTIONS", 10, minimum=1),
            scheduler_enabled=env.get("OKR_SCHEDULER", "on") != "off",
            scheduler_interval=_float(env, "OKR_SCHEDULER_INTERVAL", 30.0),
            log_json=env.get("OKR_LOG_FORMAT", "json") == "json",
        )
