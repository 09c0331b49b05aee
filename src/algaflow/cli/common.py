"""What every command shares: where it works (a server or the in-process app), output, exits."""

from __future__ import annotations

import functools
import inspect
import json
import math
import sys
from collections.abc import Callable, Iterable, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from algaflow.api.statuses import status_for
from algaflow.kernel.errors import AlgaflowError

from .client import ApiClient

stdout = Console(soft_wrap=True)
stderr = Console(stderr=True, soft_wrap=True)

#: Documented, stable exit codes (docs/guides/workflows/workflow-import-export.md).
EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INVALID_BUNDLE, EXIT_CONFLICT, EXIT_MISSING_DEPS = range(6)
#: The codes of exit 3, "the input is invalid" (the bundle guide's table): the JSON itself, a
#: bundle's header, schema, keys, versions, values, definitions or references. The CLI's own
#: contract, kept here rather than derived so that printing an error loads nothing.
INVALID_INPUT_CODES = frozenset(
    {
        "INVALID_JSON",
        "JSON_TOO_DEEP",
        "INVALID_WORKFLOW_KEY",
        "INVALID_BUNDLE",
        "UNSUPPORTED_FORMAT",
        "UNSUPPORTED_FORMAT_VERSION",
        "SCHEMA_VALIDATION_FAILED",
        "DUPLICATE_WORKFLOW_KEY",
        "DUPLICATE_PUBLISHED_VERSION",
        "UNSTORABLE_VALUE",
        "INVALID_WORKFLOW_DEFINITION",
        "UNRESOLVED_WORKFLOW_REFERENCE",
        "INVALID_DRAFT_VERSION",
        "INVALID_BINDINGS",
        "UNKNOWN_REFERENCE_KIND",
        "BINDINGS_NOT_INJECTIVE",
        "UNRESOLVED_REFERENCES",
        "UNRESOLVED_BINDINGS",
    }
)

#: Where the commands on workflows, runs, events, tasks and bundles work (see open_backend).
WHERE_COMMANDS_GO = (
    "Commands on workflows, runs, events, tasks, bundles and the registry call the HTTP API:"
    " of the server at --base-url or ALGAFLOW_URL; or, given --database-url or no server, of the"
    " same app run in this process over that database (else ALGAFLOW_DATABASE_URL, default"
    " sqlite:///algaflow.db), so both answer the same. serve, worker, db, tenants and keys always"
    " work on a database."
)

#: For commands that only ever work on a database (serve, worker, db, tenants, keys).
DatabaseUrlOption = typer.Option(
    None,
    "--database-url",
    help="Database URL (default: ALGAFLOW_DATABASE_URL, else sqlite:///algaflow.db).",
)
TenantOption = typer.Option(None, "--tenant", help="Tenant name (default: the default tenant).")
PluginOption = typer.Option(
    None, "--plugin", help="module:function registering actions/schemas (repeatable)."
)
JsonOption = typer.Option(False, "--json", help="Machine-readable output.")


def exit_code_for(error: AlgaflowError) -> int:
    """The documented exit code: same answer whether the error came from a server or not."""
    if error.code == "MISSING_DEPENDENCIES":
        return EXIT_MISSING_DEPS
    if status_for(error.code) == 409:
        return EXIT_CONFLICT
    if error.code in INVALID_INPUT_CODES:
        return EXIT_INVALID_BUNDLE
    return EXIT_ERROR


def fail(error: AlgaflowError) -> NoReturn:
    """Print ``error CODE: message`` (and details as JSON) to stderr and exit with its code."""
    message = f"[bold red]error[/] {escape(error.code)}: {escape(error.message)}"
    stderr.print(message, markup=True, highlight=False)
    if error.details:
        sys.stderr.write(
            json.dumps(error.details, indent=2, ensure_ascii=False, default=str) + "\n"
        )
    raise typer.Exit(exit_code_for(error))


def read_json_file(path: Path) -> Any:
    """A JSON file's value. NaN and infinite numbers (``NaN``, ``1e400``) are refused: JSON has
    none, so the same file could not be sent to a server."""
    try:
        return json.loads(
            path.read_text(encoding="utf-8-sig"),
            parse_constant=_not_a_number,
            parse_float=_finite_float,
        )
    except OSError as exc:
        raise AlgaflowError("FILE_NOT_READABLE", f"Cannot read {path}: {exc.strerror}") from None
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
        raise AlgaflowError("INVALID_JSON", f"{path} is not valid JSON: {exc}") from None


def _not_a_number(text: str) -> float:
    raise ValueError(f"{text} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    return value if math.isfinite(value) else _not_a_number(text)


# --- where a command works ---------------------------------------------------------------------

_BaseUrlOption = typer.Option(
    None,
    "--base-url",
    envvar="ALGAFLOW_URL",
    help="Server URL: the command goes to it unless --database-url is given.",
)
_ApiKeyOption = typer.Option(None, "--api-key", envvar="ALGAFLOW_API_KEY", help="Server API key.")
_ExplicitDatabaseOption = typer.Option(
    None,
    "--database-url",
    help="Run the API in this process over this database, even when a server is configured"
    " (without a server the default is ALGAFLOW_DATABASE_URL, else sqlite:///algaflow.db).",
)
_DatabaseTenantOption = typer.Option(
    None,
    "--tenant",
    help="Tenant name, on a database (default: the default tenant; a server uses its API key's).",
)
_DatabasePluginOption = typer.Option(
    None,
    "--plugin",
    help="module:function registering actions/schemas, on a database (repeatable).",
)
_CONNECTION_OPTIONS: list[tuple[str, Any, Any]] = [
    ("base_url", str | None, _BaseUrlOption),
    ("api_key", str | None, _ApiKeyOption),
    ("database_url", str | None, _ExplicitDatabaseOption),
    ("tenant", str | None, _DatabaseTenantOption),
    ("plugin", list[str] | None, _DatabasePluginOption),
]


def open_client(
    *,
    database_url: str | None,
    base_url: str | None,
    api_key: str | None,
    tenant: str | None,
    plugin: Sequence[str] | None,
) -> ApiClient:
    """The one rule: an explicit ``--database-url`` means that database; otherwise a configured
    server (``--base-url``/``ALGAFLOW_URL``); otherwise ``ALGAFLOW_DATABASE_URL`` or the default.

    ``ALGAFLOW_DATABASE_URL`` is read by :func:`settings_for`, never by an option, so a database
    configured for ``serve`` in the same shell cannot silently win over the server. The
    in-process app (FastAPI, the store, the runtime) is imported only when chosen.
    """
    if base_url and not database_url:
        if tenant or plugin:
            raise typer.BadParameter(
                "they apply to a database; a server works on its API key's tenant with its own"
                " plugins (add --database-url to work on a database).",
                param_hint="--tenant/--plugin",
            )
        return ApiClient.for_server(base_url, api_key)
    from .inprocess import LocalClient

    return LocalClient(database_url, tenant, plugin)


def uses_client(command: Callable[..., None]) -> Callable[..., None]:
    """Make ``command(client, ...)`` a command with the connection options.

    The options (``--base-url``, ``--api-key``, ``--database-url``, ``--tenant``, ``--plugin``)
    are added to the command's signature for Typer; the command gets the client
    :func:`open_client` chose instead, and an :class:`AlgaflowError` it raises is printed by
    :func:`fail`.
    """
    added = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=hint)
        for name, hint, option in _CONNECTION_OPTIONS
    ]
    own = list(inspect.signature(command, eval_str=True).parameters.values())[1:]

    @functools.wraps(command)
    def run(**kwargs: Any) -> None:
        where = {name: kwargs.pop(name) for name, _, _ in _CONNECTION_OPTIONS}
        try:
            with closing(open_client(**where)) as client:
                command(client, **kwargs)
        except AlgaflowError as err:
            fail(err)

    run.__signature__ = inspect.Signature([*own, *added])  # type: ignore[attr-defined]
    run.__annotations__ = {p.name: p.annotation for p in [*own, *added]}
    return run


# --- output ------------------------------------------------------------------------------------


def print_json(value: Any) -> None:
    """Stable JSON for programs: sorted keys, two-space indent, UTF-8."""
    sys.stdout.write(json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str))
    sys.stdout.write("\n")


def print_table(rows: Iterable[dict[str, Any]], columns: Sequence[tuple[str, str]]) -> None:
    """A tidy table: ``columns`` are (header, key) pairs.

    Nothing is cut short: on a terminal long cells fold onto the next line, and into a pipe or
    a file the table takes its natural width, so ids can be copied whole.
    """
    table = Table(show_edge=False, header_style="bold")
    for header, _ in columns:
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*("" if row.get(key) is None else str(row.get(key)) for _, key in columns))
    console = stdout if stdout.is_terminal else Console(soft_wrap=True, width=100_000)
    console.print(table)
