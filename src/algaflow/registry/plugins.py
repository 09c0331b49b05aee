"""Extending a registry: plugin callables, entry points and folders of JSON Schema files.

A plugin is any callable ``plugin(registry)`` that registers actions, node types or schemas. It is
named ``"package.module:function"`` (``--plugin`` / ``ALGAFLOW_PLUGINS``) or published by an
installed distribution in the entry-point group ``algaflow.plugins``.

Schema folders (``ALGAFLOW_SCHEMA_DIRS``) hold ``*.json`` files, one schema each. A file's ref is,
in order: its ``"x-algaflow-ref"`` member; the name in Alga's wrapped form
(``{"$ref": "#/definitions/<ref>", "definitions": {...}}``, as exported by ``/schemas/{ref}``); else
the file name without ``.json`` (``payload.TicketCreated.v1.json`` -> ``payload.TicketCreated.v1``).
``"x-algaflow-strict": true`` registers it as strict (unknown keys rejected, like Zod
``.strict()``).
Both ``x-algaflow-*`` members are removed before registering.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterable, Sequence
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from algaflow.kernel.errors import AlgaflowError
from algaflow.registry.schemas import wrapped_ref

if TYPE_CHECKING:
    from algaflow.config import Settings
    from algaflow.registry import Registry

ENTRY_POINT_GROUP = "algaflow.plugins"


def _failed(spec: str, reason: str) -> AlgaflowError:
    return AlgaflowError(
        "PLUGIN_LOAD_FAILED", f"Could not load plugin {spec!r}: {reason}", details={"plugin": spec}
    )


def _run(registry: Registry, spec: str, plugin: Any) -> None:
    if not callable(plugin):
        raise _failed(spec, "it is not callable")
    try:
        plugin(registry)
    except AlgaflowError as exc:
        raise _failed(spec, f"{exc.code}: {exc.message}") from exc
    except Exception as exc:  # a plugin's own bug must not look like ours
        raise _failed(spec, f"it raised {type(exc).__name__}: {exc}") from exc


def resolve_plugin(spec: str) -> Callable[..., Any]:
    """Import ``"module:function"`` (the attribute may be dotted: ``module:obj.method``)."""
    module_name, sep, attr = spec.strip().partition(":")
    if not sep or not module_name or not attr:
        raise _failed(spec, 'expected the form "package.module:function"')
    try:
        target: Any = importlib.import_module(module_name)
    except Exception as exc:
        raise _failed(spec, f"cannot import {module_name!r} ({type(exc).__name__}: {exc})") from exc
    for part in attr.split("."):
        if not hasattr(target, part):
            raise _failed(spec, f"{module_name!r} has no attribute {attr!r}")
        target = getattr(target, part)
    return target


def load_plugin(registry: Registry, spec: str) -> None:
    """Import the plugin named ``spec`` and let it register into ``registry``."""
    _run(registry, spec, resolve_plugin(spec))


def load_entry_point_plugins(
    registry: Registry, entry_points: Iterable[metadata.EntryPoint] | None = None
) -> list[str]:
    """Run every ``algaflow.plugins`` entry point (sorted by name); returns their names."""
    found = metadata.entry_points(group=ENTRY_POINT_GROUP) if entry_points is None else entry_points
    loaded = []
    for entry in sorted(found, key=lambda e: e.name):
        spec = f"{entry.name} ({entry.value})"
        try:
            plugin = entry.load()
        except Exception as exc:
            raise _failed(spec, f"cannot load entry point ({type(exc).__name__}: {exc})") from exc
        _run(registry, spec, plugin)
        loaded.append(entry.name)
    return loaded


def load_schema_dir(registry: Registry, path: str | Path) -> list[str]:
    """Register every ``*.json`` schema in ``path`` (sorted by file name); returns the refs."""
    folder = Path(path)
    if not folder.is_dir():
        raise AlgaflowError(
            "SCHEMA_DIR_INVALID",
            f"Schema folder {str(folder)!r} does not exist",
            details={"path": str(folder)},
        )
    refs = []
    for file in sorted(folder.glob("*.json")):
        try:
            schema = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise AlgaflowError(
                "SCHEMA_FILE_INVALID",
                f"Schema file {file.name!r} is not valid JSON: {exc}",
                details={"path": str(file)},
            ) from exc
        if not isinstance(schema, dict):
            raise AlgaflowError(
                "SCHEMA_FILE_INVALID",
                f"Schema file {file.name!r} must hold a JSON object",
                details={"path": str(file)},
            )
        ref = (
            schema.pop("x-algaflow-ref", None) or wrapped_ref(schema) or file.name[: -len(".json")]
        )
        strict = schema.pop("x-algaflow-strict", False) is True
        registry.schemas.register(str(ref), schema, strict=strict)
        refs.append(str(ref))
    return refs


def build_registry(settings: Settings, extra_plugins: Sequence[str] = ()) -> Registry:
    """Defaults, entry-point plugins, ``settings.plugins``, ``extra_plugins``, then schema dirs."""
    from algaflow.registry import default_registry

    registry = default_registry()
    load_entry_point_plugins(registry)
    for spec in (*settings.plugins, *extra_plugins):
        load_plugin(registry, spec)
    for folder in settings.schema_dirs:
        load_schema_dir(registry, folder)
    return registry
