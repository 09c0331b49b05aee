"""A tiny plugin used by the registry tests: one stub action and one payload schema."""

from __future__ import annotations

from typing import Any

from algaflow.registry import ActionDef, Registry

not_callable = 3


def register(registry: Registry) -> None:
    registry.actions.register(
        ActionDef(
            id="tickets.add_comment",
            version=1,
            input_schema={
                "type": "object",
                "properties": {"ticket_id": {"type": "string"}},
                "required": ["ticket_id"],
            },
            output_schema={"type": "object", "properties": {"ok": {"type": "boolean"}}},
            handler=lambda args, ctx: {"ok": True},
            side_effectful=True,
            idempotency="engineProvided",
        )
    )
    registry.schemas.register("payload.PluginThing.v1", {"type": "object"})


def broken(registry: Registry) -> Any:
    raise RuntimeError("plugin bug")
