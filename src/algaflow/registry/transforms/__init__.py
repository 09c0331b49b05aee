"""The 21 built-in ``transform.*@1`` actions (§4.4), pure and engine-idempotent."""

from __future__ import annotations

from algaflow.registry.actions import ActionDef
from algaflow.registry.transforms import compose, json_values, objects, regex, text

TRANSFORM_ACTIONS: list[ActionDef] = [
    *json_values.ACTIONS,
    *compose.ACTIONS,
    *regex.ACTIONS,
    *text.ACTIONS,
    *objects.ACTIONS,
]
