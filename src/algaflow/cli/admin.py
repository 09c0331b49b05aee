"""``algaflow db|tenants|keys``: operating the instance itself.

Each command parses, makes one call to :mod:`algaflow.services.admin` and renders. The services
(and with them SQLAlchemy) are imported inside the commands, so that loading the CLI does not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from algaflow.kernel.errors import AlgaflowError

from .common import (
    DatabaseUrlOption,
    JsonOption,
    ProfileOption,
    TenantOption,
    fail,
    print_json,
    print_table,
    stdout,
)
from .database import open_engine, settings_for

if TYPE_CHECKING:
    from algaflow.services.unit_of_work import UnitOfWork

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
tenants_app = typer.Typer(help="Tenants.", no_args_is_help=True)
keys_app = typer.Typer(
    help="API keys (shown once at creation, stored hashed).", no_args_is_help=True
)


def _unit_of_work(
    database_url: str | None,
    profile: str | None,
    *,
    creates_database: bool = True,
    as_json: bool = False,
) -> UnitOfWork:
    from algaflow.services.unit_of_work import UnitOfWork

    try:
        settings = settings_for(database_url, profile=profile)
        return UnitOfWork(open_engine(settings, creates_database=creates_database))
    except AlgaflowError as err:
        fail(err, as_json=as_json)


@db_app.command("upgrade")
def db_upgrade(
    database_url: str | None = DatabaseUrlOption, profile: str | None = ProfileOption
) -> None:
    """Create the database if need be and apply all pending migrations."""
    from algaflow.store import migrate

    try:
        engine = open_engine(settings_for(database_url, profile=profile), auto_migrate=True)
    except AlgaflowError as err:
        fail(err)
    stdout.print(f"database at revision {migrate.current_revision(engine)}")


@tenants_app.command("create")
def tenants_create(
    name: str,
    database_url: str | None = DatabaseUrlOption,
    profile: str | None = ProfileOption,
    as_json: bool = JsonOption,
) -> None:
    from algaflow.services import admin

    uow = _unit_of_work(database_url, profile, as_json=as_json)
    try:
        tenant = admin.create_tenant(uow, name)
    except AlgaflowError as err:
        fail(err, as_json=as_json)
    if as_json:
        print_json({"id": tenant.id, "name": tenant.name})
    else:
        stdout.print(f"created tenant {tenant.name} ({tenant.id})")


@tenants_app.command("list")
def tenants_list(
    database_url: str | None = DatabaseUrlOption,
    profile: str | None = ProfileOption,
    as_json: bool = JsonOption,
) -> None:
    from algaflow.services import admin

    uow = _unit_of_work(database_url, profile, creates_database=False, as_json=as_json)
    rows = [{"id": t.id, "name": t.name} for t in admin.list_tenants(uow)]
    print_json(rows) if as_json else print_table(rows, [("ID", "id"), ("NAME", "name")])


@keys_app.command("create")
def keys_create(
    tenant: str | None = TenantOption,
    permission: list[str] = typer.Option(
        ["workflow:admin"],
        "--permission",
        help="Repeatable; one of workflow:read|write|publish|run|admin.",
    ),
    name: str = typer.Option("api key", "--name"),
    database_url: str | None = DatabaseUrlOption,
    profile: str | None = ProfileOption,
    as_json: bool = JsonOption,
) -> None:
    """Create a key; the secret is printed once and cannot be shown again."""
    from algaflow.services import admin

    uow = _unit_of_work(database_url, profile, as_json=as_json)
    try:
        made = admin.create_api_key(uow, tenant, name=name, permissions=permission)
    except AlgaflowError as err:
        fail(err, as_json=as_json)
    permissions = list(made.key.permissions)
    if as_json:
        print_json({"id": made.key.id, "key": made.secret, "permissions": permissions})
    else:
        stdout.print(f"API key for tenant {made.key.tenant} ({', '.join(permissions)}):")
        stdout.print(made.secret, highlight=False)
        stdout.print("[dim]Store it now: it is not shown again.[/]")


@keys_app.command("list")
def keys_list(
    database_url: str | None = DatabaseUrlOption,
    profile: str | None = ProfileOption,
    as_json: bool = JsonOption,
) -> None:
    from algaflow.services import admin

    uow = _unit_of_work(database_url, profile, creates_database=False, as_json=as_json)
    rows = [
        {
            "id": k.id,
            "tenant": k.tenant,
            "name": k.name,
            "prefix": k.prefix,
            "permissions": ",".join(k.permissions),
            "revoked": k.revoked,
        }
        for k in admin.list_api_keys(uow)
    ]
    columns = [
        ("ID", "id"),
        ("TENANT", "tenant"),
        ("NAME", "name"),
        ("PREFIX", "prefix"),
        ("PERMISSIONS", "permissions"),
        ("REVOKED", "revoked"),
    ]
    print_json(rows) if as_json else print_table(rows, columns)


@keys_app.command("revoke")
def keys_revoke(
    key_id: str, database_url: str | None = DatabaseUrlOption, profile: str | None = ProfileOption
) -> None:
    from algaflow.services import admin

    uow = _unit_of_work(database_url, profile, creates_database=False)
    try:
        admin.revoke_api_key(uow, key_id)
    except AlgaflowError as err:
        fail(err)
    stdout.print(f"revoked {key_id}")
