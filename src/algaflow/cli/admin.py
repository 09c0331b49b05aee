"""``algaflow db|tenants|keys``: operating the instance itself.

Each command imports the store module it uses (SQLAlchemy, Alembic), so that loading the CLI
does not.
"""

from __future__ import annotations

import typer

from algaflow.kernel.errors import AlgaflowError

from .common import (
    DatabaseUrlOption,
    JsonOption,
    TenantOption,
    fail,
    print_json,
    print_table,
    stdout,
)
from .database import open_engine, resolve_tenant, settings_for

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
tenants_app = typer.Typer(help="Tenants.", no_args_is_help=True)
keys_app = typer.Typer(
    help="API keys (shown once at creation, stored hashed).", no_args_is_help=True
)


@db_app.command("upgrade")
def db_upgrade(database_url: str | None = DatabaseUrlOption) -> None:
    """Apply all pending migrations."""
    from algaflow.store import migrate

    engine = open_engine(settings_for(database_url), auto_migrate=True)
    stdout.print(f"database at revision {migrate.current_revision(engine)}")


@tenants_app.command("create")
def tenants_create(
    name: str, database_url: str | None = DatabaseUrlOption, as_json: bool = JsonOption
) -> None:
    from algaflow.store import tenants

    engine = open_engine(settings_for(database_url))
    try:
        from algaflow.store.engine import write_transaction

        with write_transaction(engine) as conn:
            row = tenants.create_tenant(conn, name)
    except AlgaflowError as err:
        fail(err)
    if as_json:
        print_json({"id": row["id"], "name": row["name"]})
    else:
        stdout.print(f"created tenant {row['name']} ({row['id']})")


@tenants_app.command("list")
def tenants_list(database_url: str | None = DatabaseUrlOption, as_json: bool = JsonOption) -> None:
    from algaflow.store import tenants

    engine = open_engine(settings_for(database_url))
    with engine.connect() as conn:
        rows = [{"id": t["id"], "name": t["name"]} for t in tenants.list_tenants(conn)]
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
    as_json: bool = JsonOption,
) -> None:
    """Create a key; the secret is printed once and cannot be shown again."""
    from algaflow.store import api_keys
    from algaflow.store.tenants import DEFAULT_TENANT_NAME

    tenant = tenant or DEFAULT_TENANT_NAME
    engine = open_engine(settings_for(database_url))
    try:
        tenant_id = resolve_tenant(engine, tenant)
        from algaflow.store.engine import write_transaction

        with write_transaction(engine) as conn:
            row, secret = api_keys.create_api_key(
                conn, tenant_id, name=name, permissions=permission
            )
    except AlgaflowError as err:
        fail(err)
    if as_json:
        print_json({"id": row["id"], "key": secret, "permissions": row["permissions"]})
    else:
        stdout.print(f"API key for tenant {tenant} ({', '.join(row['permissions'])}):")
        stdout.print(secret, highlight=False)
        stdout.print("[dim]Store it now: it is not shown again.[/]")


@keys_app.command("list")
def keys_list(database_url: str | None = DatabaseUrlOption, as_json: bool = JsonOption) -> None:
    from algaflow.store import api_keys

    engine = open_engine(settings_for(database_url))
    with engine.connect() as conn:
        rows = [
            {
                "id": k["id"],
                "tenant": k["tenant_name"],
                "name": k["name"],
                "prefix": k["prefix"],
                "permissions": ",".join(k["permissions"]),
                "revoked": k["revoked_at"] is not None,
            }
            for k in api_keys.list_api_keys(conn)
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
def keys_revoke(key_id: str, database_url: str | None = DatabaseUrlOption) -> None:
    from algaflow.store import api_keys

    engine = open_engine(settings_for(database_url))
    try:
        from algaflow.store.engine import write_transaction

        with write_transaction(engine) as conn:
            api_keys.revoke_api_key(conn, key_id)
    except AlgaflowError as err:
        fail(err)
    stdout.print(f"revoked {key_id}")
