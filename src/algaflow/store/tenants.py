"""Tenants: every row algaflow keeps belongs to exactly one."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from algaflow.kernel.clock import new_id, utcnow
from algaflow.kernel.errors import AlgaflowError

from .tables import tenants

DEFAULT_TENANT_NAME = "default"


def create_tenant(conn: Connection, name: str) -> dict[str, Any]:
    name = (name or "").strip()
    if not name:
        raise AlgaflowError("INVALID_TENANT_NAME", "Tenant name must be a non-empty string.")
    if get_tenant_by_name(conn, name) is not None:
        raise AlgaflowError("TENANT_NAME_CONFLICT", f'Tenant "{name}" already exists.')
    row = {"id": new_id(), "name": name, "created_at": utcnow()}
    conn.execute(tenants.insert().values(**row))
    return row


def get_tenant_by_name(conn: Connection, name: str) -> dict[str, Any] | None:
    row = conn.execute(sa.select(tenants).where(tenants.c.name == name)).mappings().first()
    return dict(row) if row else None


def get_tenant(conn: Connection, tenant_id: str) -> dict[str, Any] | None:
    row = conn.execute(sa.select(tenants).where(tenants.c.id == tenant_id)).mappings().first()
    return dict(row) if row else None


def list_tenants(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(sa.select(tenants).order_by(tenants.c.name)).mappings()
    return [dict(r) for r in rows]


def ensure_tenant(conn: Connection, name: str = DEFAULT_TENANT_NAME) -> dict[str, Any]:
    """The tenant called ``name``, created if missing."""
    return get_tenant_by_name(conn, name) or create_tenant(conn, name)
