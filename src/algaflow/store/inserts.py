"""Insert-unless-present in one statement, for the tables whose keys callers race on."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection


def insert_ignore(
    conn: Connection, table: sa.Table, conflict: tuple[str, ...], **values: Any
) -> bool:
    """Insert unless a row with the same ``conflict`` columns exists; True when inserted.

    One statement, race-free: a concurrent insert of the same key makes this one a no-op instead
    of an IntegrityError (which on PostgreSQL would also abort the whole transaction).
    """
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    query = (
        insert(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=conflict)
        .returning(table.c[conflict[0]])  # rowcount of an INSERT is not reliable (-1 on psycopg)
    )
    return conn.execute(query).first() is not None
