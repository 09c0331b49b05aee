"""What every command shares: opening the database, the registry, output, and exit codes."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy.engine import Engine

from algaflow.bundle import BUNDLE_ERROR_STATUS
from algaflow.config import Settings, load_settings
from algaflow.errors import AlgaflowError
from algaflow.registry import Registry, build_registry
from algaflow.store import migrate
from algaflow.store.engine import make_engine
from algaflow.store.tenants import DEFAULT_TENANT_NAME, ensure_tenant, get_tenant_by_name

stdout = Console(soft_wrap=True)
stderr = Console(stderr=True, soft_wrap=True)

#: Documented, stable exit codes (docs/guides/workflows/workflow-import-export.md).
EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INVALID_BUNDLE, EXIT_CONFLICT, EXIT_MISSING_DEPS = range(6)
#: Codes that mean "the bundle itself is wrong" besides the bundle module's own 400s.
_INVALID_INPUT_CODES = {"JSON_TOO_DEEP", "INVALID_WORKFLOW_KEY"}

DatabaseUrlOption = typer.Option(
    None, "--database-url", envvar="ALGAFLOW_DATABASE_URL", help="Defaults to sqlite:///algaflow.db"
)
TenantOption = typer.Option(DEFAULT_TENANT_NAME, "--tenant", help="Tenant name (local database).")
PluginOption = typer.Option(
    None, "--plugin", help="module:function registering actions/schemas (repeatable)."
)
JsonOption = typer.Option(False, "--json", help="Machine-readable output.")


def exit_code_for(error: AlgaflowError) -> int:
    """The documented exit code: same answer whether the error came from a server or not."""
    if error.code == "MISSING_DEPENDENCIES":
        return EXIT_MISSING_DEPS
    if error.status == 409:
        return EXIT_CONFLICT
    if error.code in _INVALID_INPUT_CODES or BUNDLE_ERROR_STATUS.get(error.code) == 400:
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


def settings_for(database_url: str | None, plugins: Sequence[str] | None = None) -> Settings:
    base = load_settings()
    return Settings(
        database_url=database_url or base.database_url,
        plugins=base.plugins + tuple(plugins or ()),
        schema_dirs=base.schema_dirs,
        max_body_bytes=base.max_body_bytes,
    )


def open_engine(settings: Settings, *, auto_migrate: bool | None = None) -> Engine:
    """An engine on a database at the current schema.

    The embedded SQLite default is upgraded automatically; PostgreSQL only on request
    (``algaflow db upgrade`` or ``--migrate``), as operators expect.
    """
    engine = make_engine(settings.database_url)
    if auto_migrate if auto_migrate is not None else settings.is_sqlite:
        migrate.upgrade(engine)
    elif not migrate.is_current(engine):
        raise AlgaflowError(
            "DATABASE_NOT_MIGRATED",
            "The database schema is not current; run `algaflow db upgrade` first.",
            details={"current": migrate.current_revision(engine), "head": migrate.head_revision()},
        )
    return engine


def load_registry(settings: Settings) -> Registry:
    return build_registry(settings)


def resolve_tenant(engine: Engine, name: str) -> str:
    """The tenant's id; the default tenant is created on first use."""
    with engine.begin() as conn:
        if name == DEFAULT_TENANT_NAME:
            return ensure_tenant(conn)["id"]
        row = get_tenant_by_name(conn, name)
    if row is None:
        raise AlgaflowError("TENANT_NOT_FOUND", f'No tenant named "{name}"', status=404)
    return row["id"]


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
