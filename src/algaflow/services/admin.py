"""Operating the instance: tenants, API keys and the first-start bootstrap.

Each function is one use case in one transaction, committed before it returns its view, so the
CLI (and any future admin route) only parses, calls one of these and renders.
"""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from algaflow.kernel.errors import AlgaflowError
from algaflow.services.unit_of_work import UnitOfWork
from algaflow.store import api_keys as keys_store
from algaflow.store import tenants as tenants_store

DEFAULT_TENANT_NAME = tenants_store.DEFAULT_TENANT_NAME
PERMISSIONS = keys_store.PERMISSIONS
#: Longer names are refused: a tenant name is a label typed on command lines, not a document.
MAX_TENANT_NAME_LENGTH = 200


@dataclass(frozen=True)
class TenantView:
    id: str
    name: str


@dataclass(frozen=True)
class ApiKeyView:
    """A key as listings show it: never its secret, only the prefix humans tell keys apart by."""

    id: str
    tenant_id: str
    tenant: str
    name: str
    prefix: str
    permissions: tuple[str, ...]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


@dataclass(frozen=True)
class NewApiKey:
    """A created key and its secret: the only time the secret is visible."""

    key: ApiKeyView
    secret: str


def _tenant_view(row: Mapping[str, Any]) -> TenantView:
    return TenantView(id=str(row["id"]), name=str(row["name"]))


def _key_view(row: Mapping[str, Any], tenant_name: str) -> ApiKeyView:
    return ApiKeyView(
        id=str(row["id"]),
        tenant_id=str(row["tenant"]),
        tenant=tenant_name,
        name=str(row["name"]),
        prefix=str(row["prefix"]),
        permissions=tuple(row["permissions"]),
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
        revoked_at=row["revoked_at"],
    )


def check_tenant_name(name: Any) -> str:
    """The stripped name, or ``INVALID_TENANT_NAME``: empty, too long or with control characters
    (which some databases cannot store and no terminal shows faithfully)."""
    text = name.strip() if isinstance(name, str) else ""
    if not text or len(text) > MAX_TENANT_NAME_LENGTH:
        raise AlgaflowError(
            "INVALID_TENANT_NAME",
            f"Tenant name must be a non-empty string of at most {MAX_TENANT_NAME_LENGTH} "
            "characters.",
        )
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in text):
        raise AlgaflowError(
            "INVALID_TENANT_NAME", "Tenant name must not contain control characters."
        )
    return text


def create_tenant(uow: UnitOfWork, name: str) -> TenantView:
    """A new tenant; ``TENANT_NAME_CONFLICT`` when the name is taken."""
    text = check_tenant_name(name)
    with uow.writing() as conn:
        row = tenants_store.create_tenant(conn, text)
    return _tenant_view(row)


def list_tenants(uow: UnitOfWork) -> list[TenantView]:
    with uow.reading() as conn:
        rows = tenants_store.list_tenants(conn)
    return [_tenant_view(r) for r in rows]


def _tenant_named(conn: Connection, name: str | None) -> dict[str, Any]:
    """The tenant ``name`` (``None`` means the default tenant, created on first use)."""
    if name is None or name == DEFAULT_TENANT_NAME:
        return tenants_store.ensure_tenant(conn)
    row = tenants_store.get_tenant_by_name(conn, name)
    if row is None:
        raise AlgaflowError("TENANT_NOT_FOUND", f'No tenant named "{name}"')
    return row


def resolve_tenant(uow: UnitOfWork, name: str | None) -> str:
    """The id of the tenant ``name`` (``None``: the default tenant, created on first use)."""
    with uow.writing() as conn:
        row = _tenant_named(conn, name)
    return str(row["id"])


def create_api_key(
    uow: UnitOfWork,
    tenant: str | None,
    *,
    name: str = "api key",
    permissions: Iterable[str] = ("workflow:admin",),
) -> NewApiKey:
    """A key of the tenant named ``tenant`` (``None``: the default one). Unknown permissions or
    tenant are refused before anything is written."""
    chosen = keys_store.check_permissions(permissions)
    with uow.writing() as conn:
        owner = _tenant_named(conn, tenant)
        row, secret = keys_store.create_api_key(conn, owner["id"], name=name, permissions=chosen)
    return NewApiKey(_key_view(row, str(owner["name"])), secret)


def list_api_keys(uow: UnitOfWork, tenant: str | None = None) -> list[ApiKeyView]:
    """Every key (revoked ones too), or those of the tenant named ``tenant``, oldest first."""
    with uow.reading() as conn:
        tenant_id = None
        if tenant is not None:
            row = tenants_store.get_tenant_by_name(conn, tenant)
            if row is None:
                raise AlgaflowError("TENANT_NOT_FOUND", f'No tenant named "{tenant}"')
            tenant_id = row["id"]
        rows = keys_store.list_api_keys(conn, tenant_id)
    return [_key_view(r, str(r["tenant_name"])) for r in rows]


def revoke_api_key(uow: UnitOfWork, key_id: str) -> None:
    """Revoke a live key: it stops authenticating at once. ``API_KEY_NOT_FOUND`` when there is no
    live key with this id (unknown, malformed or already revoked)."""
    try:
        canonical = str(uuid.UUID(str(key_id)))
    except ValueError:
        raise AlgaflowError("API_KEY_NOT_FOUND", f"No active API key {key_id}") from None
    with uow.writing() as conn:
        keys_store.revoke_api_key(conn, canonical)


def bootstrap_admin_key(uow: UnitOfWork) -> NewApiKey | None:
    """On the very first start (no key at all), the default tenant and one key with every
    permission; ``None`` once any key exists, so a restart never mints another."""
    with uow.writing() as conn:
        if keys_store.count_api_keys(conn):
            return None
        owner = tenants_store.ensure_tenant(conn)
        row, secret = keys_store.create_api_key(
            conn, owner["id"], name="bootstrap admin", permissions=PERMISSIONS
        )
    return NewApiKey(_key_view(row, str(owner["name"])), secret)


@dataclass(frozen=True)
class KeyHolder:
    """Who presents a live API key: its tenant, its permissions and the key's id."""

    tenant_id: str
    permissions: frozenset[str]
    key_id: str


def authenticate(uow: UnitOfWork, secret: str) -> KeyHolder | None:
    """The holder of the live key ``secret``, or None; notes the key's use about once a minute."""
    with uow.reading() as conn:
        row = keys_store.authenticate(conn, secret)
    if row is None:
        return None
    if keys_store.use_record_due(row):  # other requests only read
        with uow.writing() as conn:
            keys_store.record_use(conn, row["id"])
    return KeyHolder(row["tenant"], frozenset(row["permissions"]), row["id"])


def tenant_of(uow: UnitOfWork, tenant_id: str) -> TenantView:
    """The tenant with this id (a caller's own: ``algaflow status`` shows its name)."""
    with uow.reading() as conn:
        row = tenants_store.get_tenant(conn, tenant_id)
    if row is None:
        raise AlgaflowError("TENANT_NOT_FOUND", f"No tenant {tenant_id}")
    return _tenant_view(row)


def has_api_keys(uow: UnitOfWork) -> bool:
    """Whether any key was ever created (``serve`` says how to make the first one)."""
    with uow.reading() as conn:
        return keys_store.count_api_keys(conn) > 0
