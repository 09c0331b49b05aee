"""``algaflow workflows``: the definition store, on a database or a server (``uses_backend``).

``validate`` imports publish validation (jsonschema, jlens) when it runs, so that loading the
CLI does not.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import typer

from algaflow.kernel.errors import AlgaflowError

from .backends import Backend, find_workflow
from .common import (
    JsonOption,
    PluginOption,
    fail,
    print_json,
    print_table,
    read_json_file,
    stdout,
    uses_backend,
)
from .constants import INT4_MAX
from .database import load_registry, settings_for

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
@uses_backend()
def list_(
    backend: Backend,
    key_prefix: str | None = typer.Option(None, "--key-prefix"),
    status: Literal["draft", "published"] | None = typer.Option(None, "--status"),
    paused: bool | None = typer.Option(None, "--paused/--not-paused"),
    as_json: bool = JsonOption,
) -> None:
    """List workflows ordered by key."""
    views = backend.list_workflows(key_prefix=key_prefix, status=status, paused=paused)
    print_json(views) if as_json else print_table(views, _COLUMNS)


@workflows_app.command("show")
@uses_backend()
def show(backend: Backend, workflow: str = WorkflowArgument, as_json: bool = JsonOption) -> None:
    """One workflow with its draft definition."""
    view = find_workflow(backend, workflow)
    if as_json:
        print_json(view)
        return
    for label, key in [
        *_COLUMNS,
        ("PAYLOAD SCHEMA", "payloadSchemaRef"),
        ("DRAFT", "draftVersion"),
    ]:
        stdout.print(f"[bold]{label:<15}[/] {view[key]}", highlight=False)


@workflows_app.command("create")
@uses_backend()
def create(
    backend: Backend,
    key: str = typer.Option(..., "--key"),
    definition: Path | None = typer.Option(None, "--definition", help="Draft definition JSON."),
    name: str | None = typer.Option(None, "--name"),
    payload_schema_ref: str | None = typer.Option(None, "--payload-schema-ref"),
    as_json: bool = JsonOption,
) -> None:
    """Create a workflow (name and payload schema default to the definition's)."""
    view = backend.create_workflow(
        key=key,
        name=name,
        payload_schema_ref=payload_schema_ref,
        definition=read_definition(definition),
    )
    if as_json:
        print_json(view)
    else:
        stdout.print(f"created {view['key']} ({view['workflowId']})", highlight=False)


@workflows_app.command("delete")
@uses_backend()
def delete(backend: Backend, workflow: str = WorkflowArgument) -> None:
    """Delete a workflow and its published versions."""
    view = find_workflow(backend, workflow)
    backend.delete_workflow(view["workflowId"])
    stdout.print(f"deleted {view['key']} ({view['workflowId']})", highlight=False)


@workflows_app.command("publish")
@uses_backend(plugins=True)
def publish(
    backend: Backend,
    workflow: str = WorkflowArgument,
    version: int | None = typer.Option(
        None, "--version", min=1, max=INT4_MAX, help="At least this version number."
    ),
    definition: Path | None = typer.Option(None, "--definition", help="Publish this file instead."),
    as_json: bool = JsonOption,
) -> None:
    """Validate and publish the draft (or a definition file) as a new immutable version."""
    body = read_definition(definition)
    view = find_workflow(backend, workflow)
    result = backend.publish_workflow(view["workflowId"], version=version, definition=body)
    success = f"published {view['key']} version {result.get('publishedVersion')}"
    report(result, as_json, success=success)


@workflows_app.command("validate")
def validate(
    file: Path = typer.Argument(..., help="A workflow definition JSON file."),
    plugin: list[str] | None = PluginOption,
    as_json: bool = JsonOption,
) -> None:
    """Run publish validation on a definition file, offline."""
    from algaflow.definitions.publish import validate_for_publish

    try:
        definition = read_json_file(file)
        result = validate_for_publish(definition, load_registry(settings_for(None, plugin)))
    except AlgaflowError as err:
        fail(err)
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
