"""Stand-ins for what Alga PSA bundles need and a bare algaflow lacks: business actions and event
payload schemas. An ordinary plugin, so a server, the CLI and tests load it the same way::

    ALGAFLOW_STANDIN_BUNDLES=../shared/corpus/alga-sample \\
    ALGAFLOW_PLUGINS=algaflow.testing.standins:register algaflow serve

Alga's own fixture harness registers stand-ins the same way. :func:`register_directory` is a second
plugin: a stand-in user directory (the reference kind ``user``) and an action that notifies a user,
for bundles with environment-specific references (``examples/bundles/notify-user.json``).

A stand-in action accepts any object
and answers with :data:`CANNED_OUTPUTS` (the fields Alga's sample bundles read back) or ``{}``; a
stand-in schema is Alga's event payload base shape (``tenantId`` and ``occurredAt`` required,
anything else allowed), so a payload missing them is still refused. Node types are not stood in:
Alga's bundles use only the built-in ones.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import Any

from algaflow.bundle.dependencies import derive_dependencies, merge_dependency_summaries
from algaflow.registry import ActionDef, ReferenceContext, ReferenceKind, Registry

ENV_VAR = "ALGAFLOW_STANDIN_BUNDLES"
"""Bundle files, or folders of ``*.json`` bundles, separated by ``os.pathsep``."""

ANY_OBJECT: dict[str, Any] = {"type": "object"}

EVENT_BASE: dict[str, Any] = {
    "type": "object",
    "description": "Stand-in: Alga's event payload base shape",
    "properties": {
        "tenantId": {"type": "string", "minLength": 1},
        "occurredAt": {"type": "string", "format": "date-time"},
        "actorType": {"type": "string", "enum": ["USER", "CONTACT", "SYSTEM"]},
    },
    "required": ["tenantId", "occurredAt"],
}

CANNED_OUTPUTS: dict[str, dict[str, Any]] = {
    "projects.create_task": {"task_id": "22222222-2222-4222-8222-222222222222"},
    "links.lookup": {"matches": [{"id": "33333333-3333-4333-8333-333333333333"}]},
    "tickets.find": {"ticket": {"attributes": {"fixture_bad_assignee_user_id": "u-1"}}},
}

OCCURRED_AT = "2026-01-27T00:00:00.000Z"
_PAYLOAD_PATH = re.compile(r"\bpayload((?:\.[A-Za-z_][A-Za-z0-9_]*)+)")


def register(registry: Registry) -> None:
    """The plugin: stand-ins for every bundle that ``ALGAFLOW_STANDIN_BUNDLES`` names."""
    register_for(registry, [_read(path) for path in bundle_files(os.environ.get(ENV_VAR, ""))])


def bundle_files(spec: str) -> list[Path]:
    """The files ``spec`` names: each part is a bundle file or a folder of them."""
    files: list[Path] = []
    for part in filter(None, (p.strip() for p in spec.split(os.pathsep))):
        path = Path(part)
        files.extend(sorted(path.glob("*.json")) if path.is_dir() else [path])
    return files


def _read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def register_for(registry: Registry, bundles: Iterable[Any]) -> dict[str, list[str]]:
    """Register a stand-in for every action and payload schema ref the bundles declare or use
    that ``registry`` lacks; returns what was registered (``actions`` as ``id@version``)."""
    needed = merge_dependency_summaries(_summaries(bundles))
    added: dict[str, list[str]] = {"actions": [], "schemaRefs": []}
    for action in needed["actions"]:
        action_id, version = action["actionId"], action["version"]
        if registry.actions.get(action_id, version) is None:
            handler = _handler(CANNED_OUTPUTS.get(action_id, {}))
            registry.actions.register(
                ActionDef(action_id, version, ANY_OBJECT, ANY_OBJECT, handler)
            )
            added["actions"].append(f"{action_id}@{version}")
    for ref in needed["schemaRefs"]:
        if not registry.schemas.has(ref):
            registry.schemas.register(ref, EVENT_BASE)
            added["schemaRefs"].append(ref)
    return added


def _summaries(bundles: Iterable[Any]) -> Iterable[Any]:
    """Declared and derived dependencies of every workflow, tolerating malformed bundles."""
    for bundle in bundles:
        workflows = bundle.get("workflows") if isinstance(bundle, dict) else None
        for workflow in workflows if isinstance(workflows, list) else []:
            if not isinstance(workflow, dict):
                continue
            declared = workflow.get("dependencies")
            if isinstance(declared, dict):
                yield {
                    "actions": [a for a in declared.get("actions") or [] if _is_action(a)],
                    "nodeTypes": [],
                    "schemaRefs": [r for r in declared.get("schemaRefs") or [] if _is_text(r)],
                }
            yield derive_dependencies(workflow)


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def _is_action(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and _is_text(value.get("actionId"))
        and isinstance(value.get("version"), int)
    )


def _handler(output: dict[str, Any]) -> Any:
    def handler(_args: dict[str, Any], _ctx: Any) -> dict[str, Any]:
        return json.loads(json.dumps(output))

    return handler


def sample_payload(bundle: Any, tenant_id: str) -> dict[str, Any]:
    """An event payload for ``bundle``: the base fields plus every ``payload.a.b`` path its
    definitions read, filled with plausible strings (``…Id`` fields get UUIDs)."""
    payload: dict[str, Any] = {"tenantId": tenant_id, "occurredAt": OCCURRED_AT}
    for match in _PAYLOAD_PATH.finditer(json.dumps(bundle)):
        *parents, leaf = match.group(1)[1:].split(".")
        node = payload
        for part in parents:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        node.setdefault(leaf, _sample_value(leaf))
    return payload


def _sample_value(name: str) -> str:
    lowered = name.lower()
    if "mail" in lowered:
        return "someone@example.com"
    if lowered.endswith("id"):
        return "11111111-1111-4111-8111-111111111111"
    return f"{name}-1"


USERS_ENV_VAR = "ALGAFLOW_STANDIN_USERS"
"""A JSON file of tenant id (or ``"*"``, every tenant) -> the user ids that exist there."""

NOTIFY_USER = ActionDef(
    id="notify.user",
    version=1,
    input_schema={
        "type": "object",
        "properties": {
            "userId": {"type": "string", "minLength": 1, "x-algaflow-reference": "user"},
            "message": {"type": "string"},
            "token": {"type": "string", "description": "a credential, given as a $secret"},
        },
        "required": ["userId", "message"],
    },
    output_schema={
        "type": "object",
        "properties": {
            "userId": {"type": "string"},
            "message": {"type": "string"},
            "authenticated": {"type": "boolean", "description": "whether a token was given"},
        },
    },
    handler=lambda args, _ctx: {
        "userId": args["userId"],
        "message": args["message"],
        "authenticated": bool(args.get("token")),
    },
    title="Notify a user (stand-in)",
    category="Stand-ins",
)


def register_directory(registry: Registry) -> None:
    """The plugin: the ``user`` kind over ``ALGAFLOW_STANDIN_USERS`` and ``notify.user@1``."""
    path = os.environ.get(USERS_ENV_VAR)
    directory_plugin(_read(Path(path)) if path else {})(registry)


def directory_plugin(users: Mapping[str, Collection[str]]) -> Any:
    """A plugin whose ``user`` kind knows ``users`` (tenant id or ``"*"`` -> user ids)."""

    def existing(context: ReferenceContext, values: Collection[str]) -> set[str]:
        known = {*users.get("*", ()), *users.get(context.tenant_id, ())}
        return {v for v in values if v in known}

    def plugin(registry: Registry) -> None:
        registry.references.register(
            ReferenceKind("user", "A user of the instance (stand-in directory)", existing)
        )
        registry.actions.register(dataclasses.replace(NOTIFY_USER))

    return plugin
