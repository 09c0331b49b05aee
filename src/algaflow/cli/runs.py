"""``algaflow runs|events|tasks`` and ``algaflow worker``: run services on the local database."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer

from algaflow.errors import AlgaflowError
from algaflow.runtime import service
from algaflow.runtime.worker import DEFAULT_INTERVAL_S, run_worker

from .common import (
    DatabaseUrlOption,
    JsonOption,
    PluginOption,
    TenantOption,
    fail,
    load_registry,
    open_engine,
    print_json,
    print_table,
    resolve_tenant,
    settings_for,
    stdout,
)
from .workflows import read_json_file

runs_app = typer.Typer(help="Workflow runs.", no_args_is_help=True)
events_app = typer.Typer(help="Workflow events.", no_args_is_help=True)
tasks_app = typer.Typer(help="Human tasks.", no_args_is_help=True)


@events_app.callback()
def _events() -> None:
    """Workflow events (a group even with one command, so ``events emit`` stays stable)."""


T = TypeVar("T")
_RUN_COLUMNS = [("RUN", "runId"), ("WORKFLOW", "workflowId"), ("VERSION", "workflowVersion"),
                ("STATUS", "status"), ("NODE", "nodePath"), ("STARTED", "startedAt")]  # fmt: skip
_TASK_COLUMNS = [("TASK", "taskId"), ("RUN", "runId"), ("TYPE", "taskType"), ("TITLE", "title"),
                 ("STATUS", "status")]  # fmt: skip
PayloadOption = typer.Option(None, "--payload", help="JSON file with the payload.")


def _guard(fn: Callable[[], T]) -> T:
    try:
        return fn()
    except AlgaflowError as exc:
        fail(exc)


def _context(database_url: str | None, tenant: str, plugins: list[str] | None = None) -> Any:
    settings = settings_for(database_url, plugins)
    engine = open_engine(settings)
    return engine, resolve_tenant(engine, tenant), settings


def _payload(path: Path | None) -> Any:
    return {} if path is None else read_json_file(path)


def _show_run(run: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(run)
        return
    print_table([run], _RUN_COLUMNS)
    if run.get("error"):
        stdout.print(f"error: {run['error'].get('message')}", highlight=False)
    if run.get("steps"):
        print_table(run["steps"], [("STEP", "stepPath"), ("ID", "definitionStepId"),
                                   ("STATUS", "status"), ("ATTEMPT", "attempt")])  # fmt: skip


@runs_app.command("start")
def start(
    workflow_id: str = typer.Argument(..., help="Workflow id."),
    version: int | None = typer.Option(None, "--version", min=1),
    payload: Path | None = PayloadOption,
    tenant: str = TenantOption,
    database_url: str | None = DatabaseUrlOption,
    plugin: list[str] | None = PluginOption,
    as_json: bool = JsonOption,
) -> None:
    """Start a run and execute it until it waits or ends."""

    def go() -> dict[str, Any]:
        engine, tenant_id, settings = _context(database_url, tenant, plugin)
        return service.start_run_durable(engine, tenant_id, workflow_id,
                                         registry=load_registry(settings), version=version,
                                         payload=_payload(payload))  # fmt: skip

    _show_run(_guard(go), as_json)


@runs_app.command("show")
def show(
    run_id: str,
    tenant: str = TenantOption,
    database_url: str | None = DatabaseUrlOption,
    as_json: bool = JsonOption,
) -> None:
    """One run with its steps and waits."""

    def go() -> dict[str, Any]:
        engine, tenant_id, _ = _context(database_url, tenant)
        with engine.connect() as conn:
            return service.get_run(conn, tenant_id, run_id)

    _show_run(_guard(go), as_json)


@runs_app.command("list")
def list_(
    workflow_id: str | None = typer.Option(None, "--workflow-id"),
    status: str | None = typer.Option(None, "--status"),
    limit: int = typer.Option(service.DEFAULT_LIMIT, "--limit", min=1, max=1000),
    tenant: str = TenantOption,
    database_url: str | None = DatabaseUrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Runs, newest first."""

    def go() -> list[dict[str, Any]]:
        engine, tenant_id, _ = _context(database_url, tenant)
        with engine.connect() as conn:
            return service.list_runs(conn, tenant_id, workflow_id=workflow_id, status=status,
                                     limit=limit)  # fmt: skip

    runs = _guard(go)
    print_json(runs) if as_json else print_table(runs, _RUN_COLUMNS)


@runs_app.command("cancel")
def cancel(
    run_id: str,
    tenant: str = TenantOption,
    database_url: str | None = DatabaseUrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Cancel a run, its open waits and tasks, and its child runs."""

    def go() -> dict[str, Any]:
        engine, tenant_id, _ = _context(database_url, tenant)
        return service.cancel_run_durable(engine, tenant_id, run_id)

    _show_run(_guard(go), as_json)


@events_app.command("emit")
def emit(
    name: str = typer.Argument(..., help="Event name, e.g. TICKET_CREATED."),
    payload: Path | None = PayloadOption,
    correlation_key: str | None = typer.Option(None, "--correlation-key"),
    payload_schema_ref: str | None = typer.Option(None, "--payload-schema-ref"),
    event_id: str | None = typer.Option(None, "--event-id", help="Makes delivery idempotent."),
    tenant: str = TenantOption,
    database_url: str | None = DatabaseUrlOption,
    plugin: list[str] | None = PluginOption,
) -> None:
    """Resume matching event waits and start the workflows the event triggers."""

    def go() -> dict[str, Any]:
        engine, tenant_id, settings = _context(database_url, tenant, plugin)
        return service.emit_event_durable(
            engine, tenant_id, name, _payload(payload), registry=load_registry(settings),
            correlation_key=correlation_key, payload_schema_ref=payload_schema_ref,
            event_id=event_id,
        )  # fmt: skip

    print_json(_guard(go))


@tasks_app.command("list")
def tasks_list(
    status: str | None = typer.Option("PENDING", "--status"),
    run_id: str | None = typer.Option(None, "--run-id"),
    tenant: str = TenantOption,
    database_url: str | None = DatabaseUrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Human tasks (pending by default)."""

    def go() -> list[dict[str, Any]]:
        engine, tenant_id, _ = _context(database_url, tenant)
        with engine.connect() as conn:
            return service.list_tasks(conn, tenant_id, status=status, run_id=run_id)

    tasks = _guard(go)
    print_json(tasks) if as_json else print_table(tasks, _TASK_COLUMNS)


@tasks_app.command("complete")
def tasks_complete(
    task_id: str,
    output: Path | None = typer.Option(None, "--output", help="JSON file with the response."),
    tenant: str = TenantOption,
    database_url: str | None = DatabaseUrlOption,
    plugin: list[str] | None = PluginOption,
) -> None:
    """Complete a task; its run resumes."""

    def go() -> dict[str, Any]:
        engine, tenant_id, settings = _context(database_url, tenant, plugin)
        return service.complete_task_durable(engine, tenant_id, task_id, _payload(output),
                                             registry=load_registry(settings))  # fmt: skip

    print_json(_guard(go))


def worker(
    interval: float = typer.Option(DEFAULT_INTERVAL_S, "--interval", min=0.05),
    database_url: str | None = DatabaseUrlOption,
    plugin: list[str] | None = PluginOption,
) -> None:
    """Resume due timers and retries and runs left by a stopped process, until interrupted."""
    settings = settings_for(database_url, plugin)
    engine = _guard(lambda: open_engine(settings))
    stop = threading.Event()
    try:
        run_worker(engine, load_registry(settings), stop=stop, interval_s=interval)
    except KeyboardInterrupt:
        stop.set()
