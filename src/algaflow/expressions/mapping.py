"""Mapping resolution (reference §2.7): ``$expr``, ``$secret`` and literals, recursively.

Failures become :class:`MappingError` with the JSON pointer of the failing value. Categories follow
Alga: an evaluation failure is an ``ExpressionError``; a compile failure (Alga lets it escape as a
plain error) and a secret failure are ``ActionError``. Unlike Alga, compile failures carry the path.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from algaflow.expressions.engine import compile_expression
from algaflow.expressions.errors import SECRET_RESOLUTION_FAILED, ExpressionError, MappingError


class SecretResolver(Protocol):
    def resolve(self, name: str, run_id: str | None) -> str:
        """The secret's plain value; raise when it cannot be resolved."""
        ...


def is_expr(value: Any) -> bool:
    """An object whose ``$expr`` is a string."""
    return isinstance(value, dict) and isinstance(value.get("$expr"), str)


def is_secret_ref(value: Any) -> bool:
    """Exactly ``{"$secret": "<non-empty name>"}``."""
    return (
        isinstance(value, dict)
        and len(value) == 1
        and isinstance(value.get("$secret"), str)
        and value["$secret"] != ""
    )


def pointer_token(key: str | int) -> str:
    """One RFC 6901 reference token: ``~`` -> ``~0``, ``/`` -> ``~1``."""
    return str(key).replace("~", "~0").replace("/", "~1")


def evaluate_expr(
    expr: dict[str, Any], context: dict[str, Any], path: str, now: datetime | None = None
) -> Any:
    """Compile and evaluate one ``{"$expr": ...}`` at ``now``; failures become
    :class:`MappingError`."""
    try:
        compiled = compile_expression(expr["$expr"])
    except ExpressionError as exc:
        raise MappingError("ActionError", exc.message, path=path, code=exc.code) from exc
    try:
        return compiled.evaluate(context, now=now)
    except ExpressionError as exc:
        raise MappingError("ExpressionError", exc.message, path=path, code=exc.code) from exc


SecretHandler = Callable[[dict[str, Any], str], Any]


def _walk(
    value: Any,
    context: dict[str, Any],
    path: str,
    on_secret: SecretHandler | None,
    now: datetime | None,
) -> Any:
    if is_expr(value):
        return evaluate_expr(value, context, path, now)
    if on_secret is not None and is_secret_ref(value):
        return on_secret(value, path)
    if isinstance(value, dict):
        return {
            key: _walk(child, context, f"{path}/{pointer_token(key)}", on_secret, now)
            for key, child in value.items()
        }
    if isinstance(value, list):
        return [
            _walk(child, context, f"{path}/{index}", on_secret, now)
            for index, child in enumerate(value)
        ]
    return value


def resolve_mapping_value(
    value: Any,
    context: dict[str, Any],
    *,
    secret_resolver: SecretResolver | None = None,
    run_id: str | None = None,
    path: str = "",
    redaction_paths: list[str] | None = None,
    now: datetime | None = None,
) -> Any:
    """Resolve one mapping value at ``now``; every resolved secret's pointer goes into
    ``redaction_paths``."""

    def resolve_secret(ref: dict[str, Any], at: str) -> str:
        name = ref["$secret"]
        try:
            if secret_resolver is None:
                raise LookupError("no secret resolver is configured")
            resolved = secret_resolver.resolve(name, run_id)
        except Exception as exc:  # any resolver failure is the action's failure, as in Alga
            message = f'Failed to resolve secret "{name}": {exc}'
            raise MappingError(
                "ActionError", message, path=at, code=SECRET_RESOLUTION_FAILED
            ) from exc
        if redaction_paths is not None:
            redaction_paths.append(at)
        return resolved

    return _walk(value, context, path, resolve_secret, now)


def resolve_input_mapping(
    mapping: dict[str, Any] | None,
    context: dict[str, Any],
    *,
    secret_resolver: SecretResolver | None = None,
    run_id: str | None = None,
    redaction_paths: list[str] | None = None,
    now: datetime | None = None,
) -> dict[str, Any] | None:
    """Resolve every entry at ``/<key>``; ``None`` for no mapping (the caller then uses ``{}``)."""
    if mapping is None:
        return None
    return {
        key: resolve_mapping_value(
            value,
            context,
            secret_resolver=secret_resolver,
            run_id=run_id,
            path=f"/{pointer_token(key)}",
            redaction_paths=redaction_paths,
            now=now,
        )
        for key, value in mapping.items()
    }


def resolve_expressions(value: Any, context: dict[str, Any], now: datetime | None = None) -> Any:
    """The node handlers' walker: :func:`resolve_mapping_value` with ``$secret`` left as is."""
    return _walk(value, context, "", None, now)
