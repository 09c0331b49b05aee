"""The walkthrough through the HTTP API with an API key, and through the ``algaflow`` command
against a running server, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from tests.e2e.e2e_scenarios import (
    PAYLOADS,
    SCHEMAS,
    Send,
    check_scenario,
    examples_registry,
    same_but_exported_at,
    scenario,
    without_at,
)

from algaflow.api.app import create_app
from algaflow.config import Settings
from algaflow.store.api_keys import PERMISSIONS, create_api_key
from algaflow.store.engine import make_engine
from algaflow.store.tenants import create_tenant

ALGAFLOW = str(Path(sys.executable).with_name("algaflow"))


class HttpSurface:
    """The HTTP API, as any client with an API key sees it."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.ids: dict[str, str] = {}

    def _ok(self, response: httpx.Response) -> httpx.Response:
        assert response.is_success, (response.status_code, response.text)
        return response

    def import_bundle(self, data: bytes) -> dict[str, Any]:
        summary = self._ok(
            self.client.post(
                "/api/workflow-definitions/import",
                content=data,
                headers={"Content-Type": "application/json"},
            )
        ).json()
        self.ids.update({w["key"]: w["workflowId"] for w in summary["workflows"]})
        return summary

    def publish(self, key: str) -> int:
        base = f"/api/workflow-definitions/{self.ids[key]}"
        draft = self._ok(self.client.get(base)).json()["draftVersion"]
        result = self._ok(self.client.post(f"{base}/{draft}/publish")).json()
        assert result["ok"], result
        return result["publishedVersion"]

    def send(self, send: Send) -> None:
        if send.event:
            body = {"eventName": send.event, "payload": send.payload_value()}
            self._ok(self.client.post("/api/workflow/events?wait=true", json=body))
        else:
            body = {"workflowId": self.ids[send.start or ""], "payload": send.payload_value()}
            self._ok(self.client.post("/api/workflow-runs", json=body))

    def runs(self, key: str) -> list[dict[str, Any]]:
        params = {"workflowId": self.ids[key]}
        return self._ok(self.client.get("/api/workflow-runs", params=params)).json()

    def run(self, run_id: str) -> dict[str, Any]:
        return self._ok(self.client.get(f"/api/workflow-runs/{run_id}")).json()

    def export(self, keys: list[str]) -> bytes:
        body = {"keys": keys}
        return self._ok(self.client.post("/api/workflow-definitions/export", json=body)).content


class CliSurface:
    """The ``algaflow`` command, every step through the server at ``ALGAFLOW_URL``."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env, self.cwd = env, cwd
        self.ids: dict[str, str] = {}

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [ALGAFLOW, *args], env=self.env, cwd=self.cwd, capture_output=True,
            text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done.stdout

    def import_bundle(self, data: bytes) -> dict[str, Any]:
        path = self.cwd / "to-import.json"
        path.write_bytes(data)
        summary = json.loads(self.cli("bundle", "import", "--file", str(path), "--json"))
        self.ids.update({w["key"]: w["workflowId"] for w in summary["workflows"]})
        return summary

    def publish(self, key: str) -> int:
        result = json.loads(self.cli("workflows", "publish", key, "--json"))
        return result["publishedVersion"]

    def send(self, send: Send) -> None:
        payload = str(PAYLOADS / send.payload)
        if send.event:
            result = json.loads(
                self.cli("events", "emit", send.event, "--payload", payload, "--wait")
            )
            assert not result.get("errors"), result
        else:
            workflow_id = self.ids[send.start or ""]
            self.cli("runs", "start", workflow_id, "--payload", payload, "--json")

    def runs(self, key: str) -> list[dict[str, Any]]:
        args = ("runs", "list", "--workflow-id", self.ids[key], "--json")
        return json.loads(self.cli(*args))

    def run(self, run_id: str) -> dict[str, Any]:
        return json.loads(self.cli("runs", "show", run_id, "--json"))

    def export(self, keys: list[str]) -> bytes:
        out = self.cwd / "exported.json"
        self.cli("bundle", "export", *(a for k in keys for a in ("--key", k)), "--out", str(out))
        return out.read_bytes()


@pytest.fixture
def second_instance(_sqlite_template: Path, tmp_path: Path) -> Iterator[tuple[Engine, str]]:
    """Another fresh instance (SQLite) and its database URL."""
    target = tmp_path / "second.db"
    shutil.copyfile(_sqlite_template, target)
    url = f"sqlite:///{target}"
    engine = make_engine(url)
    yield engine, url
    engine.dispose()


@pytest.mark.parametrize("scenario_id", ["approval-wait", "parent-child"])
def test_http_api_with_an_api_key(api, second_instance, scenario_id):
    item = scenario(scenario_id)
    assert api.client.get("/api/workflow-runs", headers={"Authorization": ""}).status_code == 401
    here = HttpSurface(api.client)
    first = check_scenario(here, item)
    exported = here.export(item.workflow_keys())

    engine, url = second_instance
    with engine.begin() as conn:
        tenant = create_tenant(conn, "elsewhere")["id"]
        _, key = create_api_key(conn, tenant, name="admin", permissions=PERMISSIONS)
    other = create_app(Settings(database_url=url), engine=engine, registry=examples_registry())
    with TestClient(other) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        there = HttpSurface(client)
        there.import_bundle(exported)
        assert same_but_exported_at(there.export(item.workflow_keys()), exported)
        second = check_scenario(there, item, publish=False)
    assert without_at(second.run["vars"]) == without_at(first.run["vars"])


def test_cli_against_a_running_server(api, live_server, db_url, second_instance, tmp_path):
    env = {
        **os.environ,
        "ALGAFLOW_URL": live_server,
        "ALGAFLOW_API_KEY": api.key,
        "ALGAFLOW_SCHEMA_DIRS": str(SCHEMAS),
    }
    env.pop("ALGAFLOW_DATABASE_URL", None)
    item = scenario("hello")
    surface = CliSurface(env, tmp_path)
    check_scenario(surface, item)
    exported = surface.export(item.workflow_keys())
    assert (
        exported
        == api.client.post(
            "/api/workflow-definitions/export",
            json={"keys": item.workflow_keys(), "exportedAt": _at(exported)},
        ).content
    )

    _, url = second_instance
    offline = CliSurface({**env, "ALGAFLOW_URL": ""}, tmp_path)
    offline.cli("bundle", "import", "--file", str(tmp_path / "exported.json"),
                "--database-url", url)  # fmt: skip
    again = offline.cli("bundle", "export", "--all", "--database-url", url).encode("utf-8")
    assert same_but_exported_at(again, exported)


def _at(bundle: bytes) -> str:
    return json.loads(bundle)["exportedAt"]
