"""Registries of actions, node types and payload schemas, their built-ins, and plugin loading.

``default_registry()`` gives a new :class:`Registry` holding Alga's 8 default node types, the 21
``transform.*@1`` actions and the non-PSA payload schemas. Everything else (business actions, event
payload schemas) comes from plugins and schema folders: see :mod:`algaflow.registry.plugins`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from algaflow.registry.actions import ActionContext, ActionDef, ActionRegistry
from algaflow.registry.errors import ActionRuntimeError, ActionSchemaError
from algaflow.registry.nodes import NodeContext, NodeTypeDef, NodeTypeRegistry
from algaflow.registry.plugins import (
    ENTRY_POINT_GROUP,
    build_registry,
    load_entry_point_plugins,
    load_plugin,
    load_schema_dir,
)
from algaflow.registry.references import (
    BUILTIN_KINDS,
    REFERENCE_KEYWORD,
    ReferenceContext,
    ReferenceKind,
    ReferenceKindRegistry,
)
from algaflow.registry.schemas import SchemaRegistry


@dataclass
class Registry:
    """The registries a runtime, a publish or an import consults."""

    actions: ActionRegistry = field(default_factory=ActionRegistry)
    nodes: NodeTypeRegistry = field(default_factory=NodeTypeRegistry)
    schemas: SchemaRegistry = field(default_factory=SchemaRegistry)
    references: ReferenceKindRegistry = field(default_factory=ReferenceKindRegistry)


def default_registry() -> Registry:
    """A new registry with every built-in (copies, so changing one registry leaves others alone)."""
    from algaflow.registry.builtins import NODE_TYPES, PAYLOAD_SCHEMAS, TRANSFORM_ACTIONS

    registry = Registry()
    for action in TRANSFORM_ACTIONS:
        registry.actions.register(dataclasses.replace(action))
    for node in NODE_TYPES:
        registry.nodes.register(dataclasses.replace(node))
    for ref, schema, strict in PAYLOAD_SCHEMAS:
        registry.schemas.register(ref, schema, strict=strict)
    for kind in BUILTIN_KINDS:
        registry.references.register(kind)
    return registry


__all__ = [
    "ENTRY_POINT_GROUP",
    "REFERENCE_KEYWORD",
    "ActionContext",
    "ActionDef",
    "ActionRegistry",
    "ActionRuntimeError",
    "ActionSchemaError",
    "NodeContext",
    "NodeTypeDef",
    "NodeTypeRegistry",
    "ReferenceContext",
    "ReferenceKind",
    "ReferenceKindRegistry",
    "Registry",
    "SchemaRegistry",
    "build_registry",
    "default_registry",
    "load_entry_point_plugins",
    "load_plugin",
    "load_schema_dir",
]
