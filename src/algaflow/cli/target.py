"""Where a command goes: a server (and its key) or a database (and a tenant), and why.

Each setting comes from its command-line option, else its environment variable, else the chosen
profile (:mod:`.profiles`). An explicit ``--database-url`` means that database; otherwise a
server named anywhere wins; otherwise the database of ``ALGAFLOW_DATABASE_URL``, of a database
profile, or the default. ``ALGAFLOW_DATABASE_URL`` (the setting of ``serve``) never wins over a
configured server, so a shell set up for ``serve`` still sends its commands to the server.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

import typer

from .profiles import ChosenProfile, chosen_profile

URL_ENV, API_KEY_ENV, DATABASE_URL_ENV = "ALGAFLOW_URL", "ALGAFLOW_API_KEY", "ALGAFLOW_DATABASE_URL"


@dataclass(frozen=True)
class Target:
    """A server (``server`` set) or a database (``database_url``; ``None`` is the default)."""

    server: str | None = None
    api_key: str | None = None
    database_url: str | None = None
    tenant: str | None = None
    plugins: tuple[str, ...] = ()
    profile: ChosenProfile | None = None
    #: For each setting given, where it came from: an option, a variable or ``profile NAME``.
    sources: dict[str, str] = field(default_factory=dict)


def _first(*candidates: tuple[str | None, str]) -> tuple[str | None, str]:
    return next(((value, source) for value, source in candidates if value), (None, ""))


def resolve_target(
    *,
    base_url: str | None,
    api_key: str | None,
    database_url: str | None,
    tenant: str | None,
    plugin: Sequence[str] | None,
    profile: str | None,
) -> Target:
    """The target of a client command, from its options, the environment and a profile."""
    chosen = chosen_profile(profile)
    saved = chosen.profile if chosen else None
    from_profile = f"profile {chosen.name}" if chosen else ""
    if not database_url:
        server, server_from = _first(
            (base_url, "--base-url"),
            (os.environ.get(URL_ENV), URL_ENV),
            (saved.url if saved and saved.is_server else None, from_profile),
        )
        if server:
            if tenant or plugin:
                raise typer.BadParameter(
                    "they apply to a database; a server works on its API key's tenant with its"
                    " own plugins (add --database-url to work on a database).",
                    param_hint="--tenant/--plugin",
                )
            # A profile's key goes only to that profile's server.
            own = saved.api_key if saved and saved.url == server else None
            key, key_from = _first(
                (api_key, "--api-key"), (os.environ.get(API_KEY_ENV), API_KEY_ENV),
                (own, from_profile),
            )  # fmt: skip
            sources = {"server": server_from, **({"api_key": key_from} if key else {})}
            return Target(server=server, api_key=key, profile=chosen, sources=sources)
    database, database_from = _first(
        (database_url, "--database-url"),
        (os.environ.get(DATABASE_URL_ENV), DATABASE_URL_ENV),
        (saved.url if saved and not saved.is_server else None, from_profile),
    )
    own_tenant = saved.tenant if saved and not saved.is_server else None
    chosen_tenant, tenant_from = _first((tenant, "--tenant"), (own_tenant, from_profile))
    sources = {"database": database_from or "default", "tenant": tenant_from or "default"}
    return Target(
        database_url=database,
        tenant=chosen_tenant,
        plugins=tuple(plugin or ()),
        profile=chosen,
        sources=sources,
    )


def database_of(database_url: str | None, profile: str | None) -> str | None:
    """The database of a database command: ``--database-url``, else ``ALGAFLOW_DATABASE_URL``,
    else a database profile's (a server profile names none), else ``None`` (the default)."""
    if database_url or os.environ.get(DATABASE_URL_ENV):
        return database_url
    chosen = chosen_profile(profile)
    if chosen is None or chosen.profile.is_server:
        return None
    return chosen.profile.url
