"""``algaflow bundle``: export, import, validate and format workflow bundles.

``export`` and ``import`` work on a server or a database like every command (``uses_backend``);
``validate`` and ``fmt`` are offline. Each command imports the bundle code it uses when it runs
(``algaflow.bundle`` loads jsonschema and SQLAlchemy), so that loading the CLI does not.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from algaflow.kernel.errors import AlgaflowError

from .backends import Backend
from .common import (
    JsonOption,
    PluginOption,
    fail,
    print_json,
    print_table,
    stderr,
    stdout,
    uses_backend,
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
def progress_for(
    total: int, label: str, *, counted: bool
) -> Iterator[Callable[[int, int], None] | None]:
    """For big bundles, when stderr is a terminal: a progress bar if the work is ``counted``
    (it calls back as it goes), else a spinner."""
    if total < PROGRESS_THRESHOLD or not sys.stderr.isatty():
        yield None
    elif not counted:
        with stderr.status(f"{label} {total} workflows"):
            yield None
    else:
        columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=stderr, transient=True) as bar:
            task = bar.add_task(label, total=total)
            yield lambda done, _total: bar.update(task, completed=done)


def _workflow_count(bundle: Any) -> int:
    workflows = bundle.get("workflows") if isinstance(bundle, dict) else None
    return len(workflows) if isinstance(workflows, list) else 0


@bundle_app.command("export")
@uses_backend()
def export(
    backend: Backend,
    workflow_id: list[str] | None = typer.Option(None, "--workflow-id", help="Repeatable."),
    key: list[str] | None = typer.Option(None, "--key", help="Repeatable."),
    all_: bool = typer.Option(False, "--all", help="Every workflow of the tenant."),
    out: str = typer.Option("-", "--out", help="File to write, or - for standard output."),
    exported_at: str | None = typer.Option(
        None, "--exported-at", help='Pin exportedAt: an ISO timestamp or "latest-change".'
    ),
) -> None:
    """Write a canonical bundle: the server's bytes, verbatim."""
    from algaflow.api.bodies import check_export_keys

    if sum([bool(workflow_id), bool(key), all_]) != 1:
        raise typer.BadParameter("give exactly one of --workflow-id, --key or --all")
    check_export_keys(key)
    data = backend.export_bundle(
        workflow_ids=workflow_id or None, keys=key or None, all=all_, exported_at=exported_at
    )
    write_output(out, data)
    if out != "-":
        stdout.print(f"Wrote {out}", markup=False, highlight=False)


@bundle_app.command("import")
@uses_backend(plugins=True)
def import_(
    backend: Backend,
    file: str = typer.Option(..., "--file", help="Bundle file, or - for standard input."),
    force: bool = typer.Option(False, "--force", help="Overwrite workflows with the same key."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check and roll back; write nothing."),
    as_json: bool = JsonOption,
) -> None:
    """Import a bundle in one transaction and print the summary."""
    from algaflow.api.bodies import parse_bundle_body

    raw = read_input(file)
    bundle = parse_bundle_body(raw)
    total = _workflow_count(bundle)
    with progress_for(total, "importing", counted=backend.reports_progress) as progress:
        summary = backend.import_bundle(
            raw, bundle, force=force, dry_run=dry_run, progress=progress
        )
    print_summary(summary, as_json)


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
