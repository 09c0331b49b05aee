"""``algaflow registry``: what the server (or the app over a database, with its plugins) can run."""

from __future__ import annotations

import typer

from .client import ApiClient
from .common import JsonOption, print_json, print_table, uses_client

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
        rows = [{"id": n["id"]} for n in listed]
        columns = [("NODE TYPE", "id")]
    else:
        rows = [{"ref": ref} for ref in listed]
        columns = [("SCHEMA REF", "ref")]
    print_json(rows) if as_json else print_table(rows, columns)
