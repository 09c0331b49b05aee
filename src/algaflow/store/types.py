"""Column types that behave the same on SQLite and PostgreSQL, and the values both can store."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

# Pure value checks live in the kernel; re-exported for the store's other callers.
from algaflow.kernel.storable import canonical_uuid as canonical_uuid
from algaflow.kernel.storable import unstorable_paths as unstorable_paths

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


def jsonb_key_order(value: Any) -> Any:
    """``value`` with every object's keys in PostgreSQL JSONB order (shorter first, then bytes).

    Alga keeps definitions in JSONB, so maps that are evaluated in order (``transform.assign``)
    run in this order there. Applying it on load makes runs identical on SQLite and PostgreSQL,
    and unaffected by the sorted key order of exported bundles.
    """
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: (len(k.encode("utf-8")), k.encode("utf-8")))
        return {k: jsonb_key_order(value[k]) for k in keys}
    if isinstance(value, list):
        return [jsonb_key_order(item) for item in value]
    return value
