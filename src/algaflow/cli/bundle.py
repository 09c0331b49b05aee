"""``algaflow bundle``: export, import, validate and format workflow bundles.

``export`` and ``import`` talk to a server (``--base-url``/``ALGAFLOW_URL`` with
``--api-key``/``ALGAFLOW_API_KEY``) or, given ``--database-url`` or no server, work directly on the
database through the same service functions the server uses.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from algaflow.api.bodies import check_export_keys, parse_bundle_body, parse_json_body
from algaflow.bundle import dumps_canonical_bytes
from algaflow.bundle.export import export_bundle_bytes
from algaflow.bundle.importer import check_bundle, import_bundle
from algaflow.errors import AlgaflowError

from .client import ApiClient
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
    stderr,
    stdout,
)

bundle_app = typer.Typer(
    help="Workflow bundles (alga-psa.workflow-bundle v1).", no_args_is_help=True
)

BaseUrlOption = typer.Option(None, "--base-url", envvar="ALGAFLOW_URL", help="algaflow server URL.")
ApiKeyOption = typer.Option(None, "--api-key", envvar="ALGAFLOW_API_KEY", help="Server API key.")
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
def progress_for(total: int, label: str) -> Iterator[Callable[[int, int], None] | None]:
    """A Rich progress bar on stderr for big bundles when stderr is a terminal."""
    if total < PROGRESS_THRESHOLD or not sys.stderr.isatty():
        yield None
        return
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=stderr, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda done, _total: bar.update(task, completed=done)


def _workflow_count(bundle: Any) -> int:
    workflows = bundle.get("workflows") if isinstance(bundle, dict) else None
    return len(workflows) if isinstance(workflows, list) else 0


@bundle_app.command("export")
def export(
    workflow_id: list[str] | None = typer.Option(None, "--workflow-id", help="Repeatable."),
    key: list[str] | None = typer.Option(None, "--key", help="Repeatable."),
    all_: bool = typer.Option(False, "--all", help="Every workflow of the tenant."),
    out: str = typer.Option("-", "--out", help="File to write, or - for standard output."),
    exported_at: str | None = typer.Option(
        None, "--exported-at", help='Pin exportedAt: an ISO timestamp or "latest-change".'
    ),
    base_url: str | None = BaseUrlOption,
    api_key: str | None = ApiKeyOption,
    database_url: str | None = DatabaseUrlOption,
    tenant: str = TenantOption,
) -> None:
    """Write a canonical bundle: the server's bytes, verbatim."""
    if sum([bool(workflow_id), bool(key), all_]) != 1:
        raise typer.BadParameter("give exactly one of --workflow-id, --key or --all")
    try:
        check_export_keys(key)
        if base_url and not database_url:
            data = _export_remote(base_url, api_key, workflow_id, key, all_, exported_at)
        else:
            engine = open_engine(settings_for(database_url))
            tenant_id = resolve_tenant(engine, tenant)
            with engine.connect() as conn:
                data = export_bundle_bytes(
                    conn,
                    tenant_id,
                    workflow_ids=workflow_id or None,
                    keys=key or None,
                    all=all_,
                    exported_at=exported_at,
                )
        write_output(out, data)
    except AlgaflowError as err:
        fail(err)
    if out != "-":
        stdout.print(f"Wrote {out}", markup=False, highlight=False)


def _export_remote(
    base_url: str,
    api_key: str | None,
    workflow_ids: list[str] | None,
    keys: list[str] | None,
    all_: bool,
    exported_at: str | None,
) -> bytes:
    with ApiClient(base_url, api_key) as client:
        if workflow_ids and len(workflow_ids) == 1 and not exported_at:
            return client.request(
                "GET", f"/api/workflow-definitions/{workflow_ids[0]}/export"
            ).content
        body: dict[str, Any] = {"exportedAt": exported_at} if exported_at else {}
        if workflow_ids:
            body["workflowIds"] = workflow_ids
        elif keys:
            body["keys"] = keys
        else:
            body["all"] = all_
        return client.request("POST", "/api/workflow-definitions/export", json=body).content


@bundle_app.command("import")
def import_(
    file: str = typer.Option(..., "--file", help="Bundle file, or - for standard input."),
    force: bool = typer.Option(False, "--force", help="Overwrite workflows with the same key."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check and roll back; write nothing."),
    base_url: str | None = BaseUrlOption,
    api_key: str | None = ApiKeyOption,
    database_url: str | None = DatabaseUrlOption,
    tenant: str = TenantOption,
    plugin: list[str] | None = PluginOption,
    as_json: bool = JsonOption,
) -> None:
    """Import a bundle in one transaction and print the summary."""
    try:
        raw = read_input(file)
        bundle = parse_bundle_body(raw)
        total = _workflow_count(bundle)
        if base_url and not database_url:
            summary = _import_remote(base_url, api_key, raw, total, force, dry_run)
        else:
            settings = settings_for(database_url, plugin)
            engine = open_engine(settings)
            tenant_id = resolve_tenant(engine, tenant)
            registry = load_registry(settings)
            with progress_for(total, "importing") as progress, engine.begin() as conn:
                summary = import_bundle(
                    conn,
                    tenant_id,
                    bundle,
                    registry=registry,
                    force=force,
                    dry_run=dry_run,
                    progress=progress,
                )
    except AlgaflowError as err:
        fail(err)
    print_summary(summary, as_json)


def _import_remote(
    base_url: str, api_key: str | None, raw: bytes, total: int, force: bool, dry_run: bool
) -> dict[str, Any]:
    """POST the file's bytes as they are; a spinner on a terminal while a big bundle imports."""
    params = {k: "true" for k, on in (("force", force), ("dryRun", dry_run)) if on}
    busy = total >= PROGRESS_THRESHOLD and sys.stderr.isatty()
    spinner = stderr.status(f"importing {total} workflows") if busy else nullcontext()
    with ApiClient(base_url, api_key) as client, spinner:
        response = client.request(
            "POST",
            "/api/workflow-definitions/import",
            content=raw,
            params=params,
            headers={"Content-Type": "application/json"},
        )
    return response.json()


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
