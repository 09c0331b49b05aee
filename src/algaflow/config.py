"""Settings read from the environment, in one place, validated once.

Every ``ALGAFLOW_*`` variable is checked when the settings are loaded, and a bad value (a body
limit that is not a positive integer, a schema folder that does not exist, a plugin not named
``module:function``) is one coded ``INVALID_SETTINGS`` error naming the variable, never a
traceback from deep inside a command.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from algaflow.kernel.errors import AlgaflowError

DEFAULT_DATABASE_URL = "sqlite:///algaflow.db"
#: ``{"$secret": "NAME"}`` resolves to the variable ``ALGAFLOW_SECRET_NAME`` by default.
DEFAULT_SECRET_ENV_PREFIX = "ALGAFLOW_SECRET_"
# The server takes back what it exports: a canonical export of a workflow with a 25-step draft and
# three published versions is about 53 KB, so this fits a bundle of about 5,000 such workflows.
DEFAULT_MAX_BODY_BYTES = 256 * 1024 * 1024
ENV_PREFIX = "ALGAFLOW_"
#: PostgreSQL URL schemes other tools write, and the driver algaflow uses for them.
_POSTGRES_SCHEMES = ("postgres://", "postgresql://")
_PSYCOPG_SCHEME = "postgresql+psycopg://"


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


class Settings(BaseSettings):
    """The instance's settings; ``Settings()`` reads ``ALGAFLOW_<FIELD>`` variables."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    plugins: Annotated[tuple[str, ...], NoDecode] = ()
    schema_dirs: Annotated[tuple[str, ...], NoDecode] = ()
    max_body_bytes: int = Field(DEFAULT_MAX_BODY_BYTES, gt=0)
    # Where runs find ``$secret`` values: variables with this prefix (empty: none), then this
    # JSON/TOML file of names to strings.
    secret_env_prefix: str = DEFAULT_SECRET_ENV_PREFIX
    secrets_file: str | None = None
    # The run backend (``ALGAFLOW_RUNTIME``): ``embedded`` (this process's driver) or ``temporal``.
    runtime: str = "embedded"
    # Read from the ``ALGAFLOW_TEMPORAL_*`` variables by ``load_settings``.
    temporal: TemporalSettings = Field(default_factory=TemporalSettings)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @field_validator("database_url", mode="before")
    @classmethod
    def _database_url(cls, value: Any) -> Any:
        """Empty means the default; ``postgres://`` and ``postgresql://`` mean psycopg 3."""
        if value in ("", None):
            return DEFAULT_DATABASE_URL
        if isinstance(value, str):
            for scheme in _POSTGRES_SCHEMES:
                if value.startswith(scheme):
                    return _PSYCOPG_SCHEME + value.removeprefix(scheme)
        return value

    @field_validator("max_body_bytes", mode="before")
    @classmethod
    def _max_body_bytes(cls, value: Any) -> Any:
        return DEFAULT_MAX_BODY_BYTES if value in ("", None) else value

    @field_validator("runtime", mode="before")
    @classmethod
    def _runtime(cls, value: Any) -> Any:
        return (value or "embedded").strip().lower() if isinstance(value, str | None) else value

    @field_validator("secrets_file", mode="before")
    @classmethod
    def _secrets_file(cls, value: Any) -> Any:
        return value or None

    @field_validator("plugins", mode="before")
    @classmethod
    def _plugins(cls, value: Any) -> Any:
        plugins = _split(value, ",")
        for spec in plugins:
            module, sep, attr = spec.partition(":")
            if not (module and sep and attr):
                raise ValueError(f'{spec!r} is not of the form "package.module:function"')
        return plugins

    @field_validator("schema_dirs", mode="before")
    @classmethod
    def _schema_dirs(cls, value: Any) -> Any:
        folders = _split(value, os.pathsep)
        for folder in folders:
            if not Path(folder).is_dir():
                raise ValueError(
                    f"{folder!r} is not a folder (folders are separated by {os.pathsep!r})"
                )
        return folders


def _split(value: Any, sep: str) -> Any:
    """A separated string's non-empty parts (a sequence passes through)."""
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(sep) if part.strip())
    return tuple(value)


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Settings from ``ALGAFLOW_*`` variables (``environ`` defaults to ``os.environ``), with
    ``overrides`` (command-line options) taking precedence; raises ``INVALID_SETTINGS``."""
    given = {name: value for name, value in overrides.items() if value is not None}
    env = os.environ if environ is None else environ
    given.setdefault("temporal", TemporalSettings.from_env(env))
    try:
        if environ is None:
            return Settings(**given)
        from_env = {
            name: environ[ENV_PREFIX + name.upper()]
            for name in Settings.model_fields
            if ENV_PREFIX + name.upper() in environ
        }
        return Settings.model_validate({**from_env, **given})
    except ValidationError as exc:
        raise invalid_settings(exc) from None


def invalid_settings(exc: ValidationError) -> AlgaflowError:
    """One coded error for every refused setting, named as the variable a user sets."""
    issues = [
        {
            "variable": ENV_PREFIX + str(error["loc"][0]).upper() if error["loc"] else ENV_PREFIX,
            "message": error["msg"].removeprefix("Value error, "),
        }
        for error in exc.errors()
    ]
    summary = "; ".join(f"{i['variable']}: {i['message']}" for i in issues)
    return AlgaflowError(
        "INVALID_SETTINGS", f"Invalid settings: {summary}", details={"issues": issues}
    )
