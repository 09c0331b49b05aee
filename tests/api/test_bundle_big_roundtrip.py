"""The server takes back what it exports: a 1,000-workflow export imports through the server
with the default settings (body limit included), on a real uvicorn server."""

from __future__ import annotations

import httpx
import pytest
from benchmarks.bundle_gen import generate_bundle
from fastapi import FastAPI
from sqlalchemy.engine import Engine

from algaflow.api.app import create_app
from algaflow.config import Settings
from algaflow.registry import Registry
from algaflow.services.bundles import import_bundle_on
from algaflow.store.api_keys import PERMISSIONS, create_api_key
from algaflow.store.tenants import create_tenant

pytestmark = pytest.mark.slow
WORKFLOWS = 1000


@pytest.fixture
def app(engine: Engine, db_url: str, registry: Registry) -> FastAPI:
    """The app with every setting at its default but the database."""
    return create_app(Settings(database_url=db_url), engine=engine, registry=registry)


def test_a_big_export_imports_back_through_the_server(
    live_server: str, engine: Engine, tenant: str, registry: Registry
) -> None:
    with engine.begin() as conn:
        import_bundle_on(conn, tenant, generate_bundle(WORKFLOWS), registry=registry)
        _, source_key = create_api_key(conn, tenant, name="source", permissions=PERMISSIONS)
        target = create_tenant(conn, "target")["id"]
        _, target_key = create_api_key(conn, target, name="target", permissions=PERMISSIONS)
    with httpx.Client(base_url=live_server, timeout=600) as client:
        exported = client.post(
            "/api/workflow-definitions/export",
            json={"all": True},
            headers={"Authorization": f"Bearer {source_key}"},
        )
        assert exported.status_code == 200
        assert len(exported.content) > 16 * 1024 * 1024  # past the old default limit
        imported = client.post(
            "/api/workflow-definitions/import",
            content=exported.content,
            headers={"Authorization": f"Bearer {target_key}", "Content-Type": "application/json"},
        )
    assert imported.status_code == 200, imported.text[:500]
    assert len(imported.json()["workflows"]) == WORKFLOWS
