"""Settings read from the environment, in one place."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_DATABASE_URL = "sqlite:///algaflow.db"
#: ``{"$secret": "NAME"}`` resolves to the variable ``ALGAFLOW_SECRET_NAME`` by default.
DEFAULT_SECRET_ENV_PREFIX = "ALGAFLOW_SECRET_"
# The server takes back what it exports: a canonical export of a workflow with a 25-step draft and
# three published versions is about 53 KB, so this fits a bundle of about 5,000 such workflows.
DEFAULT_MAX_BODY_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class TemporalSettings:
    """Where the Temporal backend's server is (``ALGAFLOW_TEMPORAL_*``); TLS for a real cluster:
    ``tls`` alone uses the system's roots, the files add a CA and a client certificate."""

    address: str = "127.0.0.1:7233"
    namespace: str = "default"
    task_queue: str = "algaflow"
    tls: bool = False
    tls_ca_file: str | None = None
    tls_cert_file: str | None = None
    tls_key_file: str | None = None
    # Actions and node handlers as local activities: fewer round trips through the server, but
    # a lost worker is noticed only by its workflow task timing out.
    local_activities: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TemporalSettings:
        def get(name: str) -> str | None:
            return env.get(f"ALGAFLOW_TEMPORAL_{name}") or None

        files = {f"tls_{n.lower()}_file": get(f"TLS_{n}_FILE") for n in ("CA", "CERT", "KEY")}
        return cls(
            address=get("ADDRESS") or cls.address,
            namespace=get("NAMESPACE") or cls.namespace,
            task_queue=get("TASK_QUEUE") or cls.task_queue,
            tls=(get("TLS") or "").lower() in ("1", "true", "yes") or any(files.values()),
            local_activities=(get("LOCAL_ACTIVITIES") or "").lower() in ("1", "true", "yes"),
            **files,
        )


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    plugins: tuple[str, ...] = ()
    schema_dirs: tuple[str, ...] = ()
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    # Where runs find ``$secret`` values: variables with this prefix (empty: none), then this
    # JSON/TOML file of names to strings.
    secret_env_prefix: str = DEFAULT_SECRET_ENV_PREFIX
    secrets_file: str | None = None
    # The run backend (``ALGAFLOW_RUNTIME``): ``embedded`` (this process's driver) or ``temporal``.
    runtime: str = "embedded"
    temporal: TemporalSettings = field(default_factory=TemporalSettings)
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _split(value: str | None, sep: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(sep) if part.strip())


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Settings from ``ALGAFLOW_*`` variables (``environ`` defaults to ``os.environ``)."""
    env = os.environ if environ is None else environ
    return Settings(
        database_url=env.get("ALGAFLOW_DATABASE_URL") or DEFAULT_DATABASE_URL,
        plugins=_split(env.get("ALGAFLOW_PLUGINS"), ","),
        schema_dirs=_split(env.get("ALGAFLOW_SCHEMA_DIRS"), os.pathsep),
        max_body_bytes=int(env.get("ALGAFLOW_MAX_BODY_BYTES") or DEFAULT_MAX_BODY_BYTES),
        secret_env_prefix=env.get("ALGAFLOW_SECRET_ENV_PREFIX", DEFAULT_SECRET_ENV_PREFIX),
        secrets_file=env.get("ALGAFLOW_SECRETS_FILE") or None,
        runtime=(env.get("ALGAFLOW_RUNTIME") or "embedded").strip().lower(),
        temporal=TemporalSettings.from_env(env),
    )
