"""``algaflow tenants|keys`` (in this process) and ``serve`` (the executable): keys work over HTTP
until revoked, and the first start of the embedded default prints one admin key, once."""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest
from tests.api.bundle_builders import BASE, EXPORT, bundle, encode, workflow
from tests.cli.cli_helpers import ALGAFLOW, clean_env

from algaflow import __version__


def ok(result: subprocess.CompletedProcess[bytes]) -> bytes:
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_tenants_and_keys_then_revocation_over_http(cli, api, db_url, live_server):
    db = ("--database-url", db_url)
    created = json.loads(ok(cli("tenants", "create", "acme", "--json", *db)))
    assert created["name"] == "acme"
    again = cli("tenants", "create", "acme", *db)
    assert again.returncode == 4 and again.stderr.startswith(b"error TENANT_NAME_CONFLICT: ")
    listed = json.loads(ok(cli("tenants", "list", "--json", *db)))
    assert {"id": created["id"], "name": "acme"} in listed
    assert "acme" in ok(cli("tenants", "list", *db)).decode()

    made = json.loads(
        ok(
            cli(
                "keys",
                "create",
                "--tenant",
                "acme",
                "--permission",
                "workflow:admin",
                "--json",
                *db,
            )
        )
    )
    secret = made["key"]
    assert secret.startswith("afk_") and made["permissions"] == ["workflow:admin"]
    human = ok(cli("keys", "create", "--tenant", "acme", "--permission", "workflow:read", *db))
    assert "not shown again" in human.decode()
    bad = cli("keys", "create", "--tenant", "acme", "--permission", "workflow:everything", *db)
    assert bad.returncode == 1 and bad.stderr.startswith(b"error INVALID_PERMISSION: ")
    nobody = cli("keys", "create", "--tenant", "nobody", *db)
    assert nobody.returncode == 1 and nobody.stderr.startswith(b"error TENANT_NOT_FOUND: ")

    keys = json.loads(ok(cli("keys", "list", "--json", *db)))
    mine = next(k for k in keys if k["id"] == made["id"])
    assert mine["tenant"] == "acme" and mine["revoked"] is False
    assert secret[:12] == mine["prefix"]
    listing = ok(cli("keys", "list", *db)) + ok(cli("keys", "list", "--json", *db))
    assert secret.encode() not in listing  # shown once, stored hashed

    # The key works over HTTP, sees only its tenant, and stops working once revoked.
    api.client.post(f"{BASE}/import", content=encode(bundle(workflow("tenant-a.only"))))
    with httpx.Client(base_url=live_server, headers={"x-api-key": secret}) as http:
        assert http.get(BASE).json() == []
        assert http.post(EXPORT, json={"keys": ["tenant-a.only"]}).status_code == 404
        imported = http.post(f"{BASE}/import", content=encode(bundle(workflow("acme.one"))))
        assert imported.status_code == 200, imported.text
        assert [w["key"] for w in http.get(BASE).json()] == ["acme.one"]
        assert "revoked" in ok(cli("keys", "revoke", made["id"], *db)).decode()
        gone = http.get(BASE)
        assert gone.status_code == 401 and gone.json()["code"] == "UNAUTHENTICATED"
    twice = cli("keys", "revoke", made["id"], *db)
    assert twice.returncode == 1 and twice.stderr.startswith(b"error API_KEY_NOT_FOUND: ")
    listed_after = json.loads(ok(cli("keys", "list", "--json", *db)))
    assert next(k for k in listed_after if k["id"] == made["id"])["revoked"] is True


class Served:
    """``algaflow serve`` in the background; its stdout lines are collected as they come."""

    def __init__(self, database: Path | str, port: int, *extra: str) -> None:
        self.port = port
        self.base = f"http://127.0.0.1:{self.port}"
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [
                str(ALGAFLOW),
                "serve",
                "--port",
                str(self.port),
                "--database-url",
                database if isinstance(database, str) else f"sqlite:///{database}",
                *extra,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=clean_env(),
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.decode())

    def wait_healthy(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "algaflow serve exited"
            try:
                if httpx.get(self.base + "/healthz", timeout=0.5).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError("algaflow serve did not become healthy")

    def printed(self) -> str:
        return "".join(self.lines)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self._reader.join(timeout=10)


def test_serve_first_start_prints_one_admin_key_once(cli, tmp_path, free_port):
    database = tmp_path / "x.db"
    # A read-only command creates no database; one that adds a workflow does, and makes no API
    # key, so the first start still prints one.
    url = f"sqlite:///{database}"
    missing = cli("workflows", "list", "--database-url", url)
    assert missing.returncode == 1 and b"DATABASE_NOT_FOUND" in missing.stderr
    assert not database.exists()
    created = cli("workflows", "create", "--key", "local.first", "--name", "First",
                  "--payload-schema-ref", "payload.Text.v1", "--database-url", url)  # fmt: skip
    assert created.returncode == 0, created.stderr
    first = Served(database, free_port())
    try:
        first.wait_healthy()
        # Printed before the server answers, and flushed: a pipe (a log collector) sees it now.
        match = re.search(r"^export ALGAFLOW_API_KEY=(afk_\S+)$", first.printed(), re.MULTILINE)
        assert match, first.printed()
        key = match.group(1)
        # The start lines say what serves and on what.
        assert f"algaflow {__version__} serving http://127.0.0.1:" in first.printed()
        assert f"database:       {url}" in first.printed()
        assert "schema folders: none (ALGAFLOW_SCHEMA_DIRS)" in first.printed()
        assert httpx.get(first.base + "/healthz").json()["status"] == "ok"
        assert httpx.get(first.base + BASE).status_code == 401
        with httpx.Client(base_url=first.base, headers={"Authorization": f"Bearer {key}"}) as http:
            assert [w["key"] for w in http.get(BASE).json()] == ["local.first"]
            imported = http.post(f"{BASE}/import", content=encode(bundle(workflow("served.one"))))
            assert imported.status_code == 200, imported.text
            assert http.post(EXPORT, json={"all": True}).status_code == 200
    finally:
        first.stop()

    second = Served(database, free_port())
    try:
        second.wait_healthy()
        listed = httpx.get(second.base + BASE, headers={"x-api-key": key})
        assert [w["key"] for w in listed.json()] == ["local.first", "served.one"]
    finally:
        second.stop()
    assert "ALGAFLOW_API_KEY" not in second.printed() and key not in second.printed()


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_serve_on_a_database_without_a_key_says_how_to_make_one(db_url, free_port):
    """PostgreSQL gets no bootstrap key: the start lines say how to create the first one."""
    served = Served(db_url, free_port(), "--migrate")
    try:
        served.wait_healthy()
        text = served.printed()
        assert f"database:       {db_url}" in text
        assert "No API key exists yet" in text and "algaflow keys create --database-url" in text
        assert "ALGAFLOW_API_KEY" in text and "--api-key" in text
        assert "export ALGAFLOW_API_KEY=" not in text
    finally:
        served.stop()
