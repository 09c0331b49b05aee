"""``algaflow config``: named profiles of where commands go (see :mod:`.profiles`)."""

from __future__ import annotations

import typer

from algaflow.kernel.errors import AlgaflowError

from .common import JsonOption, fail, print_json, print_table, stdout
from .profiles import Profile, config_path, read_profiles, set_profile, use_profile

config_app = typer.Typer(
    help="Profiles: a server and its API key, or a database and a tenant, by name.",
    no_args_is_help=True,
)


@config_app.command("set-profile")
def set_profile_(
    name: str = typer.Argument(..., help="The profile's name."),
    url: str = typer.Option(
        ..., "--url", help="A server (http:// or https://) or a database URL (sqlite:///...)."
    ),
    api_key: str | None = typer.Option(None, "--api-key", help="The server's API key."),
    tenant: str | None = typer.Option(None, "--tenant", help="The tenant, on a database."),
) -> None:
    """Add or replace a profile (the first one added becomes the current one)."""
    try:
        path = set_profile(name, Profile(url=url, api_key=api_key, tenant=tenant))
    except AlgaflowError as err:
        fail(err)
    stdout.print(f"saved profile {name} in {path}", markup=False, highlight=False)


@config_app.command("use")
def use(name: str = typer.Argument(..., help="The profile's name.")) -> None:
    """Make a profile the current one: commands use it unless told otherwise."""
    try:
        use_profile(name)
    except AlgaflowError as err:
        fail(err)
    stdout.print(f"using profile {name}", markup=False, highlight=False)


@config_app.command("list")
def list_(as_json: bool = JsonOption) -> None:
    """The profiles (API keys shown by their prefix only) and which one is current."""
    try:
        content = read_profiles()
    except AlgaflowError as err:
        fail(err, as_json=as_json)
    rows = [
        {"name": name, "current": name == content.current, "url": p.url,
         "apiKey": key_prefix(p.api_key), "tenant": p.tenant}
        for name, p in sorted(content.profiles.items())
    ]  # fmt: skip
    if as_json:
        print_json({"path": str(config_path()), "profiles": rows})
        return
    columns = [("NAME", "name"), ("CURRENT", "current"), ("URL", "url"), ("API KEY", "apiKey"),
               ("TENANT", "tenant")]  # fmt: skip
    print_table(rows, columns)


def key_prefix(key: str | None) -> str | None:
    """What identifies a key without revealing it: the prefix ``keys list`` shows."""
    return None if key is None else f"{key[:12]}..."
