"""``algaflow bundle``: export, plan, import, validate and format workflow bundles.

``export``, ``plan`` and ``import`` call the bundle routes through :class:`ApiClient`, like every
command on workflows; ``validate`` and ``fmt`` are offline. The bundle code (jsonschema) is
imported when a command needs it (a folder source, ``validate``, ``fmt``), so that loading the
CLI does not.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

from algaflow.kernel.errors import AlgaflowError

from .client import DEFINITIONS, ApiClient, Progress, segment
from .common import (
    JsonOption,
    PluginOption,
    YesOption,
    confirm,
    fail,
    print_json,
    print_table,
    stderr,
    stdout,
    uses_client,
    uses_client_creating_database,
)
from .database import load_registry, settings_for

bundle_app = typer.Typer(
    help="Workflow bundles (alga-psa.workflow-bundle v1).", no_args_is_help=True
)

PROGRESS_THRESHOLD = 10
#: ``bundle plan --detailed-exitcode``: the plan has changes (0: none; like terraform's 2, which
#: is taken by usage errors here).
EXIT_CHANGES = 6
BindingsOption = typer.Option(
    None, "--bindings", help="JSON or .toml file: per kind, source value -> target value."
)

SourceArgument = typer.Argument(
    ..., help="Bundle file, a folder of bundle files (one bundle), or - for standard input."
)
ForceOption = typer.Option(
    False, "--force", help="Overwrite workflows with the same key (asks first on a terminal)."
)
PruneOption = typer.Option(
    False, "--prune", help="Delete the tenant's workflows that the source does not hold."
)
PrunePrefixOption = typer.Option(
    None, "--prune-prefix", help="Limit --prune to the keys starting with this prefix."
)
QuietOption = typer.Option(False, "--quiet", "-q", help="No per-workflow table or progress.")


def read_input(path: str) -> bytes:
    """The bytes of ``path``, or of standard input for ``-``."""
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise AlgaflowError("FILE_NOT_READABLE", f"Cannot read {path}: {exc.strerror}") from None


def read_source(path: str, *, quiet: bool = False) -> bytes:
    """A bundle's bytes: of a file, of standard input (``-``), or of a folder's bundle files
    merged into one bundle (every non-hidden file of the folder, by name)."""
    folder = Path(path)
    if path == "-" or not folder.is_dir():
        return read_input(path)
    from algaflow.bundle import dumps_canonical_bytes
    from algaflow.bundle.folder import merge_files

    files = sorted(f for f in folder.iterdir() if f.is_file() and not f.name.startswith("."))
    with _progress(len(files), "reading", quiet) as advance:
        contents = []
        for file in files:
            contents.append((file.name, read_input(str(file))))
            advance()
    return dumps_canonical_bytes(merge_files(contents))


@contextmanager
def _progress(total: int, label: str, quiet: bool) -> Iterator[Callable[[], None]]:
    """A per-item progress bar on a terminal's stderr (nothing when quiet, piped or small)."""
    if quiet or total < PROGRESS_THRESHOLD or not stderr.is_terminal:
        yield lambda: None
        return
    from rich.progress import Progress

    with Progress(console=stderr, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda: bar.advance(task)


@contextmanager
def live_progress(quiet: bool = False) -> Iterator[Progress]:
    """A progress bar fed by the server's progress lines, on a terminal's stderr, for steps of
    at least :data:`PROGRESS_THRESHOLD` items (nothing when piped)."""
    if quiet or not stderr.is_terminal:
        yield lambda step, done, total: None
        return
    from rich.progress import Progress as Bar

    with Bar(console=stderr, transient=True) as bar:
        tasks: dict[str, Any] = {}

        def show(step: str, done: int, total: int) -> None:
            if total < PROGRESS_THRESHOLD:
                return
            if step not in tasks:
                tasks[step] = bar.add_task(f"{step} {total} workflows", total=total)
            bar.update(tasks[step], completed=done, total=total)

        yield show


def write_output(path: str, data: bytes | Iterable[bytes]) -> None:
    """Write ``data`` (bytes, or pieces as they come) to ``path`` or standard output."""
    if path == "-":
        for piece in [data] if isinstance(data, bytes) else data:
            sys.stdout.buffer.write(piece)
        sys.stdout.buffer.flush()
    else:
        Path(path).write_bytes(data if isinstance(data, bytes) else b"".join(data))


#: How each workflow entry of a canonical bundle begins: an object two levels deep, which only
#: the ``workflows`` list holds at the top level.
_ENTRY_OPENING = b"\n    {\n"


def count_workflows(pieces: Iterable[bytes], advance: Callable[[int], None]) -> Iterator[bytes]:
    """``pieces`` of a canonical bundle unchanged, calling ``advance`` with how many workflow
    entries have begun so far (an opening split between two pieces is counted once)."""
    tail, done = b"", 0
    for piece in pieces:
        window = tail + piece
        found = window.count(_ENTRY_OPENING)
        if found:
            done += found
            advance(done)
        tail = window[-(len(_ENTRY_OPENING) - 1) :]
        yield piece


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
    split: str | None = typer.Option(
        None,
        "--split",
        help="Write one bundle per workflow, DIR/<key>.json (exportedAt defaults to "
        '"latest-change", so files of unchanged workflows keep their bytes).',
    ),
    exported_at: str | None = typer.Option(
        None, "--exported-at", help='Pin exportedAt: an ISO timestamp or "latest-change".'
    ),
    quiet: bool = QuietOption,
) -> None:
    """Write a canonical bundle: the server's bytes, verbatim."""
    if sum([bool(workflow_id), bool(key), all_]) != 1:
        raise typer.BadParameter("give exactly one of --workflow-id, --key or --all")
    if split is not None:
        if out != "-":
            raise typer.BadParameter("give --out or --split, not both")
        keys = _selected_keys(client, workflow_id, key, all_)
        _export_split(client, keys, Path(split), exported_at or "latest-change", quiet)
        return
    selection: dict[str, Any] = {"exportedAt": exported_at} if exported_at else {}
    if workflow_id:
        selection["workflowIds"] = workflow_id
    elif key:
        selection["keys"] = key
    else:
        selection["all"] = True
    body: dict[str, Any] | None = selection
    method, path = "POST", f"{DEFINITIONS}/export"
    if workflow_id and len(workflow_id) == 1 and not exported_at:  # Alga's GET route
        method, path, body = "GET", f"{DEFINITIONS}/{segment(workflow_id[0])}/export", None
    with client.streaming(method, path, body) as response, live_progress(quiet) as on_progress:
        total = int(response.headers.get("x-workflow-count", 0))
        counted = count_workflows(
            response.iter_bytes(), lambda done: on_progress("export", done, total)
        )
        write_output(out, b"".join(counted) if out != "-" else counted)
    if out != "-":
        stdout.print(f"Wrote {out}", markup=False, highlight=False)


def _selected_keys(
    client: ApiClient, workflow_ids: list[str] | None, keys: list[str] | None, all_: bool
) -> list[str]:
    if keys:
        return list(dict.fromkeys(keys))
    if workflow_ids:
        return [client.find_workflow(ref)["key"] for ref in workflow_ids]
    listed = client.call("GET", DEFINITIONS)
    if not listed:
        raise AlgaflowError("NOTHING_TO_EXPORT", "The tenant has no workflows to export.")
    return sorted(w["key"] for w in listed)


def _export_split(
    client: ApiClient, keys: list[str], folder: Path, exported_at: str, quiet: bool
) -> None:
    """One request per workflow, so each file's ``exportedAt`` is its own workflow's; a file
    whose bytes would not change is not rewritten."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    with _progress(len(keys), "exporting", quiet) as advance:
        for key in keys:
            body = {"keys": [key], "exportedAt": exported_at}
            data = client.send("POST", f"{DEFINITIONS}/export", body).content
            target = folder / f"{key}.json"
            before = target.read_bytes() if target.is_file() else None
            if before != data:
                target.write_bytes(data)
            state = "unchanged" if before == data else "written" if before is None else "updated"
            rows.append({"key": key, "file": str(target), "state": state})
            advance()
    if not quiet:
        print_table(rows, [("KEY", "key"), ("FILE", "file"), ("STATE", "state")])
    changed = sum(1 for r in rows if r["state"] != "unchanged")
    stdout.print(f"{len(rows)} file(s) in {folder}, {changed} changed", highlight=False)


@bundle_app.command("plan")
@uses_client
def plan(
    client: ApiClient,
    source: str = SourceArgument,
    force: bool = ForceOption,
    prune: bool = PruneOption,
    prune_prefix: str | None = PrunePrefixOption,
    bindings: str | None = BindingsOption,
    detailed_exitcode: bool = typer.Option(
        False, "--detailed-exitcode", help=f"Exit 0 without changes, {EXIT_CHANGES} with changes."
    ),
    as_json: bool = JsonOption,
    quiet: bool = QuietOption,
) -> None:
    """Show what importing SOURCE would change, per workflow key, with its environment-specific
    references and what --bindings substitutes; writes nothing."""
    raw = body = read_source(source, quiet=quiet or as_json)
    if bindings is not None:
        from .references import bindings_envelope

        body = bindings_envelope(raw, bindings)
    params = _import_params(force=force, prune=prune, prune_prefix=prune_prefix)
    headers = {"Content-Type": "application/json"}
    with progress_for(raw, "planning"):
        response = client.request(
            "POST", f"{DEFINITIONS}/import/plan", content=body, params=params, headers=headers
        )
    result = response.json()
    if as_json:
        print_json(result)
    else:
        print_plan(result)
    if detailed_exitcode and result["changes"]:
        raise typer.Exit(EXIT_CHANGES)


def _import_params(**flags: Any) -> dict[str, str]:
    """Query parameters of the plan and import routes (``prune_prefix`` -> ``prunePrefix``)."""
    names = {"prune_prefix": "prunePrefix", "dry_run": "dryRun", "accept": "acceptBrokenRuns"}
    params = {}
    for name, value in flags.items():
        if value is True:
            params[names.get(name, name)] = "true"
        elif isinstance(value, str):
            params[names.get(name, name)] = value
    return params


def print_plan(plan: dict[str, Any]) -> None:
    """``+`` create, ``~`` update (with what changes), ``-`` delete; unchanged ones counted only."""
    from rich.markup import escape

    for change in plan["workflows"]:
        action = change["action"]
        if action == "unchanged":
            continue
        mark = {"create": "[green]+[/]", "update": "[yellow]~[/]", "delete": "[red]-[/]"}[action]
        stdout.print(f"{mark} {escape(change['key'])}", highlight=False)
        for line in _change_lines(change):
            stdout.print(f"    {escape(line)}", highlight=False)
    for key in plan["needsForce"]:
        stdout.print(f"! {escape(key)} exists: the import needs --force", highlight=False)
    _print_notes(plan.get("substitutions") or [], plan.get("referenceWarnings") or [])
    stdout.print(plan["summary"], highlight=False, markup=False)


#: Substitutions and warnings the import table shows; --json gives them all.
NOTES_SHOWN = 20


def _print_notes(substitutions: list[dict[str, Any]], warnings: list[dict[str, Any]]) -> None:
    """What the bindings replaced (``=``) and the coded warnings (``!``), one line each, the
    first :data:`NOTES_SHOWN` of each kind."""
    lines = []
    for sub in substitutions[:NOTES_SHOWN]:
        where = f"{sub['workflowKey']} {sub['version']} {sub['path']}"
        lines.append(f"= bound {sub['kind']} {sub['value']!r} -> {sub['target']!r} ({where})")
    if len(substitutions) > NOTES_SHOWN:
        lines.append(f"= ... {len(substitutions) - NOTES_SHOWN} more substitution(s) (--json)")
    for warning in warnings[:NOTES_SHOWN]:
        lines.append(f"! {warning['code']}: {warning['message']}")
    if len(warnings) > NOTES_SHOWN:
        lines.append(f"! ... {len(warnings) - NOTES_SHOWN} more warning(s) (--json)")
    for line in lines:
        stdout.print(line, highlight=False, markup=False)


def _change_lines(change: dict[str, Any]) -> Iterator[str]:
    def shown(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, sort_keys=True)

    for field in change["fields"]:
        yield f"{field['field']}: {shown(field['old'])} -> {shown(field['new'])}"
    for op in change["draft"]:
        value = f" {shown(op['value'])}" if "value" in op else ""
        source = f" from {op['from']}" if "from" in op else ""
        yield f"draft {op['op']} {op['path'] or '/'}{source}{value}"
    versions = change["versions"]
    for label in ("added", "removed", "changed"):
        if versions[label] and not (change["action"] == "create" and label == "added"):
            yield f"versions {label}: {', '.join(map(str, versions[label]))}"
    if change["action"] == "create" and versions["added"]:
        yield f"versions: {', '.join(map(str, versions['added']))}"
    if change["deletedVersions"] and change["action"] != "create":
        yield f"deletes published versions: {', '.join(map(str, change['deletedVersions']))}"
    for ref in change["references"]:
        where = "draft" if ref["version"] is None else f"v{ref['version']}"
        yield f"reference rewritten ({where} {ref['stepPath']}): {ref['from']} -> {ref['to']}"
    for run in change["runsAtRisk"]:
        yield f"breaks run {run['runId']} ({run['status']} on v{run['workflowVersion']})"


@bundle_app.command("import")
@uses_client_creating_database
def import_(
    client: ApiClient,
    source: str | None = typer.Argument(
        None, help="Bundle file, a folder of bundle files (one bundle), or - for standard input."
    ),
    file: str | None = typer.Option(None, "--file", help="The same as SOURCE."),
    force: bool = ForceOption,
    dry_run: bool = typer.Option(False, "--dry-run", help="Check and roll back; write nothing."),
    prune: bool = PruneOption,
    prune_prefix: str | None = PrunePrefixOption,
    accept_broken_runs: bool = typer.Option(
        False,
        "--accept-broken-runs",
        help="Import even when --force or --prune deletes a published version that a running or"
        " waiting run is on (those runs fail at their next step).",
    ),
    yes: bool = YesOption,
    bindings: str | None = BindingsOption,
    allow_unresolved: bool = typer.Option(
        False, "--allow-unresolved", help="Import even if references are missing (warnings)."
    ),
    as_json: bool = JsonOption,
    quiet: bool = QuietOption,
) -> None:
    """Import a bundle in one transaction and print the summary (a file's bytes are sent; with
    --bindings, inside {"bundle": ..., "bindings": ...})."""
    if (source is None) == (file is None):
        raise typer.BadParameter("give the bundle as SOURCE or --file (one of them)")
    if (force or prune) and not dry_run:
        what = [
            *(["--force replaces every workflow of the bundle that has the same key"] * force),
            *(["--prune deletes the workflows the source no longer has"] * prune),
        ]
        confirm(f"{' and '.join(what)}. Go on?", yes)
    raw = body = read_source(source or file or "-", quiet=quiet or as_json)
    if bindings is not None:
        from .references import bindings_envelope

        body = bindings_envelope(raw, bindings)
    params = _import_params(
        force=force,
        dry_run=dry_run,
        prune=prune,
        prune_prefix=prune_prefix,
        accept=accept_broken_runs,
        allowUnresolved=allow_unresolved,
    )
    del raw
    request = {"content": body, "params": params, "headers": {"Content-Type": "application/json"}}
    path = f"{DEFINITIONS}/import"
    if quiet or as_json:
        summary = client.request("POST", path, **request).json()
    else:
        with live_progress() as on_progress:
            summary = client.progress_lines("POST", path, on_progress, **request)
    print_summary(summary, as_json, quiet=quiet)


def print_summary(summary: dict[str, Any], as_json: bool, *, quiet: bool = False) -> None:
    if as_json:
        print_json(summary)
        return
    note = " (dry run: nothing was written)" if summary.get("dryRun") else ""
    if quiet:
        stdout.print(f"{summary['plan']['summary']}{note}", highlight=False, markup=False)
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
    for deleted in summary["deletedWorkflows"]:
        stdout.print(f"- {deleted['key']} deleted", highlight=False, markup=False)
    _print_notes(summary.get("substitutions") or [], summary["warnings"])
    stdout.print(f"{len(rows)} workflow(s) imported{note}", highlight=False)
    stdout.print(summary["plan"]["summary"], highlight=False, markup=False)


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
        fail(err, as_json=as_json)
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
