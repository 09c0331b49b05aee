"""Every example bundle on a fresh instance: import -> publish -> trigger -> the expected run; then
export -> import into another fresh database -> export gives the same bytes (but ``exportedAt``)
and the re-imported workflows run to the same results. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from tests.e2e.e2e_scenarios import (
    SCENARIO_IDS,
    Send,
    check_scenario,
    examples_registry,
    same_but_exported_at,
    scenario,
    without_at,
)

from algaflow.registry import Registry
from algaflow.services.backends import RunBackend
from algaflow.services.bundles import export_bundle_bytes_on as export_bundle_bytes
from algaflow.services.bundles import import_bundle_on as import_bundle
from algaflow.services.definitions import publish_on as publish_workflow
from algaflow.services.events import emit_event
from algaflow.services.runs import get_run, list_runs, start_run
from algaflow.services.unit_of_work import UnitOfWork
from algaflow.store.engine import make_engine
from algaflow.store.tenants import create_tenant
from algaflow.store.workflows import get_workflow_by_key


class ServiceSurface:
    """The service functions the API and the CLI call, on one tenant."""

    def __init__(
        self, engine: Engine, tenant: str, registry: Registry, backend: RunBackend | None = None
    ) -> None:
        self.engine, self.tenant, self.registry = engine, tenant, registry
        self.backend = backend

    def import_bundle(self, data: bytes) -> dict[str, Any]:
        with self.engine.begin() as conn:
            return import_bundle(conn, self.tenant, data, registry=self.registry)

    def workflow_id(self, key: str) -> str:
        with self.engine.connect() as conn:
            return get_workflow_by_key(conn, self.tenant, key)["workflow_id"]

    def publish(self, key: str) -> int:
        with self.engine.begin() as conn:
            result = publish_workflow(
                conn, self.tenant, self.workflow_id(key), registry=self.registry
            )
        assert result["ok"], result
        return result["publishedVersion"]

    def send(self, send: Send) -> None:
        if send.event:
            result = emit_event(
                UnitOfWork(self.engine),
                self.tenant,
                send.event,
                send.payload_value(),
                registry=self.registry,
                wait=True,
                backend=self.backend,
            )
            assert not result.get("errors"), result
        else:
            start_run(
                UnitOfWork(self.engine), self.tenant, self.workflow_id(send.start or ""),
                registry=self.registry, payload=send.payload_value(), backend=self.backend,
            )  # fmt: skip

    def runs(self, key: str) -> list[dict[str, Any]]:
        return list_runs(UnitOfWork(self.engine), self.tenant, workflow_id=self.workflow_id(key))

    def run(self, run_id: str) -> dict[str, Any]:
        return get_run(UnitOfWork(self.engine), self.tenant, run_id)

    def export(self, keys: list[str]) -> bytes:
        with self.engine.connect() as conn:
            return export_bundle_bytes(conn, self.tenant, keys=keys)


@pytest.fixture
def registry() -> Registry:
    return examples_registry()


@pytest.fixture
def second_engine(_sqlite_template: Path, tmp_path: Path) -> Iterator[Engine]:
    """Another fresh, migrated database (SQLite) to import the export into."""
    target = tmp_path / "second.db"
    shutil.copyfile(_sqlite_template, target)
    engine = make_engine(f"sqlite:///{target}")
    yield engine
    engine.dispose()


def _tenant(engine: Engine, name: str) -> str:
    with engine.begin() as conn:
        return create_tenant(conn, name)["id"]


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_example_runs_and_round_trips(engine, tenant, second_engine, registry, scenario_id):
    item = scenario(scenario_id)
    here = ServiceSurface(engine, tenant, registry)
    first = check_scenario(here, item)
    exported = here.export(item.workflow_keys())
    for workflow in json.loads(exported)["workflows"]:
        assert [v["version"] for v in workflow["publishedVersions"]] == [1, 2]

    there = ServiceSurface(second_engine, _tenant(second_engine, "elsewhere"), registry)
    there.import_bundle(exported)
    assert same_but_exported_at(there.export(item.workflow_keys()), exported)
    second = check_scenario(there, item, publish=False)
    assert without_at(second.run["vars"]) == without_at(first.run["vars"])
    steps = [[s["definitionStepId"] for s in o.run["steps"]] for o in (first, second)]
    assert steps[0] == steps[1]


def test_parent_calls_its_own_child_after_import_gives_new_ids(engine, tenant, registry):
    """The source ids are taken by the first import, so the second tenant gets new ids and the
    parent's ``control.callWorkflow`` is rewritten to its own child."""
    item = scenario("parent-child")
    first = ServiceSurface(engine, tenant, registry)
    first.import_bundle(item.path.read_bytes())
    second = ServiceSurface(engine, _tenant(engine, "second"), registry)
    summary = second.import_bundle(item.path.read_bytes())
    ids = {w["key"]: w["workflowId"] for w in summary["workflows"]}
    assert set(ids.values()).isdisjoint(first.workflow_id(k) for k in item.workflow_keys())
    exported = json.loads(second.export(item.workflow_keys()))
    parent = next(w for w in exported["workflows"] if w["key"] == "examples.parent-child")
    call = parent["publishedVersions"][0]["definition"]["steps"][0]
    assert call["workflowId"] == ids["examples.parent-child.shout"]

    outcome = check_scenario(second, item, publish=False, version=1)
    assert outcome.children[0]["workflowId"] == ids["examples.parent-child.shout"]
    assert first.runs("examples.parent-child.shout") == []


def test_approval_waits_for_the_decision_on_its_own_invoice(engine, tenant, registry):
    item = scenario("approval-wait")
    surface = ServiceSurface(engine, tenant, registry)
    surface.import_bundle(item.path.read_bytes())
    surface.send(item.sends[0])
    other = {"invoiceId": "inv-9999", "decision": "rejected", "approver": "mallory"}
    result = emit_event(
        UnitOfWork(engine), tenant, "INVOICE_APPROVAL_DECIDED", other, registry=registry, wait=True
    )
    assert result["resumedRuns"] == []
    [run] = surface.runs(item.run_of)
    assert run["status"] not in ("SUCCEEDED", "FAILED")
    surface.send(item.sends[1])
    run = surface.run(run["runId"])
    assert run["status"] == "SUCCEEDED"
    assert run["vars"]["summary"] == "inv-1001 approved by grace"
