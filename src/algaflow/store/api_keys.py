"""API keys: random secrets shown once, stored as SHA-256 digests, bound to one tenant.

The secrets are 256-bit random tokens, so a fast digest is enough (no password hashing needed):
guessing is infeasible and lookups stay one indexed query per request.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from algaflow.kernel.clock import new_id, utcnow
from algaflow.kernel.errors import AlgaflowError

from .tables import api_keys, tenants

PERMISSIONS = (
    "workflow:read",
    "workflow:write",
    "workflow:publish",
    "workflow:run",
    "workflow:admin",
)
KEY_PREFIX = "afk_"
#: ``last_used_at`` is written at most this often per key, so most requests only read.
USE_RECORD_INTERVAL = timedelta(minutes=1)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def check_permissions(permissions: Iterable[str]) -> list[str]:
    chosen = sorted(set(permissions))
    unknown = [p for p in chosen if p not in PERMISSIONS]
    if unknown or not chosen:
        raise AlgaflowError(
            "INVALID_PERMISSION",
            f"Unknown or missing permission(s): {', '.join(unknown) or '(none)'}; "
            f"choose from {', '.join(PERMISSIONS)}",
            details={"unknown": unknown, "allowed": list(PERMISSIONS)},
        )
    return chosen


def create_api_key(
    conn: Connection, tenant_id: str, *, name: str, permissions: Iterable[str]
) -> tuple[dict[str, Any], str]:
    """Create a key; returns the stored row and the secret (the only time it is visible)."""
    chosen = check_permissions(permissions)
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    row = {
        "id": new_id(),
        "tenant": tenant_id,
        "name": name or "api key",
        "prefix": secret[: len(KEY_PREFIX) + 8],
        "key_hash": _digest(secret),
        "permissions": chosen,
        "created_at": utcnow(),
        "last_used_at": None,
        "revoked_at": None,
    }
    conn.execute(api_keys.insert().values(**row))
    return row, secret


def authenticate(conn: Connection, secret: str) -> dict[str, Any] | None:
    """The live key row for ``secret`` joined with its tenant name, or None."""
    if not secret or len(secret) > 256:
        return None
    query = (
        sa.select(api_keys, tenants.c.name.label("tenant_name"))
        .join(tenants, tenants.c.id == api_keys.c.tenant)
        .where(api_keys.c.key_hash == _digest(secret), api_keys.c.revoked_at.is_(None))
    )
    row = conn.execute(query).mappings().first()
    return dict(row) if row else None


def use_record_due(row: dict[str, Any]) -> bool:
    """Whether the key row (from :func:`authenticate`) should get a new ``last_used_at``."""
    last = row["last_used_at"]
    return last is None or last <= utcnow() - USE_RECORD_INTERVAL


def record_use(conn: Connection, key_id: str) -> bool:
    """Set ``last_used_at`` to now unless another request did so in the last interval.

    Call it in a transaction of its own that starts with this write (not after reads in the same
    SQLite transaction, which cannot upgrade to a writer while another commits). The condition
    makes concurrent requests write once. Returns whether this call wrote.
    """
    now = utcnow()
    result = conn.execute(
        api_keys.update()
        .where(
            api_keys.c.id == key_id,
            sa.or_(
                api_keys.c.last_used_at.is_(None),
                api_keys.c.last_used_at <= now - USE_RECORD_INTERVAL,
            ),
        )
        .values(last_used_at=now)
    )
    return result.rowcount == 1


def list_api_keys(conn: Connection, tenant_id: str | None = None) -> list[dict[str, Any]]:
    query = sa.select(
        api_keys.c.id,
        api_keys.c.tenant,
        tenants.c.name.label("tenant_name"),
        api_keys.c.name,
        api_keys.c.prefix,
        api_keys.c.permissions,
        api_keys.c.created_at,
        api_keys.c.last_used_at,
        api_keys.c.revoked_at,
    ).join(tenants, tenants.c.id == api_keys.c.tenant)
    if tenant_id is not None:
        query = query.where(api_keys.c.tenant == tenant_id)
    return [dict(r) for r in conn.execute(query.order_by(api_keys.c.created_at)).mappings()]


def revoke_api_key(conn: Connection, key_id: str) -> None:
    result = conn.execute(
        api_keys.update()
        .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    if result.rowcount == 0:
        raise AlgaflowError("API_KEY_NOT_FOUND", f"No active API key {key_id}")


def count_api_keys(conn: Connection) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(api_keys)).scalar_one()
