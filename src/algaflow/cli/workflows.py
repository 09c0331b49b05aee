"""``algaflow workflows``: the definition store on the configured database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from algaflow.definitions import store
from algaflow.definitions.views import workflow_view
from algaflow.errors import AlgaflowError

from .common import (
    DatabaseUrlOption,
    JsonOption,
    TenantOption,
    fail,
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
