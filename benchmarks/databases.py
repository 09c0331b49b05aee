"""Databases of a benchmark's own: a scratch SQLite file, and a PostgreSQL database uniquely
named, migrated and dropped when done.

The PostgreSQL server is the one ``ALGAFLOW_TEST_POSTGRES_URL`` names (default: the local one); two
benchmarks, or two checkouts benchmarking at once, never share a database.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from algaflow.store import migrate
from algaflow.store.engine import drop_database, ensure_database, make_engine

_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@contextmanager
def postgres_database(purpose: str) -> Iterator[Engine | None]:
    """A migrated engine on a fresh database, or None (said on stdout) when none can be had."""
    base = sa.engine.make_url(os.environ.get("ALGAFLOW_TEST_POSTGRES_URL", _SERVER))
    name = f"algaflow_bench_{purpose}_{os.getpid()}"
    url = base.set(database=name).render_as_string(hide_password=False)
    try:
        ensure_database(url)
        engine = make_engine(url)
        migrate.upgrade(engine)
    except Exception as exc:  # unreachable server: say so and go on
        print(f"postgresql skipped: {type(exc).__name__}: {str(exc).splitlines()[0]}")
        yield None
        return
    try:
        yield engine
    finally:
        engine.dispose()
        drop_database(url)


@contextmanager
def sqlite_database() -> Iterator[Engine]:
    """A migrated engine on a SQLite file in a scratch folder, removed afterwards."""
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        try:
            migrate.upgrade(engine)
            yield engine
        finally:
            engine.dispose()


def each_database(purpose: str) -> Iterator[tuple[str, Engine]]:
    """``("sqlite", engine)``, then ``("postgresql", engine)`` when a server can be had."""
    with sqlite_database() as engine:
        yield "sqlite", engine
    with postgres_database(purpose) as pg:
        if pg is not None:
            yield "postgresql", pg
