"""``algaflow workflows``: the definition store on the configured database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from algaflow.definitions.publish import publish_workflow, validate_for_publish
from algaflow.definitions.views import workflow_view
from algaflow.errors import AlgaflowError
from algaflow.store import workflows as store

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

workflows_app = typer.Typer(help="Workflow definitions.", no_args_is_help=True)

_COLUMNS = [
    ("KEY", "key"),
    ("ID", "workflowId"),
    ("NAME", "name"),
    ("STATUS", "status"),
    ("PUBLISHED", "publishedVersion"),
    ("PAUSED", "isPaused"),
]


def read_json_file(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise AlgaflowError("FILE_NOT_READABLE", f"Cannot read {path}: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise AlgaflowError("INVALID_JSON", f"{path} is not valid JSON: {exc}") from None


@workflows_app.command("list")
def list_(
    key_prefix: str | None = typer.Option(None, "--key-prefix"),
    status: str | None = typer.Option(None, "--status", help="draft or published"),
    paused: bool | None = typer.Option(None, "--paused/--not-paused"),
    tenant: str = TenantOption,
    database_url: str | None = DatabaseUrlOption,
    as_json: bool = JsonOption,
) -> None:
    """List workflows ordered by key."""
    engine = open_engine(settings_for(database_url))
    tenant_id = resolve_tenant(engine, tenant)
    with engine.connect() as conn:
        rows = store.list_workflows(
            conn, tenant_id, key_prefix=key_prefix, status=status, paused=paused
        )
    views = [workflow_view(r) for r in rows]
    print_json(views) if as_json else print_table(views, _COLUMNS)


@workflows_app.command("show")
def show(
    workflow: str = typer.Argument(..., help="Workflow id or key."),
    tenant: str = TenantOption,
    database_url: str | None = DatabaseUrlOption,
    as_json: bool = JsonOption,
) -> None:
    """One workflow with its draft definition."""
    engine = open_engine(settings_for(database_url))
    try:
        tenant_id = resolve_tenant(engine, tenant)
        with engine.connect() as conn:
            view = workflow_view(find(conn, tenant_id, workflow), with_draft=True)
    except AlgaflowError as err:
        fail(err)
    if as_json:
        print_json(view)
        return
    for label, key in [
        *_COLUMNS,
        ("PAYLOAD SCHEMA", "payloadSchemaRef"),
        ("DRAFT", "draftVersion"),
    ]:
        stdout.print(f"[bold]{label:<15}[/] {view[key]}", highlight=False)


def find(conn: Any, tenant_id: str, workflow: str) -> dict[str, Any]:
    """A workflow by id, or by key when the argument is not a UUID."""
    try:
        return store.get_workflow(conn, tenant_id, workflow)
    except AlgaflowError:
        return store.get_workflow_by_key(conn, tenant_id, workflow)


@workflows_app.command("create")
def create(
    key: str = typer.Option(..., "--key"),
    definition: Path | None = typer.Option(None, "--definition", help="Draft definition JSON."),
    name: str | None = typer.Option(None, "--name"),
    payload_schema_ref: str | None = typer.Option(None, "--payload-schema-ref"),
    tenant: str = TenantOption,
    database_url: str | None = DatabaseUrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Create a workflow (name and payload schema default to the definition's)."""
    engine = open_engine(settings_for(database_url))
    try:
        tenant_id = resolve_tenant(engine, tenant)
        draft = read_json_file(definition) if definition else None
        with engine.begin() as conn:
            row = store.create_workflow(
                conn,
                tenant_id,
                key=key,
                name=name,
                payload_schema_ref=payload_schema_ref,
                definition=draft,
            )
    except AlgaflowError as err:
        fail(err)
    if as_json:
        print_json(workflow_view(row))
    else:
        stdout.print(f"created {row['key']} ({row['workflow_id']})", highlight=False)


@workflows_app.command("delete")
def delete(
    workflow: str = typer.Argument(..., help="Workflow id or key."),
    tenant: str = TenantOption,
    database_url: str | None = DatabaseUrlOption,
) -> None:
    """Delete a workflow and its published versions."""
    engine = open_engine(settings_for(database_url))
    try:
        tenant_id = resolve_tenant(engine, tenant)
        with engine.begin() as conn:
            row = find(conn, tenant_id, workflow)
            store.delete_workflow(conn, tenant_id, row["workflow_id"])
    except AlgaflowError as err:
        fail(err)
    stdout.print(f"deleted {row['key']} ({row['workflow_id']})", highlight=False)


@workflows_app.command("publish")
def publish(
    workflow: str = typer.Argument(..., help="Workflow id or key."),
    version: int | None = typer.Option(None, "--version", help="At least this version number."),
    definition: Path | None = typer.Option(None, "--definition", help="Publish this file instead."),
    tenant: str = TenantOption,
    database_url: str | None = DatabaseUrlOption,
    plugin: list[str] | None = PluginOption,
    as_json: bool = JsonOption,
) -> None:
    """Validate and publish the draft (or a definition file) as a new immutable version."""
    settings = settings_for(database_url, plugin)
    engine = open_engine(settings)
    try:
        tenant_id = resolve_tenant(engine, tenant)
        body = read_json_file(definition) if definition else None
        registry = load_registry(settings)
        with engine.begin() as conn:
            row = find(conn, tenant_id, workflow)
            result = publish_workflow(
                conn,
                tenant_id,
                row["workflow_id"],
                registry=registry,
                version=version,
                definition=body,
            )
    except AlgaflowError as err:
        fail(err)
    report(
        result, as_json, success=f"published {row['key']} version {result.get('publishedVersion')}"
    )


@workflows_app.command("validate")
def validate(
    file: Path = typer.Argument(..., help="A workflow definition JSON file."),
    plugin: list[str] | None = PluginOption,
    as_json: bool = JsonOption,
) -> None:
    """Run publish validation on a definition file, offline."""
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
