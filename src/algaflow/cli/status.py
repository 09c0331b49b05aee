"""``algaflow status``: where a command would go, as whom, and whether it answers."""

from __future__ import annotations

import time
from typing import Any

import typer

from algaflow import __version__
from algaflow.kernel.errors import AlgaflowError

from .common import ProfileOption, fail, print_json, stdout
from .config_cmd import key_prefix
from .target import Target, resolve_target


def status(
    profile: str | None = ProfileOption,
    base_url: str | None = typer.Option(None, "--base-url", help="As other commands take it."),
    api_key: str | None = typer.Option(None, "--api-key", help="As other commands take it."),
    database_url: str | None = typer.Option(
        None, "--database-url", help="As other commands take it."
    ),
    tenant: str | None = typer.Option(None, "--tenant", help="As other commands take it."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Say which server or database, tenant and API key a command would use, and whether it
    answers (exit 1 when it does not)."""
    try:
        target = resolve_target(
            base_url=base_url, api_key=api_key, database_url=database_url, tenant=tenant,
            plugin=None, profile=profile,
        )  # fmt: skip
        report = {**_describe(target), **_probe(target)}
    except AlgaflowError as err:
        fail(err, as_json=as_json)
    if as_json:
        print_json(report)
    else:
        for label, value in report.items():
            if value is not None:
                stdout.print(f"[bold]{label + ':':<12}[/] {value or 'no'}", highlight=False)
    if not report["answers"]:
        raise typer.Exit(1)


def _describe(target: Target) -> dict[str, Any]:
    where = target.sources
    profile = target.profile
    report: dict[str, Any] = {
        "cli": __version__,
        "profile": f"{profile.name} (from {profile.source})" if profile else None,
    }
    if target.server:
        report["server"] = f"{target.server} (from {where['server']})"
        report["apiKey"] = (
            f"{key_prefix(target.api_key)} (from {where['api_key']})" if target.api_key else "none"
        )
    else:
        from .database import settings_for

        url = settings_for(target.database_url).database_url
        report["database"] = f"{_hidden_password(url)} (from {where['database']})"
        report["tenant"] = f"{target.tenant or 'default'} (from {where['tenant']})"
    return report


def _probe(target: Target) -> dict[str, Any]:
    """Whether the target answers: the server's health and key, or the database's schema."""
    started = time.perf_counter()
    try:
        found = _ask_server(target) if target.server else _open_database(target)
    except AlgaflowError as err:
        if err.code == "INVALID_SETTINGS":
            raise
        return {"answers": False, "problem": f"{err.code}: {err.message}"}
    found["answers"] = f"yes ({(time.perf_counter() - started) * 1000:.0f} ms)"
    return found


def _ask_server(target: Target) -> dict[str, Any]:
    from .client import ApiClient

    client = ApiClient.for_server(target.server or "", target.api_key)
    try:
        health = client.call("GET", "/healthz")
        caller = client.call("GET", "/api/whoami")
    finally:
        client.close()
    return {"serverVersion": health.get("version"), "tenant": caller["tenant"],
            "permissions": ", ".join(caller["permissions"])}  # fmt: skip


def _open_database(target: Target) -> dict[str, Any]:
    from .inprocess import LocalClient

    client = LocalClient(target, creates_database=False)
    try:
        caller = client.call("GET", "/api/whoami")
    finally:
        client.close()
    return {"tenantId": caller["tenantId"]}


def _hidden_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
