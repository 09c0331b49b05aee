"""The local backend: the service functions on a database, in this process.

Kept out of ``backends`` (the protocol and the server's backend) because it needs SQLAlchemy, the
runtime and the bundle importer: ``common.open_backend`` imports it only for a database.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import Any

from sqlalchemy.engine import Engine

from algaflow.config import Settings
from algaflow.definitions.views import workflow_view
from algaflow.registry import Registry
from algaflow.runtime import service
from algaflow.services import UnitOfWork
from algaflow.services.bundles import export_bundle_bytes_on, import_bundle
from algaflow.services.definitions import publish_on
from algaflow.store import workflows as store
from algaflow.store.engine import write_transaction
from algaflow.store.tenants import DEFAULT_TENANT_NAME

from .backends import Json, Progress
from .database import load_registry, open_engine, resolve_tenant


class LocalBackend:
    """The service functions on a database, in this process (opened on first use)."""

    reports_progress = True

    def __init__(self, settings: Settings, tenant: str | None) -> None:
        self._settings = settings
        self._tenant = tenant or DEFAULT_TENANT_NAME

    @cached_property
    def _engine(self) -> Engine:
        return open_engine(self._settings)

    @cached_property
    def _tenant_id(self) -> str:
        return resolve_tenant(self._engine, self._tenant)

    @cached_property
    def _registry(self) -> Registry:
        return load_registry(self._settings)

    def close(self) -> None:
        if "_engine" in self.__dict__:
            self._engine.dispose()

    def _read(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        tenant_id = self._tenant_id
        with self._engine.connect() as conn:
            return fn(conn, tenant_id, *args, **kwargs)

    def _write(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        tenant_id = self._tenant_id
        with write_transaction(self._engine) as conn:
            return fn(conn, tenant_id, *args, **kwargs)

    def _durable(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """The ``*_durable`` services: they commit after every step, so they take the engine."""
        return fn(self._engine, self._tenant_id, *args, **kwargs)

    def list_workflows(
        self, *, key_prefix: str | None, status: str | None, paused: bool | None
    ) -> list[Json]:
        rows = self._read(store.list_workflows, key_prefix=key_prefix, status=status, paused=paused)
        return [workflow_view(r) for r in rows]

    def get_workflow(self, workflow_id: str) -> Json:
        return workflow_view(self._read(store.get_workflow, workflow_id), with_draft=True)

    def find_workflow_by_key(self, key: str) -> Json | None:
        row = self._read(store.find_workflow_by_key, key)
        return None if row is None else workflow_view(row, with_draft=True)

    def create_workflow(
        self, *, key: str, name: str | None, payload_schema_ref: str | None, definition: Any
    ) -> Json:
        row = self._write(
            store.create_workflow,
            key=key,
            name=name,
            payload_schema_ref=payload_schema_ref,
            definition=definition,
        )
        return workflow_view(row, with_draft=True)

    def delete_workflow(self, workflow_id: str) -> None:
        self._write(store.delete_workflow, workflow_id)

    def publish_workflow(self, workflow_id: str, *, version: int | None, definition: Any) -> Json:
        return self._write(
            publish_on,
            workflow_id,
            registry=self._registry,
            version=version,
            definition=definition,
        )

    def start_run(self, workflow_id: str, *, version: int | None, payload: Any) -> Json:
        return self._durable(
            service.start_run_durable,
            workflow_id,
            registry=self._registry,
            version=version,
            payload=payload,
        )

    def get_run(self, run_id: str) -> Json:
        return self._read(service.get_run, run_id)

    def list_runs(self, *, workflow_id: str | None, status: str | None, limit: int) -> list[Json]:
        return self._read(service.list_runs, workflow_id=workflow_id, status=status, limit=limit)

    def cancel_run(self, run_id: str) -> Json:
        return self._durable(service.cancel_run_durable, run_id)

    def emit_event(
        self,
        name: str,
        payload: Any,
        *,
        correlation_key: str | None,
        payload_schema_ref: str | None,
        event_id: str | None,
    ) -> Json:
        return self._durable(
            service.emit_event_durable,
            name,
            payload,
            registry=self._registry,
            correlation_key=correlation_key,
            payload_schema_ref=payload_schema_ref,
            event_id=event_id,
        )

    def list_tasks(self, *, status: str, run_id: str | None) -> list[Json]:
        return self._read(service.list_tasks, status=status, run_id=run_id)

    def complete_task(self, task_id: str, output: Any) -> Json:
        return self._durable(
            service.complete_task_durable, task_id, output, registry=self._registry
        )

    def export_bundle(
        self,
        *,
        workflow_ids: list[str] | None,
        keys: list[str] | None,
        all: bool,
        exported_at: str | None,
    ) -> bytes:
        return self._read(
            export_bundle_bytes_on,
            workflow_ids=workflow_ids,
            keys=keys,
            all=all,
            exported_at=exported_at,
        )

    def import_bundle(
        self, raw: bytes, bundle: Any, *, force: bool, dry_run: bool, progress: Progress | None
    ) -> Json:
        return import_bundle(
            UnitOfWork(self._engine),
            self._tenant_id,
            bundle,
            registry=self._registry,
            force=force,
            dry_run=dry_run,
            progress=progress,
        )
