"""``algaflow runs|events|tasks``: the run routes of the HTTP API; and ``worker`` (a database).

``worker`` imports the runtime when it runs, so that loading the CLI does not.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Literal

import typer

from algaflow.kernel.errors import AlgaflowError

from .client import DEFINITIONS, RUNS, ApiClient, present, segment
from .common import (
    EXIT_ERROR,
    DatabaseUrlOption,
    JsonOption,
    PluginOption,
    ProfileOption,
    fail,
    print_json,
    print_table,
    read_json_file,
    stdout,
    uses_client,
)
from .database import load_registry, open_engine, settings_for

runs_app = typer.Typer(help="Workflow runs.", no_args_is_help=True)
events_app = typer.Typer(help="Workflow events.", no_args_is_help=True)
tasks_app = typer.Typer(help="Human tasks.", no_args_is_help=True)


@events_app.callback()
def _events() -> None:
    """Workflow events (a group even with one command, so ``events emit`` stays stable)."""


_RUN_COLUMNS = [("RUN", "runId"), ("WORKFLOW", "workflowId"), ("VERSION", "workflowVersion"),
                ("STATUS", "status"), ("NODE", "nodePath"), ("STARTED", "startedAt")]  # fmt: skip
_LIST_COLUMNS = [("RUN", "runId"), ("KEY", "workflowKey"), ("VERSION", "workflowVersion"),
                 ("STATUS", "status"), ("NODE", "nodePath"), ("STARTED", "startedAt")]  # fmt: skip
_TASK_COLUMNS = [("TASK", "taskId"), ("RUN", "runId"), ("TYPE", "taskType"), ("TITLE", "title"),
                 ("STATUS", "status")]  # fmt: skip
TASKS = "/api/workflow/tasks"
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
@uses_client
def start(
    client: ApiClient,
    workflow: str = typer.Argument(..., help="Workflow id or key."),
    version: int | None = typer.Option(
        None, "--version", min=1, help="A published version (default: the latest)."
    ),
    payload: Path | None = PayloadOption,
    as_json: bool = JsonOption,
) -> None:
    """Start a run and execute it until it waits or ends."""
    workflow_id = client.find_workflow(workflow)["workflowId"]
    body = {"workflowId": workflow_id, "workflowVersion": version, "payload": _payload(payload)}
    _show_run(client.call("POST", RUNS, body), as_json)


@runs_app.command("show")
@uses_client
def show(client: ApiClient, run_id: str, as_json: bool = JsonOption) -> None:
    """One run with its steps and waits."""
    _show_run(client.call("GET", f"{RUNS}/{segment(run_id)}"), as_json)


@runs_app.command("list")
@uses_client
def list_(
    client: ApiClient,
    workflow: str | None = typer.Option(None, "--workflow-id", "--workflow", help="Id or key."),
    status: str | None = typer.Option(
        None, "--status", help="RUNNING, WAITING, SUCCEEDED, FAILED or CANCELED."
    ),
    limit: int | None = typer.Option(None, "--limit", min=1, help="At most this many runs."),
    as_json: bool = JsonOption,
) -> None:
    """Runs, newest first, each with its workflow's key."""
    workflow_id = None if workflow is None else client.find_workflow(workflow)["workflowId"]
    params = present(workflowId=workflow_id, status=status, limit=limit)
    runs = client.call("GET", RUNS, params=params)
    keys = {w["workflowId"]: w["key"] for w in client.call("GET", DEFINITIONS)} if runs else {}
    runs = [{**run, "workflowKey": keys.get(run["workflowId"])} for run in runs]
    print_json(runs) if as_json else print_table(runs, _LIST_COLUMNS)


@runs_app.command("cancel")
@uses_client
def cancel(client: ApiClient, run_id: str, as_json: bool = JsonOption) -> None:
    """Cancel a run, its open waits and tasks, and its child runs."""
    _show_run(client.call("POST", f"{RUNS}/{segment(run_id)}/cancel"), as_json)


@events_app.command("emit")
@uses_client
def emit(
    client: ApiClient,
    name: str = typer.Argument(..., help="Event name, e.g. TICKET_CREATED."),
    payload: Path | None = PayloadOption,
    correlation_key: str | None = typer.Option(None, "--correlation-key"),
    payload_schema_ref: str | None = typer.Option(None, "--payload-schema-ref"),
    event_id: str | None = typer.Option(None, "--event-id", help="Makes delivery idempotent."),
    wait: bool = typer.Option(
        False, "--wait", help="Answer once the runs wait or have ended (default: once recorded)."
    ),
) -> None:
    """Resume matching event waits and start the workflows the event triggers; exit 1 when a
    triggered start was refused (the answer's ``errors``)."""
    body = {"eventName": name, "payload": _payload(payload), "correlationKey": correlation_key,
            "payloadSchemaRef": payload_schema_ref, "eventId": event_id}  # fmt: skip
    params = {"wait": "true"} if wait else None
    result = client.call("POST", "/api/workflow/events", body, params=params)
    print_json(result)
    if result.get("errors"):
        raise typer.Exit(EXIT_ERROR)


@tasks_app.command("list")
@uses_client
def tasks_list(
    client: ApiClient,
    status: Literal["PENDING", "COMPLETED", "CANCELED"] = typer.Option("PENDING", "--status"),
    run_id: str | None = typer.Option(None, "--run-id"),
    as_json: bool = JsonOption,
) -> None:
    """Human tasks (pending by default)."""
    tasks = client.call("GET", TASKS, params=present(status=status, runId=run_id))
    print_json(tasks) if as_json else print_table(tasks, _TASK_COLUMNS)


@tasks_app.command("complete")
@uses_client
def tasks_complete(
    client: ApiClient,
    task_id: str,
    output_file: Path | None = typer.Option(
        None, "--output-file", help="JSON file with the task's output (the person's response)."
    ),
) -> None:
    """Complete a task with its output; its run resumes."""
    body = {"taskId": task_id, "output": _payload(output_file)}
    print_json(client.call("POST", TASKS, body))


def worker(
    interval: float | None = typer.Option(
        None, "--interval", min=0.05, help="Seconds between due-work polls."
    ),
    database_url: str | None = DatabaseUrlOption,
    plugin: list[str] | None = PluginOption,
    profile: str | None = ProfileOption,
) -> None:
    """Execute runs until interrupted.

    With the embedded runtime: new runs, due timers and retries, and runs left by a stopped
    process. With ALGAFLOW_RUNTIME=temporal: a Temporal worker for the run workflow and its
    activities (ALGAFLOW_TEMPORAL_ADDRESS, _NAMESPACE, _TASK_QUEUE), plus starting runs whose
    start was lost. Start as many as you like, on as many machines.
    """
    from algaflow.services.backends import configured_backend
    from algaflow.services.worker import DEFAULT_INTERVAL_S, run_worker

    try:
        settings = settings_for(database_url, plugin, profile)
        configured_backend(settings)
        engine = open_engine(settings)
    except AlgaflowError as err:
        fail(err)
    stop = threading.Event()
    try:
        run_worker(
            engine, load_registry(settings), stop=stop, interval_s=interval or DEFAULT_INTERVAL_S,
            settings=settings, host_runs=True,
        )  # fmt: skip
    except KeyboardInterrupt:
        stop.set()
