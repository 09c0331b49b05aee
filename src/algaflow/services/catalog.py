"""What an instance can run: its actions, node types with the control blocks, payload schemas.

Read-only views of a registry for ``/api/workflow/registry`` and ``algaflow registry``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from algaflow.definitions.model import control_block_fields
from algaflow.kernel.errors import AlgaflowError
from algaflow.registry import ActionDef, Registry


@dataclass(frozen=True)
class ActionView:
    id: str
    version: int
    side_effectful: bool
    title: str | None
    description: str | None
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]


@dataclass(frozen=True)
class NodeTypeView:
    """A step type: a registered node type (its ``config`` schema) or a control block (its own
    fields, each required or not)."""

    id: str
    kind: str  # "node" or "control"
    config_schema: dict[str, Any] | None
    fields: dict[str, bool] | None


def _action_view(action: ActionDef) -> ActionView:
    return ActionView(
        id=action.id,
        version=action.version,
        side_effectful=action.side_effectful,
        title=action.title,
        description=action.description,
        input_schema=action.input_schema,
        output_schema=action.output_schema,
    )


def list_actions(registry: Registry) -> list[ActionView]:
    return [_action_view(a) for a in registry.actions.list()]


def show_action(registry: Registry, action_id: str, version: int | None = None) -> ActionView:
    """One action: ``version``, or its latest version; ``ACTION_NOT_FOUND`` says which exist."""
    versions = registry.actions.versions(action_id)
    chosen = registry.actions.get(action_id, version or max(versions, default=0))
    if chosen is None:
        known = ", ".join(str(v) for v in versions) or "none"
        name = action_id if version is None else f"{action_id}@{version}"
        raise AlgaflowError(
            "ACTION_NOT_FOUND",
            f'No action "{name}" is registered (versions of "{action_id}": {known}); '
            "`algaflow registry list actions` lists them.",
            details={"actionId": action_id, "version": version, "versions": versions},
        )
    return _action_view(chosen)


def list_node_types(registry: Registry) -> list[NodeTypeView]:
    """The registered node types, then every ``control.*`` block, each sorted by id."""
    nodes = [NodeTypeView(n.id, "node", n.config_schema, None) for n in registry.nodes.list()]
    controls = [
        NodeTypeView(name, "control", None, fields)
        for name, fields in sorted(control_block_fields().items())
    ]
    return sorted(nodes, key=lambda n: n.id) + controls


def list_schema_refs(registry: Registry) -> list[str]:
    return registry.schemas.refs()


def schema_of(registry: Registry, ref: str) -> dict[str, Any]:
    if not registry.schemas.has(ref):
        raise AlgaflowError("SCHEMA_NOT_FOUND", f'No payload schema "{ref}" is registered')
    return registry.schemas.to_json_schema(ref)
