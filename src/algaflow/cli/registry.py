"""``algaflow registry``: what the server (or the app over a database, with its plugins) can run."""

from __future__ import annotations

import json

import typer

from algaflow.kernel.errors import AlgaflowError

from .client import ApiClient, present, segment
from .common import JsonOption, print_json, print_table, stdout, uses_client

registry_app = typer.Typer(help="Actions, node types and payload schemas.", no_args_is_help=True)

_REGISTRY = "/api/workflow/registry"


@registry_app.command("list")
@uses_client
def list_(
    client: ApiClient,
    kind: str = typer.Argument("actions", help="actions, nodes or schemas"),
    as_json: bool = JsonOption,
) -> None:
    """List registered actions (id@version), node types or payload schema refs."""
    if kind not in ("actions", "nodes", "schemas"):
        raise typer.BadParameter("choose actions, nodes or schemas", param_hint="KIND")
    listed = client.call("GET", f"{_REGISTRY}/{kind}")
    if kind == "actions":
        rows = [{"id": a["id"], "version": a["version"], "sideEffectful": a["sideEffectful"]}
                for a in listed]  # fmt: skip
        columns = [("ACTION", "id"), ("VERSION", "version"), ("SIDE EFFECTS", "sideEffectful")]
    elif kind == "nodes":
        rows = [{"id": n["id"], "kind": n["kind"]} for n in listed]
        columns = [("STEP TYPE", "id"), ("KIND", "kind")]
    else:
        rows = [{"ref": ref} for ref in listed]
        columns = [("SCHEMA REF", "ref")]
    print_json(rows) if as_json else print_table(rows, columns)


@registry_app.command("show")
@uses_client
def show(
    client: ApiClient,
    action: str = typer.Argument(..., help="ACTION or ACTION@VERSION (default: the latest)."),
    as_json: bool = JsonOption,
) -> None:
    """One action with its input and output JSON Schemas."""
    action_id, at, version = action.rpartition("@") if "@" in action else (action, "", "")
    if at and not version.isdigit():
        raise AlgaflowError(
            "INVALID_REQUEST", f'"{action}": the version after "@" must be a whole number.'
        )
    params = present(version=int(version) if version else None)
    found = client.call("GET", f"{_REGISTRY}/actions/{segment(action_id)}", params=params)
    if as_json:
        print_json(found)
        return
    stdout.print(f"[bold]{found['id']}@{found['version']}[/]", highlight=False)
    for label, key in (("title", "title"), ("description", "description")):
        if found.get(key):
            stdout.print(f"{label}: {found[key]}", markup=False, highlight=False)
    stdout.print(f"side effects: {'yes' if found['sideEffectful'] else 'no'}", highlight=False)
    for label, key in (("input schema", "inputSchema"), ("output schema", "outputSchema")):
        stdout.print(f"[bold]{label}:[/]", highlight=False)
        text = json.dumps(found[key], indent=2, ensure_ascii=False, sort_keys=True)
        stdout.print(text, markup=False, highlight=False)
