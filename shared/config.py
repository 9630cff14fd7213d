"""Configuration for every service, from environment variables (pydantic-settings).

With no environment at all the platform runs embedded: SQLite files in the run
directory, an in-process stand-in for Redis, and the broker that ``meterstream up``
starts. ``DATABASE_URL``, ``REDIS_URL`` and ``KAFKA_BOOTSTRAP_SERVERS`` switch to
real PostgreSQL, Redis and Kafka with no code change.
"""
from __future__ import annotations

import hashlib
import os
import secrets
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ServiceName = Literal["ingest", "portfolio", "alerts", "aq", "gateway"]
SERVICES: tuple[ServiceName, ...] = ("portfolio", "ingest", "alerts", "aq", "gateway")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    run_dir: Path = Field(Path("run"), description="Logs, SQLite files, pid and secrets of the embedded stack.")
    database_url: str | None = Field(None, description="SQLAlchemy URL; default: one SQLite file per service in RUN_DIR.")
    redis_url: str | None = Field(None, description="redis://...; default: an in-process stand-in.")
    kafka_bootstrap_servers: str = Field("127.0.0.1:9092", description="Kafka bootstrap servers (host:port,...).")
    topic_partitions: int = Field(6, ge=1)
    topic_replication: int = Field(1, ge=1)

    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8000
    ingest_url: str = "http://127.0.0.1:8101"
    portfolio_url: str = "http://127.0.0.1:8102"
    alerts_url: str = "http://127.0.0.1:8103"
    aq_url: str = "http://127.0.0.1:8104"

    jwt_secret: str | None = Field(None, description="HS256 signing key; default: generated once into RUN_DIR.")
    jwt_ttl_minutes: int = 8 * 60
    internal_token: str | None = Field(None, description="Shared secret on gateway-to-service calls; default: generated once into RUN_DIR.")
    ingest_drop_dir: Path | None = Field(None, description="A folder ingest watches for D+1 files (moved to processed/ or failed/).")
    feed_profiles_file: Path | None = Field(None, description="YAML of extra ingest feed profiles (added to the shipped ones).")
    max_upload_bytes: int = Field(50 * 1024 * 1024, description="Uploads above this get HTTP 413.")
    smtp_host: str | None = Field(None, description="SMTP server for alert emails; unset disables the email channel.")
    smtp_port: int = 25
    smtp_from: str = "alerts@meterstream.local"
    personal_thresholds_enabled: bool = Field(True, description="Show the Personal Threshold module and its API (High Bill Alerts).")
    high_bill_default_percent: float = Field(30.0, ge=0, le=1000, description="Utility-wide High Bill Alert threshold (% above last year).")
    aq_business_date: date | None = Field(None, description="aq's business clock start; default: today in Europe/London. Ops may advance it.")
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"
    temperature_provider: str = "reference"

    def database_url_for(self, service: str) -> str:
        """The service's own database. SQLite gets a file per service (no shared
        writer lock, and no service can read another's tables); a server database
        is shared, with each service's tables prefixed and its own Alembic history."""
        if self.database_url is None:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            return f"sqlite:///{(self.run_dir / f'{service}.db').resolve()}"
        if self.database_url.startswith("sqlite"):
            path = Path(self.database_url.split("///", 1)[1])
            suffix = path.suffix or ".db"
            return f"sqlite:///{path.with_name(f'{path.stem}-{service}{suffix}')}"
        return self.database_url

    def cache_namespace(self, service: str) -> str:
        """Redis key prefix scoped to this deployment (its database), so
        deployments or test runs sharing one Redis never see each other's keys."""
        scope = self.database_url or str(self.run_dir.resolve())
        return f"meterstream:{hashlib.sha256(scope.encode()).hexdigest()[:12]}:{service}"

    def url_of(self, service: str) -> str:
        return getattr(self, f"{service}_url")

    def _run_secret(self, name: str) -> str:
        """A secret generated once per run directory so every process agrees."""
        path = self.run_dir / name
        if not path.exists():
            self.run_dir.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(secrets.token_urlsafe(32))
            try:
                os.link(tmp, path)  # atomic: the first process to link wins
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        return path.read_text().strip()

    @property
    def jwt_key(self) -> str:
        return self.jwt_secret or self._run_secret("jwt.secret")

    @property
    def internal_key(self) -> str:
        return self.internal_token or self._run_secret("internal.secret")


@lru_cache
def get_settings() -> Settings:
    return Settings()
