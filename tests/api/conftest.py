"""An app per test on each database, an admin key, and a real uvicorn server when asked."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from algaflow.api.app import create_app
from algaflow.config import Settings
from algaflow.registry import default_registry
from algaflow.store.api_keys import PERMISSIONS, create_api_key


@dataclass
class Api:
    client: TestClient
    engine: object
    tenant: str
    key: str

    def headers(self, key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.key}"}

    def key_for(self, tenant: str, *permissions: str) -> str:
        with self.engine.begin() as conn:  # type: ignore[attr-defined]
            return create_api_key(conn, tenant, name="test", permissions=permissions)[1]


@pytest.fixture
def registry():
    return default_registry()


@pytest.fixture
def app(engine, db_url, registry):
    return create_app(
        Settings(database_url=db_url, max_body_bytes=1_000_000), engine=engine, registry=registry
    )


@pytest.fixture
def api(app, engine, tenant) -> Iterator[Api]:
    with engine.begin() as conn:
        _, secret = create_api_key(conn, tenant, name="admin", permissions=PERMISSIONS)
    with TestClient(app, raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {secret}"
        yield Api(client, engine, tenant, secret)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def live_server(app) -> Iterator[str]:
    """The same app under a real uvicorn server on a loopback port; yields its base URL."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=0.5).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.05)
    else:
        raise RuntimeError("uvicorn did not start")
    yield base
    server.should_exit = True
    thread.join(timeout=10)
