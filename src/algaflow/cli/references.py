"""``algaflow bundle references`` and ``bundle bindings``: a bundle's environment-specific values.

Both send the bundle to the references route (so the server's registry, with its plugins, says
which input fields are references) and print its answer: a table or ``--json``, or the bindings
template as JSON. :func:`bindings_envelope` is what ``bundle import --bindings`` sends.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from .client import DEFINITIONS, ApiClient
from .common import JsonOption, print_json, print_table, stdout, uses_client

FileArgument = typer.Argument(
    ..., help="Bundle file, a folder of bundle files (one bundle), or - for standard input."
)


def register(bundle_app: typer.Typer) -> None:
    """Add the two commands to the ``bundle`` group."""
    bundle_app.command("references")(references)
    bundle_app.command("bindings")(bindings)


def _report(client: ApiClient, file: str) -> dict[str, Any]:
    from .bundle import read_source

    headers = {"Content-Type": "application/json"}
    path = f"{DEFINITIONS}/references"
    response = client.request("POST", path, content=read_source(file, quiet=True), headers=headers)
    report: dict[str, Any] = response.json()
    return report


@uses_client
def references(client: ApiClient, file: str = FileArgument, as_json: bool = JsonOption) -> None:
    """List the bundle's environment-specific references: workflow key, version (draft or the
    published number), JSON path, kind and value; --json gives {"references": [...]}."""
    found = _report(client, file)["references"]
    if as_json:
        print_json({"references": found})
        return
    print_table(
        found,
        [("WORKFLOW", "workflowKey"), ("VERSION", "version"), ("KIND", "kind"),
         ("VALUE", "value"), ("PATH", "path")],
    )  # fmt: skip
    stdout.print(f"{len(found)} reference(s)", highlight=False)


@uses_client
def bindings(client: ApiClient, file: str = FileArgument) -> None:
    """Print a bindings template (JSON) binding every reference found to itself: edit the
    targets, then pass it to `bundle import --bindings`."""
    print_json(_report(client, file)["bindingsTemplate"])


def bindings_envelope(raw: bytes, bindings_file: str) -> bytes:
    """The import body ``{"bundle": <raw, unchanged>, "bindings": ...}`` for a bindings file
    (TOML when it ends in ``.toml``, else JSON), parsed and shape-checked here."""
    from algaflow.bundle.bindings import parse_bindings_text

    from .bundle import read_input

    parsed = parse_bindings_text(
        read_input(bindings_file), toml=Path(bindings_file).suffix == ".toml"
    )
    encoded = json.dumps(parsed, allow_nan=False).encode("ascii")
    return b'{"bundle": ' + raw + b', "bindings": ' + encoded + b"}"
