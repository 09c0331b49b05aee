"""A database that cannot be reached is a coded error on stderr, never a traceback."""

from __future__ import annotations

import sqlite3

import sqlalchemy as sa
from tests.cli.cli_helpers import run_cli

from algaflow.api.statuses import status_for
from algaflow.store.failures import database_error


def test_unreachable_postgresql_is_a_coded_error(tmp_path):
    done = run_cli(
        "workflows", "list", "--database-url", "postgresql+psycopg://postgres@127.0.0.1:1/none"
    )
    assert done.returncode == 1
    assert done.stdout == b""
    assert done.stderr.startswith(b"error DATABASE_UNAVAILABLE: The database could not be reached")
    assert b"Traceback" not in done.stderr


def test_a_locked_database_is_database_busy(tmp_path):
    """The error SQLAlchemy raises for a lock held past the busy timeout maps to DATABASE_BUSY."""
    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    engine = sa.create_engine(f"sqlite:///{path}", connect_args={"timeout": 0.05})
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO t VALUES (1)")
    except sa.exc.OperationalError as exc:
        error = database_error(exc)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        engine.dispose()
    assert error is not None
    assert (error.code, status_for(error.code)) == ("DATABASE_BUSY", 503)
    assert database_error(ValueError("not a database error")) is None
