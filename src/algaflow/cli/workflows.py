"""``algaflow workflows``: the definition routes of the HTTP API, through :class:`ApiClient`."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import typer

from algaflow.kernel.errors import AlgaflowError

from .client import DEFINITIONS, ApiClient, present, segment
from .common import (
    JsonOption,
    YesOption,
    confirm,
    print_json,
    print_table,
    read_json_file,
    stdout,
    uses_client,
    uses_client_creating_database,
)

workflows_app = typer.Typer(help="Workflow definitions.", no_args_is_help=True)

_COLUMNS = [
    ("KEY", "key"),
    ("ID", "workflowId"),
    ("NAME", "name"),
    ("STATUS", "status"),
    ("PUBLISHED", "publishedVersion"),
    ("PAUSED", "isPaused"),
]
WorkflowArgument = typer.Argument(..., help="Workflow id or key.")


def read_definition(path: Path | None) -> dict[str, Any] | None:
    """A definition file's object: anything else is refused here, before a server refuses it."""
    if path is None:
        return None
    value = read_json_file(path)
    if not isinstance(value, dict):
        raise AlgaflowError(
            "INVALID_FIELD",
            f"{path}: a definition must be a JSON object.",
            details={"field": "definition"},
        )
    return value


@workflows_app.command("list")
@uses_client
def list_(
    client: ApiClient,
    key_prefix: str | None = typer.Option(None, "--key-prefix"),
    status: Literal["draft", "published"] | None = typer.Option(None, "--status"),
    paused: bool | None = typer.Option(None, "--paused/--not-paused"),
    as_json: bool = JsonOption,
) -> None:
    """List workflows ordered by key."""
    params = present(keyPrefix=key_prefix, status=status, paused=paused)
    views = client.call("GET", DEFINITIONS, params=params)
    print_json(views) if as_json else print_table(views, _COLUMNS)


def _show(view: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(view)
        return
    for label, key in [
        *_COLUMNS,
        ("PAYLOAD SCHEMA", "payloadSchemaRef"),
        ("DRAFT", "draftVersion"),
    ]:
        stdout.print(f"[bold]{label:<15}[/] {view[key]}", highlight=False)


@workflows_app.command("show")
@uses_client
def show(client: ApiClient, workflow: str = WorkflowArgument, as_json: bool = JsonOption) -> None:
    """One workflow with its draft definition."""
    _show(client.find_workflow(workflow), as_json)


@workflows_app.command("create")
@uses_client_creating_database
def create(
    client: ApiClient,
    key: str = typer.Option(..., "--key"),
    definition: Path | None = typer.Option(None, "--definition", help="Draft definition JSON."),
    name: str | None = typer.Option(None, "--name"),
    payload_schema_ref: str | None = typer.Option(None, "--payload-schema-ref"),
    as_json: bool = JsonOption,
) -> None:
    """Create a workflow (name and payload schema default to the definition's)."""
    body = {"key": key, "name": name, "payloadSchemaRef": payload_schema_ref,
            "definition": read_definition(definition)}  # fmt: skip
    view = client.call("POST", DEFINITIONS, body)
    if as_json:
        print_json(view)
    else:
        stdout.print(f"created {view['key']} ({view['workflowId']})", highlight=False)


@workflows_app.command("delete")
@uses_client
def delete(client: ApiClient, workflow: str = WorkflowArgument, yes: bool = YesOption) -> None:
    """Delete a workflow and its published versions (asks first on a terminal)."""
    view = client.find_workflow(workflow)
    confirm(f"Delete {view['key']} and all its published versions?", yes)
    client.call("DELETE", f"{DEFINITIONS}/{segment(view['workflowId'])}")
    stdout.print(f"deleted {view['key']} ({view['workflowId']})", highlight=False)


@workflows_app.command("versions")
@uses_client
def versions(
    client: ApiClient, workflow: str = WorkflowArgument, as_json: bool = JsonOption
) -> None:
    """The published versions, newest first."""
    view = client.find_workflow(workflow)
    rows = client.call("GET", f"{DEFINITIONS}/{segment(view['workflowId'])}/versions")
    columns = [("VERSION", "version"), ("PUBLISHED AT", "publishedAt"),
               ("VALIDATION", "validationStatus")]  # fmt: skip
    print_json(rows) if as_json else print_table(rows, columns)


@workflows_app.command("metadata")
@uses_client
def metadata(
    client: ApiClient,
    workflow: str = WorkflowArgument,
    paused: bool | None = typer.Option(None, "--paused/--no-paused", help="Pause or resume."),
    visible: bool | None = typer.Option(None, "--visible/--hidden"),
    concurrency_limit: int | None = typer.Option(None, "--concurrency-limit"),
    auto_pause: bool | None = typer.Option(
        None, "--auto-pause-on-failure/--no-auto-pause-on-failure"
    ),
    threshold: str | None = typer.Option(
        None, "--failure-rate-threshold", help="A fraction, e.g. 0.5."
    ),
    min_runs: int | None = typer.Option(None, "--failure-rate-min-runs"),
    schema_mode: str | None = typer.Option(
        None, "--payload-schema-mode", help="pinned or inferred."
    ),
    pinned_ref: str | None = typer.Option(None, "--pinned-payload-schema-ref"),
    retention: Path | None = typer.Option(
        None, "--retention-policy", help="JSON file with the retention policy override."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Change a workflow's settings (only the options given); prints the workflow."""
    changes = present(
        isPaused=paused,
        isVisible=visible,
        concurrencyLimit=concurrency_limit,
        autoPauseOnFailure=auto_pause,
        failureRateThreshold=threshold,
        failureRateMinRuns=min_runs,
        payloadSchemaMode=schema_mode,
        pinnedPayloadSchemaRef=pinned_ref,
        retentionPolicyOverride=None if retention is None else read_json_file(retention),
    )
    if not changes:
        raise typer.BadParameter("give at least one setting to change")
    view = client.find_workflow(workflow)
    path = f"{DEFINITIONS}/{segment(view['workflowId'])}/metadata"
    _show(client.call("PUT", path, changes), as_json)


draft_app = typer.Typer(help="The draft definition.", no_args_is_help=True)
workflows_app.add_typer(draft_app, name="draft")


@draft_app.command("set")
@uses_client
def draft_set(
    client: ApiClient,
    workflow: str = WorkflowArgument,
    file: Path = typer.Option(..., "--file", help="The new draft definition (JSON)."),
    draft_version: int | None = typer.Option(
        None,
        "--draft-version",
        min=1,
        help="Replace only if this is still the draft version (default: the current one).",
    ),
    as_json: bool = JsonOption,
) -> None:
    """Replace the draft definition."""
    definition = read_definition(file)
    view = client.find_workflow(workflow)
    version = view["draftVersion"] if draft_version is None else draft_version
    path = f"{DEFINITIONS}/{segment(view['workflowId'])}/{version}"
    updated = client.call("PUT", path, {"definition": definition})
    if as_json:
        print_json(updated)
    else:
        message = f"replaced the draft of {updated['key']} (version {updated['draftVersion']})"
        stdout.print(message, highlight=False)


@workflows_app.command("publish")
@uses_client
def publish(
    client: ApiClient,
    workflow: str = WorkflowArgument,
    version: int | None = typer.Option(
        None,
        "--version",
        min=1,
        help="A lower bound: publish as this version, or as the next free one above it when it"
        " is taken (default: the next version).",
    ),
    definition: Path | None = typer.Option(None, "--definition", help="Publish this file instead."),
    as_json: bool = JsonOption,
) -> None:
    """Validate and publish the draft (or a definition file) as a new immutable version."""
    body = read_definition(definition)
    view = client.find_workflow(workflow)
    # The route's version is a lower bound: 1 means "the next version".
    path = f"{DEFINITIONS}/{segment(view['workflowId'])}/{version or 1}/publish"
    result = client.call("POST", path, None if body is None else {"definition": body})
    success = f"published {view['key']} version {result.get('publishedVersion')}"
    report(result, as_json, success=success)


@workflows_app.command("validate")
@uses_client
def validate(
    client: ApiClient,
    file: Path = typer.Argument(..., help="A workflow definition JSON file."),
    as_json: bool = JsonOption,
) -> None:
    """Run publish validation on a definition file (with the server's actions and schemas)."""
    result = client.call("POST", f"{DEFINITIONS}/validate", {"definition": read_definition(file)})
    report(result, as_json, success=f"{file}: valid")


def report(result: dict[str, Any], as_json: bool, *, success: str) -> None:
    """Print publish/validation issues; exit 1 when there are errors."""
    if as_json:
        print_json(result)
    else:
        for issue in result["errors"] + result["warnings"]:
            colour = "red" if issue["severity"] == "error" else "yellow"
            stdout.print(
                f"[{colour}]{issue['severity']}[/] {issue['code']} at {issue['stepPath']}: "
                f"{issue['message']}",
                highlight=False,
            )
        if result["ok"]:
            stdout.print(success, highlight=False)
    if not result["ok"]:
        raise typer.Exit(1)
