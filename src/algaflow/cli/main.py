"""The ``algaflow`` command: serve, the database commands, and clients of the HTTP API.

Heavy libraries (SQLAlchemy, Alembic, jsonschema, uvicorn, FastAPI, pydantic) are imported inside
the commands that use them, so ``--help`` and server-mode commands start fast
(``tests/cli/test_cli_startup.py``).
"""

from __future__ import annotations

import sys

import typer

from algaflow import __version__
from algaflow.kernel.errors import AlgaflowError

from .admin import db_app, keys_app, tenants_app
from .bundle import bundle_app
from .common import WHERE_COMMANDS_GO, fail
from .config_cmd import config_app
from .references import register as register_reference_commands
from .registry import registry_app
from .runs import events_app, runs_app, tasks_app, worker
from .serve import serve
from .status import status
from .workflows import workflows_app

app = typer.Typer(
    name="algaflow",
    help=f"Alga PSA workflow definitions, bundles and runs.\n\n{WHERE_COMMANDS_GO}",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        sys.stdout.write(f"algaflow {__version__}\n")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version."
    ),
) -> None:
    # Only the global --version: the app's help is the Typer's.
    return None


app.add_typer(config_app, name="config")
app.command("status")(status)
app.command("serve")(serve)
app.add_typer(db_app, name="db")
app.add_typer(tenants_app, name="tenants")
app.add_typer(keys_app, name="keys")
app.add_typer(workflows_app, name="workflows")
register_reference_commands(bundle_app)
app.add_typer(bundle_app, name="bundle")
app.add_typer(registry_app, name="registry")
app.add_typer(runs_app, name="runs")
app.add_typer(events_app, name="events")
app.add_typer(tasks_app, name="tasks")
app.command("worker")(worker)


def main() -> None:
    """The console entry point: a coded error (a bad setting, a database driver's failure)
    anywhere is printed by :func:`~algaflow.cli.common.fail`, never as a traceback."""
    try:
        app()
    except Exception as exc:
        error = exc if isinstance(exc, AlgaflowError) else _database_error(exc)
        if error is None:
            raise
        try:
            fail(error)
        except typer.Exit as done:
            sys.exit(done.exit_code)


def _database_error(exc: Exception) -> AlgaflowError | None:
    from algaflow.store.failures import database_error

    return database_error(exc)


if __name__ == "__main__":
    main()
