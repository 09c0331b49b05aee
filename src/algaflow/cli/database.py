"""Opening a database: for the database commands, and for the in-process app of local mode.

The store (SQLAlchemy, Alembic) and the registry (jsonschema) are imported by the functions that
use them, so that merely importing the CLI (``--help``, server-mode commands) loads neither.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from algaflow.config import Settings, load_settings
from algaflow.kernel.errors import AlgaflowError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from algaflow.registry import Registry


def settings_for(database_url: str | None, plugins: Sequence[str] | None = None) -> Settings:
    """The environment's settings, with ``--database-url`` and ``--plugin`` given precedence."""
    base = load_settings()
    return Settings(
        database_url=database_url or base.database_url,
        plugins=base.plugins + tuple(plugins or ()),
        schema_dirs=base.schema_dirs,
        max_body_bytes=base.max_body_bytes,
        runtime=base.runtime,
        temporal=base.temporal,
    )


def open_engine(settings: Settings, *, auto_migrate: bool | None = None) -> Engine:
    """An engine on a database at the current schema.

    The embedded SQLite default is upgraded automatically; PostgreSQL only on request
    (``algaflow db upgrade`` or ``--migrate``), as operators expect.
    """
    from algaflow.store import migrate
    from algaflow.store.engine import make_engine

    engine = make_engine(settings.database_url)
    if auto_migrate if auto_migrate is not None else settings.is_sqlite:
        migrate.upgrade(engine)
    elif not migrate.is_current(engine):
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
