"""The action registry: ``id@version`` -> schemas, handler and idempotency metadata (§4.1)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from algaflow.kernel.errors import AlgaflowError
from algaflow.registry import zodlike
from algaflow.registry.errors import ActionSchemaError

IDEMPOTENCY_MODES = ("engineProvided", "actionProvided")


@dataclass(frozen=True)
class ActionContext:
    """What a handler may know about the invocation (Alga's ``ActionContext`` minus knex/env)."""

    run_id: str | None
    step_path: str | None
    step_config: dict[str, Any] | None
    expression_context: dict[str, Any] | None
    tenant_id: str | None
    idempotency_key: str | None
    attempt: int
    now_iso: str


ActionHandler = Callable[[dict[str, Any], ActionContext], Any]
#: Derives an action's idempotency key from its parsed input: a string, or None for the default.
IdempotencyKeyFn = Callable[[dict[str, Any], ActionContext], Any]


@dataclass
class ActionDef:
    """One version of an action. ``input_schema``/``output_schema`` are Draft 7 JSON Schema."""

    id: str
    version: int
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]
    handler: ActionHandler
    side_effectful: bool = False
    idempotency: str | None = None
    # How calls are de-duplicated across runs (Alga's ``idempotency.key(input, ctx)``): a function
    # of the parsed input, or the dotted path of an input field such as ``"dedupe_key"``. Either
    # implies ``idempotency="actionProvided"``; a step's explicit ``idempotencyKey`` still wins.
    idempotency_key: IdempotencyKeyFn | None = None
    idempotency_key_field: str | None = None
    title: str | None = None
    description: str | None = None
    category: str | None = None

    @property
    def key(self) -> str:
        return f"{self.id}@{self.version}"

    def parse_input(self, args: Any) -> dict[str, Any]:
        """Zod ``inputSchema.parse``: defaults applied, unknown keys stripped, or an error."""
        return self._parse(self.input_schema, args, "ACTION_INPUT_INVALID", "input")

    def parse_output(self, value: Any) -> dict[str, Any]:
        """Zod ``outputSchema.parse``: only the declared keys survive."""
        return self._parse(self.output_schema, value, "ACTION_OUTPUT_INVALID", "output")

    def _parse(self, schema: dict[str, Any], value: Any, code: str, what: str) -> Any:
        parsed, issues = zodlike.parse(schema, value)
        if issues:
            first = issues[0]
            where = f" at {first['path']}" if first["path"] else ""
            raise ActionSchemaError(
                code, f"Invalid {what} for action {self.key}{where}: {first['message']}", issues
            )
        return parsed


class ActionRegistry:
    """Actions keyed by ``"<id>@<version>"``; registering a key twice is an error."""

    def __init__(self) -> None:
        self._actions: dict[tuple[str, int], ActionDef] = {}

    def register(self, action: ActionDef) -> ActionDef:
        _check_action(action)
        key = (action.id, action.version)
        if key in self._actions:
            raise AlgaflowError("REGISTRY_DUPLICATE", f"Action {action.key} is already registered")
        self._actions[key] = action
        return action

    def get(self, action_id: str, version: int) -> ActionDef | None:
        if isinstance(version, bool) or not isinstance(version, int):
            return None
        return self._actions.get((action_id, version))

    def versions(self, action_id: str) -> list[int]:
        return sorted(v for (i, v) in self._actions if i == action_id)

    def ids(self) -> list[str]:
        return sorted({i for (i, _) in self._actions})

    def list(self) -> list[ActionDef]:
        return [self._actions[k] for k in sorted(self._actions)]

    def __len__(self) -> int:
        return len(self._actions)


def _check_action(action: ActionDef) -> None:
    """Alga's registration rules: required fields, and side effects need an idempotency mode."""
    problems = []
    if not isinstance(action.id, str) or not action.id:
        problems.append("id must be a non-empty string")
    if isinstance(action.version, bool) or not isinstance(action.version, int):
        problems.append("version must be an integer")
    for name in ("input_schema", "output_schema"):
        if not isinstance(getattr(action, name), dict):
            problems.append(f"{name} must be a JSON Schema object")
    if not callable(action.handler):
        problems.append("handler must be callable")
    if action.idempotency is not None and action.idempotency not in IDEMPOTENCY_MODES:
        problems.append(f"idempotency must be one of {', '.join(IDEMPOTENCY_MODES)}")
    problems.extend(_key_problems(action))
    if action.side_effectful and action.idempotency is None and not _has_key(action):
        problems.append("a side-effectful action must declare idempotency")
    if problems:
        raise AlgaflowError(
            "REGISTRY_INVALID",
            f"Invalid action {action.id!r}: {'; '.join(problems)}",
            details={"problems": problems},
        )


def _has_key(action: ActionDef) -> bool:
    return action.idempotency_key is not None or action.idempotency_key_field is not None


def _key_problems(action: ActionDef) -> list[str]:
    """A key function or a key field, not both, and only with the ``actionProvided`` mode."""
    problems = []
    if action.idempotency_key is not None and not callable(action.idempotency_key):
        problems.append("idempotency_key must be callable")
    field = action.idempotency_key_field
    if field is not None and (not isinstance(field, str) or not all(field.split("."))):
        problems.append("idempotency_key_field must be a dotted field name such as 'dedupe_key'")
    if action.idempotency_key is not None and field is not None:
        problems.append("declare idempotency_key or idempotency_key_field, not both")
    if _has_key(action) and action.idempotency == "engineProvided":
        problems.append("an action-provided idempotency key needs idempotency='actionProvided'")
    return problems
