"""Opening a database: for the database commands, and for the in-process app of local mode.

The settings (pydantic), the store (SQLAlchemy, Alembic) and the registry (jsonschema) are
imported by the functions that use them, so that merely importing the CLI (``--help``,
server-mode commands) loads none of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from algaflow.kernel.errors import AlgaflowError

from .target import database_of

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from algaflow.config import Settings
    from algaflow.registry import Registry

#: How to point a command at a database, for messages that find none.
HOW_TO_POINT = (
    "Point at one with --database-url, ALGAFLOW_DATABASE_URL or a profile"
    " (`algaflow config set-profile NAME --url URL`), or at a server with --base-url or"
    " ALGAFLOW_URL; `algaflow db upgrade` creates a database."
)


def settings_for(
    database_url: str | None, plugins: Sequence[str] | None = None, profile: str | None = None
) -> Settings:
    """The environment's settings, with ``--database-url`` (else a database profile's, where
    ``ALGAFLOW_DATABASE_URL`` is unset) and ``--plugin`` given precedence."""
    from algaflow.config import load_settings

    base = load_settings()
    return load_settings(
        database_url=database_of(database_url, profile),
        plugins=base.plugins + tuple(plugins or ()),
    )


def missing_sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL when it does not exist yet (``None`` otherwise)."""
    if not url.startswith("sqlite"):
        return None
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    if not name or name == ":memory:" or name.startswith("file:"):
        return None
    path = Path(name)
    return None if path.exists() else path.resolve()


def open_engine(
    settings: Settings, *, auto_migrate: bool | None = None, creates_database: bool = True
) -> Engine:
    """An engine on a database at the current schema.

    The embedded SQLite default is created and upgraded automatically, except for a command
    that only reads (``creates_database=False``): it refuses a missing file with
    ``DATABASE_NOT_FOUND``. PostgreSQL is upgraded only on request (``algaflow db upgrade`` or
    ``--migrate``), as operators expect.
    """
    from algaflow.store import migrate
    from algaflow.store.engine import make_engine

    missing = None if creates_database else missing_sqlite_file(settings.database_url)
    if missing is not None:
        raise AlgaflowError(
            "DATABASE_NOT_FOUND",
            f"There is no database at {missing}. {HOW_TO_POINT}",
            details={"databaseUrl": settings.database_url},
        )
    engine = make_engine(settings.database_url)
    if migrate.is_current(engine):
        return engine
    if auto_migrate if auto_migrate is not None else settings.is_sqlite:
        migrate.upgrade(engine)
    else:
        raise AlgaflowError(
            "DATABASE_NOT_MIGRATED",
            "The database schema is not current; run `algaflow db upgrade` first.",
            details={"current": migrate.current_revision(engine), "head": migrate.head_revision()},
        )
    return engine


def load_registry(settings: Settings) -> Registry:
    from algaflow.registry import build_registry

    return build_registry(settings)


def resolve_tenant(engine: Engine, name: str | None) -> str:
    """The tenant's id (``None`` means the default tenant, which is created on first use)."""
    from algaflow.services.admin import resolve_tenant as resolve
    from algaflow.services.unit_of_work import UnitOfWork

    return resolve(UnitOfWork(engine), name)
