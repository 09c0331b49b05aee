"""``algaflow registry``: what this installation (with its plugins) can run."""

from __future__ import annotations

import typer

from .common import JsonOption, PluginOption, print_json, print_table
from .database import load_registry, settings_for

registry_app = typer.Typer(help="Actions, node types and payload schemas.", no_args_is_help=True)


@registry_app.command("list")
def list_(
    kind: str = typer.Argument("actions", help="actions, nodes or schemas"),
    plugin: list[str] | None = PluginOption,
    as_json: bool = JsonOption,
) -> None:
    """List registered actions (id@version), node types or payload schema refs."""
    registry = load_registry(settings_for(None, plugin))
    if kind == "actions":
        rows = [
            {"id": a.id, "version": a.version, "sideEffectful": a.side_effectful}
            for a in registry.actions.list()
        ]
        columns = [("ACTION", "id"), ("VERSION", "version"), ("SIDE EFFECTS", "sideEffectful")]
    elif kind == "nodes":
        rows = [{"id": n.id} for n in registry.nodes.list()]
        columns = [("NODE TYPE", "id")]
    elif kind == "schemas":
        rows = [{"ref": ref} for ref in registry.schemas.refs()]
        columns = [("SCHEMA REF", "ref")]
    else:
        raise typer.BadParameter("choose actions, nodes or schemas", param_hint="KIND")
    print_json(rows) if as_json else print_table(rows, columns)
