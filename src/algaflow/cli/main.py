"""The ``algaflow`` command: serve, the database commands, and clients of the HTTP API.

Heavy libraries (SQLAlchemy, Alembic, jsonschema, uvicorn, FastAPI) are imported inside the
commands that use them, so ``--help`` and server-mode commands start fast
(``tests/cli/test_cli_startup.py``).
"""

from __future__ import annotations

import sys

import typer

from algaflow.kernel.errors import AlgaflowError

from .admin import db_app, keys_app, tenants_app
from .bundle import bundle_app
from .common import WHERE_COMMANDS_GO, DatabaseUrlOption, PluginOption, fail, stdout
from .database import open_engine, settings_for
from .references import register as register_reference_commands
from .registry import registry_app
from .runs import events_app, runs_app, tasks_app, worker
from .workflows import workflows_app

app = typer.Typer(
    name="algaflow",
    help=f"Alga PSA workflow definitions, bundles and runs.\n\n{WHERE_COMMANDS_GO}",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
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


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Bind address (loopback by default)."),
    port: int = typer.Option(8000, "--port"),
    database_url: str | None = DatabaseUrlOption,
    plugin: list[str] | None = PluginOption,
    migrate: bool = typer.Option(False, "--migrate", help="Apply migrations first (PostgreSQL)."),
) -> None:
    """Run the HTTP API (and the background worker for timers and resumptions)."""
    import uvicorn

    from algaflow.api.app import create_app
    from algaflow.services.admin import bootstrap_admin_key
    from algaflow.services.unit_of_work import UnitOfWork

    settings = settings_for(database_url, plugin)
    try:
        engine = open_engine(settings, auto_migrate=settings.is_sqlite or migrate)
        first = bootstrap_admin_key(UnitOfWork(engine)) if settings.is_sqlite else None
        application = create_app(settings, engine=engine, background_worker=True)
    except AlgaflowError as err:
        fail(err)
    if first:
        stdout.print("[bold]First start:[/] created tenant 'default' and an admin API key:")
        stdout.print(f"export ALGAFLOW_API_KEY={first.secret}", highlight=False)
        stdout.print("[dim]It is stored hashed and will not be shown again.[/]")
    uvicorn.run(application, host=host, port=port, log_level="info")


def main() -> None:
    """The console entry point."""
    try:
        app()
    except Exception as exc:
        from algaflow.store.failures import database_error

        error = database_error(exc)
        if error is None:
            raise
        try:
            fail(error)
        except typer.Exit as done:
            sys.exit(done.exit_code)


if __name__ == "__main__":
    main()
