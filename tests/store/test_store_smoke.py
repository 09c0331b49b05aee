import sqlalchemy as sa

from algaflow.store import migrate
from algaflow.store.tenants import ensure_tenant, list_tenants


def test_migrated_database_is_at_head(engine):
    assert migrate.is_current(engine)


def test_foreign_keys_are_enforced(engine):
    with engine.connect() as conn:
        tx = conn.begin()
        try:
            conn.execute(
                sa.text(
                    "INSERT INTO api_keys (id, tenant, name, prefix, key_hash, permissions, "
                    "created_at) VALUES ('00000000-0000-4000-8000-000000000001', "
                    "'00000000-0000-4000-8000-0000000000ff', 'k', 'p', 'h', '[]', "
                    "'2026-01-01 00:00:00+00:00')"
                )
            )
        except sa.exc.IntegrityError:
            tx.rollback()
        else:
            tx.rollback()
            raise AssertionError("a key for a missing tenant was accepted")


def test_ensure_tenant_is_idempotent(engine):
    with engine.begin() as conn:
        first = ensure_tenant(conn, "acme")
        second = ensure_tenant(conn, "acme")
    assert first["id"] == second["id"]
    with engine.connect() as conn:
        assert [t["name"] for t in list_tenants(conn)] == ["acme"]


def test_the_head_constant_is_alembics_head():
    """Checking a database compares with ``HEAD`` without loading Alembic: it must be the head."""
    from algaflow.store import migrate

    assert migrate.head_revision() == migrate.HEAD
