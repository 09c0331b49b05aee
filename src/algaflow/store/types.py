"""Column types that behave the same on SQLite and PostgreSQL, and the values both can store."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from algaflow.kernel.jsonb import jsonb_key_order as jsonb_key_order
from algaflow.kernel.jsonb import unstorable_paths as unstorable_paths

# Pure value checks live in the kernel; re-exported for the store's other callers.
from algaflow.kernel.storable import canonical_uuid as canonical_uuid

#: JSON on SQLite, JSONB on PostgreSQL.
JSONType = sa.JSON().with_variant(JSONB(), "postgresql")

#: A UUID kept as its canonical string in Python (native ``uuid`` on PostgreSQL).
UUIDType = sa.Uuid(as_uuid=False)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both databases (SQLite stores them naive)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
