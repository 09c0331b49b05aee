"""``algaflow serve``: the HTTP API and its background worker, on a socket bound first.

The socket is bound before the app starts, so a port already in use is the coded
``PORT_IN_USE`` with its own exit code, not a log line. The start lines say what the server
works on: its version, address, database and schema folders, and how to get an API key.
"""

from __future__ import annotations

import errno
import socket

import typer

from algaflow import __version__
from algaflow.kernel.errors import AlgaflowError

from .common import DatabaseUrlOption, PluginOption, ProfileOption, fail, stdout
from .database import open_engine, settings_for


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Bind address (loopback by default)."),
    port: int = typer.Option(8000, "--port"),
    database_url: str | None = DatabaseUrlOption,
    plugin: list[str] | None = PluginOption,
    migrate: bool = typer.Option(False, "--migrate", help="Apply migrations first (PostgreSQL)."),
    profile: str | None = ProfileOption,
) -> None:
    """Run the HTTP API and a background worker (with ALGAFLOW_RUNTIME=temporal it executes no
    runs itself: `algaflow worker` processes do)."""
    import uvicorn
    from sqlalchemy.engine import make_url

    from algaflow.api.app import create_app
    from algaflow.services.admin import bootstrap_admin_key, has_api_keys
    from algaflow.services.backends import configured_backend
    from algaflow.services.unit_of_work import UnitOfWork

    try:
        settings = settings_for(database_url, plugin, profile)
        configured_backend(settings)  # a misconfigured runtime fails here, not on a request
        listener = bind(host, port)
        engine = open_engine(settings, auto_migrate=settings.is_sqlite or migrate)
        uow = UnitOfWork(engine)
        first = bootstrap_admin_key(uow) if settings.is_sqlite else None
        keyless = not settings.is_sqlite and not has_api_keys(uow)
        application = create_app(settings, engine=engine, background_worker=True)
    except AlgaflowError as err:
        fail(err)
    shown_url = make_url(settings.database_url).render_as_string(hide_password=True)
    folders = ", ".join(settings.schema_dirs) or "none (ALGAFLOW_SCHEMA_DIRS)"
    stdout.print(f"algaflow {__version__} serving http://{_netloc(host, port)}", highlight=False)
    stdout.print(f"  database:       {shown_url}", markup=False, highlight=False)
    stdout.print(f"  schema folders: {folders}", markup=False, highlight=False)
    if first:
        stdout.print("[bold]First start:[/] created tenant 'default' and an admin API key:")
        stdout.print(f"export ALGAFLOW_API_KEY={first.secret}", highlight=False)
        stdout.print("[dim]It is stored hashed and will not be shown again.[/]")
    elif keyless:
        stdout.print(
            "No API key exists yet: create one with `algaflow keys create --database-url"
            " <this database>` and export it as ALGAFLOW_API_KEY (or pass --api-key).",
            markup=False,
            highlight=False,
        )
    config = uvicorn.Config(application, host=host, port=port, log_level="info")
    uvicorn.Server(config).run(sockets=[listener])


def bind(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port``, ready for the server to listen on."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except socket.gaierror as exc:
        raise AlgaflowError(
            "CANNOT_LISTEN", f"Cannot listen on {host}:{port}: {exc.strerror}"
        ) from None
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as exc:
        listener.close()
        if exc.errno == errno.EADDRINUSE:
            raise AlgaflowError(
                "PORT_IN_USE",
                f"Port {port} on {host} is already in use: stop what listens there, or choose"
                " another with --port.",
                details={"host": host, "port": port},
            ) from None
        raise AlgaflowError(
            "CANNOT_LISTEN", f"Cannot listen on {host}:{port}: {exc.strerror}"
        ) from None
    listener.set_inheritable(True)
    return listener


def _netloc(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
