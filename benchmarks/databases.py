"""A PostgreSQL database of a benchmark's own: uniquely named, migrated, dropped when done.

The server is the one ``ALGAFLOW_TEST_POSTGRES_URL`` names (default: the local one); two
benchmarks, or two checkouts benchmarking at once, never share a database.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

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
