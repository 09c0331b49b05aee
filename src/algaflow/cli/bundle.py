"""``algaflow bundle``: export, import, validate and format workflow bundles.

``export`` and ``import`` call the bundle routes through :class:`ApiClient`, like every command
on workflows; ``validate`` and ``fmt`` are offline. Those two import the bundle code when they
run (``algaflow.bundle`` loads jsonschema and SQLAlchemy), so that loading the CLI does not.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

from algaflow.kernel.errors import AlgaflowError

from .client import DEFINITIONS, ApiClient, segment
from .common import (
    JsonOption,
    PluginOption,
    fail,
    print_json,
    print_table,
    stderr,
    stdout,
    uses_client,
)
from .database import load_registry, settings_for

bundle_app = typer.Typer(
    help="Workflow bundles (alga-psa.workflow-bundle v1).", no_args_is_help=True
)

PROGRESS_THRESHOLD = 10


def read_input(path: str) -> bytes:
    """The bytes of ``path``, or of standard input for ``-``."""
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise AlgaflowError("FILE_NOT_READABLE", f"Cannot read {path}: {exc.strerror}") from None


def write_output(path: str, data: bytes) -> None:
    if path == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        Path(path).write_bytes(data)


@contextmanager
def progress_for(raw: bytes, label: str) -> Iterator[None]:
    """For big bundles, when stderr is a terminal: a spinner while the server works (one
    request, so there is nothing to count)."""
    total = _workflow_count_of(raw) if sys.stderr.isatty() else 0
    if total < PROGRESS_THRESHOLD:
        yield
    else:
        with stderr.status(f"{label} {total} workflows"):
            yield


def _workflow_count_of(raw: bytes) -> int:
    """How many workflows a bundle file seems to hold (0 when it is not JSON): for the spinner
    only; the server parses and checks the bundle."""
    try:
        return _workflow_count(json.loads(raw))
    except (ValueError, RecursionError):
        return 0


def _workflow_count(bundle: Any) -> int:
    workflows = bundle.get("workflows") if isinstance(bundle, dict) else None
    return len(workflows) if isinstance(workflows, list) else 0


@bundle_app.command("export")
@uses_client
def export(
    client: ApiClient,
    workflow_id: list[str] | None = typer.Option(None, "--workflow-id", help="Repeatable."),
    key: list[str] | None = typer.Option(None, "--key", help="Repeatable."),
    all_: bool = typer.Option(False, "--all", help="Every workflow of the tenant."),
    out: str = typer.Option("-", "--out", help="File to write, or - for standard output."),
    exported_at: str | None = typer.Option(
        None, "--exported-at", help='Pin exportedAt: an ISO timestamp or "latest-change".'
    ),
) -> None:
    """Write a canonical bundle: the server's bytes, verbatim."""
    if sum([bool(workflow_id), bool(key), all_]) != 1:
        raise typer.BadParameter("give exactly one of --workflow-id, --key or --all")
    if workflow_id and len(workflow_id) == 1 and not exported_at:  # Alga's GET route
        path = f"{DEFINITIONS}/{segment(workflow_id[0])}/export"
        data = client.request("GET", path).content
    else:
        body: dict[str, Any] = {"exportedAt": exported_at} if exported_at else {}
        if workflow_id:
            body["workflowIds"] = workflow_id
        elif key:
            body["keys"] = key
        else:
            body["all"] = True
        data = client.send("POST", f"{DEFINITIONS}/export", body).content
    write_output(out, data)
    if out != "-":
        stdout.print(f"Wrote {out}", markup=False, highlight=False)


@bundle_app.command("import")
@uses_client
def import_(
    client: ApiClient,
    file: str = typer.Option(..., "--file", help="Bundle file, or - for standard input."),
    force: bool = typer.Option(False, "--force", help="Overwrite workflows with the same key."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check and roll back; write nothing."),
    bindings: str | None = typer.Option(
        None, "--bindings", help="JSON or .toml file: per kind, source value -> target value."
    ),
    allow_unresolved: bool = typer.Option(
        False, "--allow-unresolved", help="Import even if references are missing (warnings)."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Import a bundle in one transaction and print the summary (the file's bytes are sent;
    with --bindings, inside {"bundle": ..., "bindings": ...})."""
    raw = body = read_input(file)
    if bindings is not None:
        from .references import bindings_envelope

        body = bindings_envelope(raw, bindings)
    flags = (("force", force), ("dryRun", dry_run), ("allowUnresolved", allow_unresolved))
    params = {name: "true" for name, on in flags if on}
    headers = {"Content-Type": "application/json"}
    with progress_for(raw, "importing"):
        response = client.request(
            "POST", f"{DEFINITIONS}/import", content=body, params=params, headers=headers
        )
    print_summary(response.json(), as_json)


def print_summary(summary: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(summary)
        return
    rows = [
        {**w, "versions": ", ".join(str(v) for v in w["versions"]) or "-"}
        for w in summary["workflows"]
    ]
    print_table(
        rows,
        [
            ("KEY", "key"),
            ("WORKFLOW ID", "workflowId"),
            ("ACTION", "action"),
            ("VERSIONS", "versions"),
        ],
    )
    note = " (dry run: nothing was written)" if summary.get("dryRun") else ""
    stdout.print(f"{len(rows)} workflow(s) imported{note}", highlight=False)


@bundle_app.command("validate")
def validate(
    file: str = typer.Argument(..., help="Bundle file, or - for standard input."),
    plugin: list[str] | None = PluginOption,
    as_json: bool = JsonOption,
) -> None:
    """Check a bundle offline: header, schema, definitions, dependencies (local registries)."""
    from algaflow.api.bodies import parse_bundle_body
    from algaflow.bundle.importer import check_bundle

    try:
        bundle = parse_bundle_body(read_input(file))
        check_bundle(bundle, registry=load_registry(settings_for(None, plugin)))
    except AlgaflowError as err:
        fail(err)
    count = _workflow_count(bundle)
    if as_json:
        print_json({"ok": True, "workflows": count})
    else:
        stdout.print(f"{file}: valid ({count} workflow(s))", markup=False, highlight=False)


@bundle_app.command("fmt")
def fmt(
    files: list[str] = typer.Argument(..., help="Bundle files to rewrite; - filters stdin."),
    check: bool = typer.Option(False, "--check", help="Only report; exit 1 if any would change."),
) -> None:
    """Rewrite bundles in canonical form (sorted keys, two-space indent, trailing newline)."""
    from algaflow.api.bodies import parse_json_body
    from algaflow.bundle import dumps_canonical_bytes

    changed = []
    try:
        for name in files:
            raw = read_input(name)
            canonical = dumps_canonical_bytes(parse_json_body(raw))
            if name == "-" and not check:
                write_output("-", canonical)
            elif canonical != raw:
                changed.append(name)
                if not check:
                    Path(name).write_bytes(canonical)
    except AlgaflowError as err:
        fail(err)
    verb = "would reformat" if check else "reformatted"
    for name in changed:
        stderr.print(f"{verb} {name}", markup=False, highlight=False)
    if check and changed:
        raise typer.Exit(1)
