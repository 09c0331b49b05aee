"""Secrets: resolved only inside an action call, and scrubbed from everything that leaves it.

The interpreter never sees a secret's value. An ``action.call`` step's ``{"$secret": NAME}``
mapping entries stay references in the run's state; :func:`algaflow.runtime.embedded.invoke.invoke`
resolves them right before the handler runs and passes every value that crosses back (output,
error, stored input, idempotency key) through a :class:`Redactor` holding the values it resolved.
So a handler that echoes a secret into its output or an exception message stores and returns
``[REDACTED]`` instead, and nothing downstream (variables, state, steps, logs, errors, the run
view) can hold what never entered the run. Only exact occurrences are caught: a handler that
transforms a secret (encodes it, splits it) before returning it is beyond any scrubber.

Resolvers: :class:`EnvSecretResolver` (``ALGAFLOW_SECRET_<NAME>`` variables),
:class:`FileSecretResolver` (a JSON or TOML object of names to strings, re-read when it changes)
and :class:`ChainSecretResolver` (the first that has the name). :func:`resolver_from_settings`
builds what ``serve``, ``worker`` and local CLI runs use.
"""

from __future__ import annotations

import json
import os
import re
import threading
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from algaflow.config import Settings, load_settings
from algaflow.kernel.jsvalues import js_string

REDACTED = "[REDACTED]"
#: Alga's secret names: letters, digits and underscores, not starting with a digit.
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class SecretNotFound(LookupError):
    """The resolver has no secret of that name (the message never holds a value)."""


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise SecretNotFound(f"invalid secret name {name!r}")


class EnvSecretResolver:
    """``NAME`` is the environment variable ``<prefix><NAME>`` (read at each call)."""

    def __init__(self, prefix: str, environ: Mapping[str, str] | None = None) -> None:
        self.prefix = prefix
        self._environ = environ

    def resolve(self, name: str, run_id: str | None = None) -> str:
        _check_name(name)
        environ = os.environ if self._environ is None else self._environ
        value = environ.get(self.prefix + name)
        if value is None:
            raise SecretNotFound(f"no variable {self.prefix}{name} is set")
        return value


class FileSecretResolver:
    """A JSON (or, for ``*.toml``, TOML) object mapping names to strings; re-read when its
    modification time changes, so a rotated secret needs no restart."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._values: dict[str, str] = {}

    def resolve(self, name: str, run_id: str | None = None) -> str:
        _check_name(name)
        values = self._load()
        if name not in values:
            raise SecretNotFound(f"{name} is not in the secrets file")
        return values[name]

    def _load(self) -> dict[str, str]:
        try:
            stat = self.path.stat()
        except OSError as exc:
            raise SecretNotFound(f"the secrets file cannot be read ({exc.strerror})") from None
        stamp = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            if stamp != self._stamp:
                self._values = _parse_secrets_file(self.path)
                self._stamp = stamp
            return self._values


def _parse_secrets_file(path: Path) -> dict[str, str]:
    """The file's ``{name: string}`` object; errors name the problem, never a value."""
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        kind = "TOML" if path.suffix == ".toml" else "JSON"
        raise SecretNotFound(
            f"the secrets file is not valid {kind} ({type(exc).__name__})"
        ) from None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise SecretNotFound("the secrets file must be an object of names to strings")
    return data


class ChainSecretResolver:
    """The first resolver that has the name; the last one's reason when none has it."""

    def __init__(self, resolvers: Iterable[Any]) -> None:
        self.resolvers = list(resolvers)

    def resolve(self, name: str, run_id: str | None = None) -> str:
        reasons = []
        for resolver in self.resolvers:
            try:
                return resolver.resolve(name, run_id)
            except SecretNotFound as exc:
                reasons.append(str(exc))
        raise SecretNotFound("; ".join(reasons) or "no secret source is configured")


class SettingsSecretResolver:
    """:func:`resolver_from_settings` of the settings as they are at the first secret asked for:
    a driver that resolves no secret never reads the settings (an event that starts nothing
    costs no settings load)."""

    def __init__(self) -> None:
        self._chain: ChainSecretResolver | None = None

    def resolve(self, name: str, run_id: str | None = None) -> str:
        if self._chain is None:
            self._chain = resolver_from_settings(load_settings())
        return self._chain.resolve(name, run_id)


def resolver_from_settings(settings: Settings) -> ChainSecretResolver:
    """Environment variables first (``settings.secret_env_prefix``), then the secrets file."""
    resolvers: list[Any] = []
    if settings.secret_env_prefix:
        resolvers.append(EnvSecretResolver(settings.secret_env_prefix))
    if settings.secrets_file:
        resolvers.append(FileSecretResolver(settings.secrets_file))
    return ChainSecretResolver(resolvers)


class Redactor:
    """Replaces every occurrence of the given secret values with ``[REDACTED]``.

    Strings (values and object keys) are scrubbed by substring, longest value first; a number
    whose JavaScript text is a secret becomes ``[REDACTED]`` too.
    """

    def __init__(self, values: Iterable[str] = ()) -> None:
        self.values: list[str] = []
        for value in values:
            self.add(value)

    def add(self, value: str) -> None:
        if value and value not in self.values:
            self.values.append(value)
            self.values.sort(key=len, reverse=True)

    def __bool__(self) -> bool:
        return bool(self.values)

    def text(self, text: str) -> str:
        """``text`` with each value replaced; wholly ``[REDACTED]`` when a replacement made a
        new occurrence (a value that overlaps the marker's own characters)."""
        original = text
        for value in self.values:
            if value in text:
                text = text.replace(value, REDACTED)
        if text is not original and any(v in text and v not in REDACTED for v in self.values):
            return REDACTED
        return text

    def value(self, value: Any) -> Any:
        """A scrubbed copy of a JSON-like value (the value itself when there is nothing to do)."""
        if not self.values:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.value(k): self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(v) for v in value]
        if isinstance(value, int | float) and not isinstance(value, bool):
            return REDACTED if js_string(value) in self.values else value
        return value
