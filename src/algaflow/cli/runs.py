"""``algaflow runs|events|tasks``, on a database or a server (``uses_backend``); ``worker``.

``worker`` imports the runtime when it runs, so that loading the CLI does not.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Literal

import typer

from algaflow.kernel.errors import AlgaflowError

from .backends import Backend
from .common import (
    DatabaseUrlOption,
    JsonOption,
    PluginOption,
    fail,
    print_json,
    print_table,
    read_json_file,
    stdout,
    uses_backend,
)
from .constants import DEFAULT_RUN_LIMIT, DEFAULT_WORKER_INTERVAL_S, INT4_MAX, RUN_STATUSES
from .database import load_registry, open_engine, settings_for

runs_app = typer.Typer(help="Workflow runs.", no_args_is_help=True)
events_app = typer.Typer(help="Workflow events.", no_args_is_help=True)
tasks_app = typer.Typer(help="Human tasks.", no_args_is_help=True)


@events_app.callback()
def _events() -> None:
    """Workflow events (a group even with one command, so ``events emit`` stays stable)."""


_RUN_COLUMNS = [("RUN", "runId"), ("WORKFLOW", "workflowId"), ("VERSION", "workflowVersion"),
                ("STATUS", "status"), ("NODE", "nodePath"), ("STARTED", "startedAt")]  # fmt: skip
_TASK_COLUMNS = [("TASK", "taskId"), ("RUN", "runId"), ("TYPE", "taskType"), ("TITLE", "title"),
                 ("STATUS", "status")]  # fmt: skip
RunStatus = Literal[RUN_STATUSES]  # type: ignore[valid-type]  # the statuses, as choices
PayloadOption = typer.Option(None, "--payload", help="JSON file with the payload.")


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
@uses_backend(plugins=True)
def start(
    backend: Backend,
    workflow_id: str = typer.Argument(..., help="Workflow id."),
    version: int | None = typer.Option(None, "--version", min=1, max=INT4_MAX),
    payload: Path | None = PayloadOption,
    as_json: bool = JsonOption,
) -> None:
    """Start a run and execute it until it waits or ends."""
    run = backend.start_run(workflow_id, version=version, payload=_payload(payload))
    _show_run(run, as_json)


@runs_app.command("show")
@uses_backend()
def show(backend: Backend, run_id: str, as_json: bool = JsonOption) -> None:
    """One run with its steps and waits."""
    _show_run(backend.get_run(run_id), as_json)


@runs_app.command("list")
@uses_backend()
def list_(
    backend: Backend,
    workflow_id: str | None = typer.Option(None, "--workflow-id"),
    status: RunStatus | None = typer.Option(None, "--status"),
    limit: int = typer.Option(DEFAULT_RUN_LIMIT, "--limit", min=1, max=1000),
    as_json: bool = JsonOption,
) -> None:
    """Runs, newest first."""
    runs = backend.list_runs(workflow_id=workflow_id, status=status, limit=limit)
    print_json(runs) if as_json else print_table(runs, _RUN_COLUMNS)


@runs_app.command("cancel")
@uses_backend()
def cancel(backend: Backend, run_id: str, as_json: bool = JsonOption) -> None:
    """Cancel a run, its open waits and tasks, and its child runs."""
    _show_run(backend.cancel_run(run_id), as_json)


@events_app.command("emit")
@uses_backend(plugins=True)
def emit(
    backend: Backend,
    name: str = typer.Argument(..., help="Event name, e.g. TICKET_CREATED."),
    payload: Path | None = PayloadOption,
    correlation_key: str | None = typer.Option(None, "--correlation-key"),
    payload_schema_ref: str | None = typer.Option(None, "--payload-schema-ref"),
    event_id: str | None = typer.Option(None, "--event-id", help="Makes delivery idempotent."),
) -> None:
    """Resume matching event waits and start the workflows the event triggers."""
    result = backend.emit_event(
        name,
        _payload(payload),
        correlation_key=correlation_key,
        payload_schema_ref=payload_schema_ref,
        event_id=event_id,
    )
    print_json(result)


@tasks_app.command("list")
@uses_backend()
def tasks_list(
    backend: Backend,
    status: Literal["PENDING", "COMPLETED", "CANCELED"] = typer.Option("PENDING", "--status"),
    run_id: str | None = typer.Option(None, "--run-id"),
    as_json: bool = JsonOption,
) -> None:
    """Human tasks (pending by default)."""
    tasks = backend.list_tasks(status=status, run_id=run_id)
    print_json(tasks) if as_json else print_table(tasks, _TASK_COLUMNS)


@tasks_app.command("complete")
@uses_backend(plugins=True)
def tasks_complete(
    backend: Backend,
    task_id: str,
    output: Path | None = typer.Option(None, "--output", help="JSON file with the response."),
) -> None:
    """Complete a task; its run resumes."""
    print_json(backend.complete_task(task_id, _payload(output)))


def worker(
    interval: float = typer.Option(DEFAULT_WORKER_INTERVAL_S, "--interval", min=0.05),
    database_url: str | None = DatabaseUrlOption,
    plugin: list[str] | None = PluginOption,
) -> None:
    """Resume due timers and retries and runs left by a stopped process, until interrupted."""
    from algaflow.runtime.embedded.worker import run_worker

    settings = settings_for(database_url, plugin)
    try:
        engine = open_engine(settings)
    except AlgaflowError as err:
        fail(err)
    stop = threading.Event()
    try:
        run_worker(engine, load_registry(settings), stop=stop, interval_s=interval)
    except KeyboardInterrupt:
        stop.set()
