"""Named profiles: where commands go (a server and its key, or a database and a tenant).

They live in one JSON file in the user's configuration folder (``platformdirs``; the variable
``ALGAFLOW_CONFIG_DIR`` names another folder), written only by ``algaflow config``, readable by
its owner alone since it holds API keys. A profile fills in only what neither a command-line
option nor an environment variable gives: flag > environment > profile.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from algaflow.kernel.errors import AlgaflowError

CONFIG_DIR_ENV = "ALGAFLOW_CONFIG_DIR"
PROFILE_ENV = "ALGAFLOW_PROFILE"
CONFIG_FILE = "config.json"
_SERVER_SCHEMES = ("http://", "https://")


@dataclass(frozen=True)
class Profile:
    """A server (``url`` is ``http(s)://``) or a database (any other ``url``)."""

    url: str
    api_key: str | None = None
    tenant: str | None = None

    @property
    def is_server(self) -> bool:
        return self.url.startswith(_SERVER_SCHEMES)


@dataclass
class ProfileFile:
    current: str | None = None
    profiles: dict[str, Profile] = field(default_factory=dict)


def config_path() -> Path:
    folder = os.environ.get(CONFIG_DIR_ENV)
    if not folder:
        from platformdirs import user_config_dir

        folder = user_config_dir("algaflow", appauthor=False)
    return Path(folder) / CONFIG_FILE


def read_profiles() -> ProfileFile:
    """The profiles file's content (empty when there is none)."""
    path = config_path()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        profiles = {name: Profile(**entry) for name, entry in raw.get("profiles", {}).items()}
        return ProfileFile(raw.get("current"), profiles)
    except FileNotFoundError:
        return ProfileFile()
    except (OSError, ValueError, TypeError, AttributeError) as exc:
        raise AlgaflowError(
            "INVALID_CONFIG_FILE",
            f"Cannot read the profiles file {path}: {exc}. Fix or remove it.",
            details={"path": str(path)},
        ) from None


def write_profiles(content: ProfileFile) -> Path:
    """Write the profiles file, readable and writable by its owner only."""
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {
        "current": content.current,
        "profiles": {
            name: {k: v for k, v in asdict(p).items() if v is not None}
            for name, p in sorted(content.profiles.items())
        },
    }
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        json.dump(body, out, indent=2)
        out.write("\n")
    return path


def set_profile(name: str, profile: Profile) -> Path:
    """Add or replace a profile; the first one becomes the current one."""
    if profile.tenant and profile.is_server:
        raise AlgaflowError(
            "INVALID_PROFILE",
            "--tenant applies to a database profile: a server works on its API key's tenant.",
            details={"profile": name},
        )
    content = read_profiles()
    content.profiles[name] = profile
    content.current = content.current or name
    return write_profiles(content)


def use_profile(name: str) -> Path:
    content = read_profiles()
    if name not in content.profiles:
        raise _not_found(name, content)
    content.current = name
    return write_profiles(content)


@dataclass(frozen=True)
class ChosenProfile:
    name: str
    profile: Profile
    source: str  # "--profile", "ALGAFLOW_PROFILE" or "config use"


def chosen_profile(flag: str | None) -> ChosenProfile | None:
    """The profile a command uses: ``--profile``, else ``ALGAFLOW_PROFILE``, else the current
    one. A profile named by the flag or the variable must exist."""
    env = os.environ.get(PROFILE_ENV) or None
    name, source = (flag, "--profile") if flag else (env, PROFILE_ENV) if env else (None, "")
    if name is None and not config_path().exists():
        return None  # the common case costs one stat
    content = read_profiles()
    if name is None:
        name, source = content.current, "config use"
        if name is None or name not in content.profiles:
            return None
    if name not in content.profiles:
        raise _not_found(name, content)
    return ChosenProfile(name, content.profiles[name], source)


def _not_found(name: str, content: ProfileFile) -> AlgaflowError:
    known = ", ".join(sorted(content.profiles)) or "none yet"
    return AlgaflowError(
        "PROFILE_NOT_FOUND",
        f'No profile "{name}" (known: {known}); add one with'
        " `algaflow config set-profile NAME --url URL`.",
        details={"profile": name, "path": str(config_path())},
    )
