"""Alga interoperability: every bundle of the Alga sample corpus, with stand-ins registered by a
plugin, goes through import -> publish -> trigger -> export, and the export is canonical and
round-trips through another fresh database. Prints a one-line tally."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from tests.e2e.e2e_scenarios import same_but_exported_at, without_at

from algaflow.bundle import dumps_canonical_bytes, loads_json
from algaflow.definitions.paths import walk_steps
from algaflow.kernel.errors import AlgaflowError
from algaflow.registry import Registry, default_registry, load_plugin
from algaflow.services.backends import RunBackend
from algaflow.services.bundles import export_bundle_bytes_on as export_bundle_bytes
from algaflow.services.bundles import import_bundle_on as import_bundle
from algaflow.services.definitions import publish_on as publish_workflow
from algaflow.services.events import emit_event
from algaflow.services.runs import get_run, list_runs
from algaflow.services.unit_of_work import UnitOfWork
from algaflow.store.engine import make_engine
from algaflow.store.run_tables import workflow_run_waits
from algaflow.store.tenants import create_tenant
from algaflow.store.workflows import get_workflow, replace_draft
from algaflow.testing import standins

PLUGIN = "algaflow.testing.standins:register"
#: Alga's harness bundles call their sub-workflow through this id and point it at the child.
PLACEHOLDER = "00000000-0000-0000-0000-000000000000"
REFUSED_ON_IMPORT = {"workflow-data-store-task-mirror.v1.json": "SCHEMA_VALIDATION_FAILED"}
#: The event submission itself is refused, and no run starts.
REFUSED_EVENT = {
    "schema-invalid-event-payload.bundle.json": "PAYLOAD_VALIDATION_FAILED",
    "schema-unknown-schema-ref.bundle.json": "UNKNOWN_PAYLOAD_SCHEMA_REF",
}
NO_RUN = {"runtime-paused-no-run.bundle.json"}


class Trial:
    """One corpus bundle in its own tenant; ``outcome`` says how it ended."""

    def __init__(
        self,
        engine: Engine,
        second: Engine,
        registry: Registry,
        path: Path,
        backend: RunBackend | None = None,
        tenant_name: str | None = None,
    ) -> None:
        self.engine, self.second, self.registry, self.path = engine, second, registry, path
        self.backend = backend
        self.raw = path.read_bytes()
        self.bundle = loads_json(self.raw)
        self.keys = [w["key"] for w in self.bundle["workflows"]]
        self.tenant_name = tenant_name or path.name
        self.tenant = _tenant(engine, self.tenant_name)

    def run(self, tally: Counter[str]) -> None:
        try:
            summary = self._import(self.engine, self.tenant, self.raw)
        except AlgaflowError as exc:
            assert exc.code == REFUSED_ON_IMPORT.get(self.path.name), exc
            tally["refused"] += 1
            return
        assert self.path.name not in REFUSED_ON_IMPORT, "import should have been refused"
        tally["imported"] += 1
        ids = {w["key"]: w["workflowId"] for w in summary["workflows"]}
        self._publish(ids)
        if self._trigger():
            tally["refused"] += 1
        self._resume_waits()
        self._check_runs()
        tally["ran"] += 1
        self._check_export()

    def _import(self, engine: Engine, tenant: str, data: bytes) -> dict[str, Any]:
        with engine.begin() as conn:
            return import_bundle(conn, tenant, data, registry=self.registry)

    def _publish(self, ids: dict[str, str]) -> None:
        """Children first; a placeholder call is pointed at the bundle's other workflow."""
        with self.engine.begin() as conn:
            drafts = {
                k: get_workflow(conn, self.tenant, i)["draft_definition"] for k, i in ids.items()
            }
            callers = {k for k, d in drafts.items() if _calls(d)}
            for key in sorted(ids, key=lambda k: k in callers):
                if key in callers:
                    [child] = [i for k, i in ids.items() if k != key]
                    replace_draft(conn, self.tenant, ids[key], _point_calls(drafts[key], child))
                result = publish_workflow(conn, self.tenant, ids[key], registry=self.registry)
                assert result["ok"], (key, result["errors"])

    def _trigger(self) -> bool:
        """Send each trigger event; True when the submission was refused as expected."""
        payload = standins.sample_payload(self.bundle, self.tenant)
        expected = REFUSED_EVENT.get(self.path.name)
        ref = self.bundle["workflows"][0]["metadata"]["payloadSchemaRef"]
        if expected == "PAYLOAD_VALIDATION_FAILED":
            payload["occurredAt"] = "not a date"  # a missing one is filled in
        elif expected == "UNKNOWN_PAYLOAD_SCHEMA_REF":
            ref = "payload.NoSuchStandIn.v1"
        for name in _event_names(self.bundle):
            if expected is None:
                result = self._emit(name, payload)
                assert not result.get("errors"), result
                continue
            with pytest.raises(AlgaflowError) as caught:
                self._emit(name, payload, payload_schema_ref=ref)
            assert caught.value.code == expected
        return expected is not None

    def _emit(self, name: str, payload: Any, **options: Any) -> dict[str, Any]:
        return emit_event(
            UnitOfWork(self.engine),
            self.tenant,
            name,
            payload,
            registry=self.registry,
            **options,
            wait=True,
            backend=self.backend,
        )

    def _resume_waits(self) -> None:
        """Deliver the events the runs wait for, by their correlation keys."""
        waits = workflow_run_waits
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(waits.c.event_name, waits.c.key).where(
                    waits.c.tenant == self.tenant,
                    waits.c.status == "WAITING",
                    waits.c.wait_type == "event",
                )
            ).all()
        for name, key in rows:
            self._emit(name, {}, correlation_key=key)

    def _check_runs(self) -> None:
        runs = list_runs(UnitOfWork(self.engine), self.tenant)
        if self.path.name in NO_RUN or self.path.name in REFUSED_EVENT:
            assert runs == [], runs
            return
        roots = [r for r in runs if r["parentRunId"] is None]
        triggered = [w for w in self.bundle["workflows"] if w["metadata"]["trigger"]]
        assert len(roots) == len(triggered), roots
        assert {r["status"] for r in runs} == {"SUCCEEDED"}, [
            (r["status"], r["error"]) for r in runs
        ]

    def results(self) -> list[str]:
        """Each run's status, variables (times left out) and step sequence, in a stable order."""
        found = []
        for listed in list_runs(UnitOfWork(self.engine), self.tenant):
            run = get_run(UnitOfWork(self.engine), self.tenant, listed["runId"])
            steps = [(s["stepPath"], s["status"], s["attempt"]) for s in run["steps"]]
            found.append(repr((run["status"], without_at(run["vars"]), steps)))
        return sorted(found)

    def _check_export(self) -> None:
        with self.engine.connect() as conn:
            exported = export_bundle_bytes(conn, self.tenant, keys=self.keys)
        assert dumps_canonical_bytes(loads_json(exported)) == exported
        elsewhere = _tenant(self.second, self.tenant_name)
        self._import(self.second, elsewhere, exported)
        with self.second.connect() as conn:
            again = export_bundle_bytes(conn, elsewhere, keys=self.keys)
        assert same_but_exported_at(again, exported)


def _tenant(engine: Engine, name: str) -> str:
    with engine.begin() as conn:
        return create_tenant(conn, name)["id"]


def _calls(definition: dict[str, Any]) -> bool:
    return any(s.get("type") == "control.callWorkflow" for _, s in walk_steps(definition["steps"]))


def _point_calls(definition: dict[str, Any], child: str) -> dict[str, Any]:
    copy = json.loads(json.dumps(definition))
    for _, step in walk_steps(copy["steps"]):
        if step.get("type") == "control.callWorkflow" and step["workflowId"] == PLACEHOLDER:
            step["workflowId"] = child
    return copy


def _event_names(bundle: dict[str, Any]) -> list[str]:
    names = [(w["metadata"]["trigger"] or {}).get("eventName") for w in bundle["workflows"]]
    return sorted({n for n in names if n})


@pytest.fixture
def standin_registry(corpus_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Registry:
    """Stand-ins registered the way a server would load them: a plugin named by module path."""
    monkeypatch.setenv(standins.ENV_VAR, str(corpus_dir))
    registry = default_registry()
    load_plugin(registry, PLUGIN)
    return registry


def test_every_corpus_bundle_imports_publishes_runs_and_exports(
    engine, standin_registry, corpus_dir, _sqlite_template, tmp_path, capsys
):
    target = tmp_path / "second.db"
    shutil.copyfile(_sqlite_template, target)
    second = make_engine(f"sqlite:///{target}")
    tally: Counter[str] = Counter()
    failures = []
    paths = sorted(corpus_dir.glob("*.json"))
    for path in paths:
        try:
            Trial(engine, second, standin_registry, path).run(tally)
        except (AssertionError, AlgaflowError) as exc:
            failures.append(f"{path.name}: {exc!r}"[:2000])
    second.dispose()
    with capsys.disabled():
        print(
            f"\nalga corpus ({engine.dialect.name}, {len(paths)} bundles): imported "
            f"{tally['imported']}, refused {tally['refused']} with the expected code, ran "
            f"{tally['ran']} to the expected state"
        )
    assert not failures, "\n".join(failures)
    expected_refusals = len(REFUSED_ON_IMPORT) + len(REFUSED_EVENT)
    assert tally["refused"] == expected_refusals
    assert tally["ran"] == tally["imported"] == len(paths) - len(REFUSED_ON_IMPORT)


@pytest.mark.slow
def test_every_corpus_bundle_runs_alike_on_temporal(
    engine, standin_registry, corpus_dir, temporal_workers, _sqlite_template, tmp_path
):
    """Each bundle's runs end with the same status, variables and step sequence on both
    backends (PostgreSQL only: the temporal runtime needs it)."""
    backend = temporal_workers(engine, standin_registry)
    target = tmp_path / "second.db"
    shutil.copyfile(_sqlite_template, target)
    second = make_engine(f"sqlite:///{target}")
    differences = []
    for path in sorted(corpus_dir.glob("*.json")):
        trials = [
            Trial(engine, second, standin_registry, path, chosen, f"{path.name}:{name}")
            for name, chosen in (("embedded", None), ("temporal", backend))
        ]
        for trial in trials:
            trial.run(Counter())
        embedded, on_temporal = (trial.results() for trial in trials)
        if embedded != on_temporal:
            differences.append((path.name, *_first_difference(embedded, on_temporal)))
    second.dispose()
    assert differences == [], "\n\n".join(map(repr, differences))


def _first_difference(left: list[str], right: list[str]) -> tuple[str, str]:
    """Where two result lists part (the start of the text where they differ), to read a failure."""
    one, two = "\n".join(left), "\n".join(right)
    at = next((i for i, (a, b) in enumerate(zip(one, two, strict=False)) if a != b), 0)
    return one[max(0, at - 80) : at + 200], two[max(0, at - 80) : at + 200]
