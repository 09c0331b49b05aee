"""The node type registry: step ``type`` -> config schema and handler (§4.2)."""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from algaflow.kernel.errors import AlgaflowError
from algaflow.registry import zodlike


@dataclass
class NodeContext:
    """What a node handler gets from the runtime; ``call_action(id, version, args)`` runs §3.7."""

    run_id: str | None
    step_path: str | None
    tenant_id: str | None
    now_iso: str
    call_action: Callable[[str, int, dict[str, Any]], Any]


NodeHandler = Callable[[dict[str, Any], dict[str, Any], NodeContext], dict[str, Any]]
ExtraChecks = Callable[[dict[str, Any]], list[dict[str, str]]]


@dataclass
class NodeTypeDef:
    """A node type. ``handler`` is ``None`` for the types the interpreter runs itself.

    ``extra_checks`` covers rules JSON Schema cannot state (Zod ``superRefine``): it receives the
    parsed config and returns issues ``{path, message}``.
    """

    id: str
    config_schema: dict[str, Any]
    handler: NodeHandler | None = None
    extra_checks: ExtraChecks | None = None
    title: str | None = None
    description: str | None = None
    category: str | None = None

    def validate_config(self, config: Any) -> tuple[Any, list[dict[str, str]]]:
        """``configSchema.safeParse``: the parsed config and every issue found."""
        parsed, issues = zodlike.parse(self.config_schema, config)
        if not issues and self.extra_checks is not None:
            issues = self.extra_checks(parsed)
        return parsed, issues

    def parse_config(self, config: Any) -> dict[str, Any]:
        """``configSchema.parse(config ?? {})``: the parsed config, or ``NODE_CONFIG_INVALID``."""
        parsed, issues = self.validate_config({} if config is None else config)
        if issues:
            messages = "; ".join(_describe(i) for i in issues)
            raise AlgaflowError(
                "NODE_CONFIG_INVALID",
                f"Invalid config for node type {self.id}: {messages}",
                details={"issues": issues},
            )
        return parsed


def _describe(issue: dict[str, str]) -> str:
    return f"{issue['path']}: {issue['message']}" if issue["path"] else issue["message"]


class NodeTypeRegistry:
    """Node types by id; registering an id twice is an error."""

    def __init__(self) -> None:
        self._nodes: dict[str, NodeTypeDef] = {}

    def register(self, node: NodeTypeDef) -> NodeTypeDef:
        if not isinstance(node.id, str) or not node.id or node.id.startswith("control."):
            raise AlgaflowError(
                "REGISTRY_INVALID", f"Invalid node type id {node.id!r} (control.* is reserved)"
            )
        if node.id in self._nodes:
            raise AlgaflowError("REGISTRY_DUPLICATE", f"Node type {node.id} is already registered")
        self._nodes[node.id] = node
        return node

    def get(self, node_id: str) -> NodeTypeDef | None:
        return self._nodes.get(node_id)

    def has(self, node_id: str) -> bool:
        return node_id in self._nodes

    def list(self) -> builtins.list[NodeTypeDef]:
        return [self._nodes[k] for k in sorted(self._nodes)]

    def ids(self) -> builtins.list[str]:
        return sorted(self._nodes)

    def __len__(self) -> int:
        return len(self._nodes)
