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
from .profiles import PROFILE_ENV
from .target import API_KEY_ENV, DATABASE_URL_ENV, URL_ENV, Target, resolve_target

stdout = Console(soft_wrap=True)
stderr = Console(stderr=True, soft_wrap=True)

#: Documented, stable exit codes (docs/guides/workflows/workflow-import-export.md).
EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INVALID_BUNDLE, EXIT_CONFLICT, EXIT_MISSING_DEPS = range(6)
#: ``serve``: the port is taken (another server, or an earlier one still running).
EXIT_PORT_IN_USE = 7
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
    " of the server at --base-url, ALGAFLOW_URL or the profile's; or, given --database-url or no"
    " server, of the same app run in this process over that database (else"
    " ALGAFLOW_DATABASE_URL, a database profile's, default sqlite:///algaflow.db), so both answer"
    " the same. Options win over environment variables, which win over the profile (--profile,"
    " ALGAFLOW_PROFILE or `algaflow config use`). serve, worker, db, tenants and keys always work"
    " on a database. `algaflow status` says where a command would go."
)

#: For commands that only ever work on a database (serve, worker, db, tenants, keys).
DatabaseUrlOption = typer.Option(
    None,
    "--database-url",
    help="Database URL (default: ALGAFLOW_DATABASE_URL, else a database profile's, else"
    " sqlite:///algaflow.db).",
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
    if error.code == "PORT_IN_USE":
        return EXIT_PORT_IN_USE
    if status_for(error.code) == 409:
        return EXIT_CONFLICT
    if error.code in INVALID_INPUT_CODES:
        return EXIT_INVALID_BUNDLE
    return EXIT_ERROR


def fail(error: AlgaflowError, *, as_json: bool = False) -> NoReturn:
    """Print ``error CODE: message`` (and details as JSON) to stderr and exit with its code.

    With ``as_json`` stderr gets one JSON object instead, ``{"code", "message", "details"}``,
    and the exit code is the same.
    """
    if as_json:
        body = {"code": error.code, "message": error.message, "details": error.details}
        sys.stderr.write(json.dumps(body, indent=2, ensure_ascii=False, default=str) + "\n")
        raise typer.Exit(exit_code_for(error))
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
    help=f"Server URL (else {URL_ENV}, else the profile's): the command goes to it unless"
    " --database-url is given.",
)
_ApiKeyOption = typer.Option(
    None, "--api-key", help=f"Server API key (else {API_KEY_ENV}, else the profile's)."
)
_ExplicitDatabaseOption = typer.Option(
    None,
    "--database-url",
    help="Run the API in this process over this database, even when a server is configured"
    f" (without a server the default is {DATABASE_URL_ENV}, else a database profile's, else"
    " sqlite:///algaflow.db).",
)
_DatabaseTenantOption = typer.Option(
    None,
    "--tenant",
    help="Tenant name, on a database (default: the profile's, else the default tenant; a server"
    " uses its API key's).",
)
_DatabasePluginOption = typer.Option(
    None,
    "--plugin",
    help="module:function registering actions/schemas, on a database (repeatable).",
)
ProfileOption = typer.Option(
    None,
    "--profile",
    help=f"Use this profile (else {PROFILE_ENV}, else the one chosen by `algaflow config use`).",
)
_CONNECTION_OPTIONS: list[tuple[str, Any, Any]] = [
    ("base_url", str | None, _BaseUrlOption),
    ("api_key", str | None, _ApiKeyOption),
    ("database_url", str | None, _ExplicitDatabaseOption),
    ("tenant", str | None, _DatabaseTenantOption),
    ("plugin", list[str] | None, _DatabasePluginOption),
    ("profile", str | None, ProfileOption),
]


def open_client(target: Target, *, creates_database: bool = False) -> ApiClient:
    """A client of the target's server, or of the app run in this process over its database.

    The in-process app (FastAPI, the store, the runtime) is imported only when chosen. A missing
    SQLite file is an error saying how to point at a database, never a new empty one, unless
    ``creates_database`` (the commands that add workflows: ``workflows create``, ``bundle
    import``).
    """
    if target.server:
        return ApiClient.for_server(target.server, target.api_key)
    from .inprocess import LocalClient

    return LocalClient(target, creates_database=creates_database)


def uses_client(
    command: Callable[..., None], *, creates_database: bool = False
) -> Callable[..., None]:
    """Make ``command(client, ...)`` a command with the connection options.

    The options (``--base-url``, ``--api-key``, ``--database-url``, ``--tenant``, ``--plugin``,
    ``--profile``) are added to the command's signature for Typer; the command gets the client
    :func:`open_client` chose instead, and an :class:`AlgaflowError` it raises is printed by
    :func:`fail` (as JSON when the command was given ``--json``).
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
            target = resolve_target(**where)
            with closing(open_client(target, creates_database=creates_database)) as client:
                command(client, **kwargs)
        except AlgaflowError as err:
            fail(err, as_json=bool(kwargs.get("as_json")))

    run.__signature__ = inspect.Signature([*own, *added])  # type: ignore[attr-defined]
    run.__annotations__ = {p.name: p.annotation for p in [*own, *added]}
    return run


#: For the commands that add workflows: on a missing SQLite file they create the database.
uses_client_creating_database = functools.partial(uses_client, creates_database=True)


def confirm(question: str, yes: bool) -> None:
    """Ask ``question`` when a person is at the terminal and ``--yes`` was not given; anything
    but yes aborts with exit 1 and changes nothing. Scripts (no terminal) are not asked."""
    if yes or not sys.stdin.isatty():
        return
    if not typer.confirm(question, default=False, err=True):
        stderr.print("aborted: nothing was changed", highlight=False)
        raise typer.Exit(EXIT_ERROR)


YesOption = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation on a terminal.")


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
