"""Checking what a client sends before a bundle service sees it (HTTP request or CLI input).

A bundle body (or file) gets a nesting limit, then :func:`loads_json`.

Python parses, validates, stores and re-serialises JSON recursively, so a body nested a few hundred
levels deep would end in a ``RecursionError`` somewhere after parsing (or in a run, much later).
Real bundles nest about 16 levels; refusing anything deeper than :data:`MAX_JSON_DEPTH` before
parsing gives one coded 400 (``JSON_TOO_DEEP``) for every such body, whatever its size. The app
applies the same limit to every request body (``app.JsonDepthLimit``); the definition store has
a tighter one for what it keeps (``store.workflows.MAX_STORED_DEPTH``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from algaflow.bundle import BundleError, is_valid_workflow_key, loads_json
from algaflow.kernel.errors import AlgaflowError
from algaflow.kernel.jsvalues import MAX_JSON_DEPTH, json_depth

#: Request-state key of a body refused before parsing, raised once the caller is authenticated.
BODY_ERROR = "body_error"
#: Request-state key of the principal that the body guard authenticated before measuring a body.
PRINCIPAL = "principal"


def too_deep(depth: int, max_depth: int) -> AlgaflowError:
    """The coded error for JSON nested past ``max_depth`` levels."""
    return AlgaflowError(
        "JSON_TOO_DEEP",
        f"JSON is nested {depth} levels deep; the limit is {max_depth}.",
        details={"depth": depth, "maxDepth": max_depth},
    )


def parse_json_body(raw: bytes, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``raw`` parsed by :func:`loads_json`, or ``JSON_TOO_DEEP`` past ``max_depth`` levels."""
    depth = json_depth(raw)
    if depth > max_depth:
        raise too_deep(depth, max_depth)
    return loads_json(raw)


def parse_bundle_body(raw: bytes) -> Any:
    """:func:`parse_json_body` for an upload meant to be a bundle (see :func:`bundle_value`)."""
    return bundle_value(parse_json_body(raw))


def bundle_value(value: Any) -> Any:
    """``value`` as a bundle to import; a JSON *string* is refused.

    The import service reads ``str`` arguments as JSON text, so a body like
    ``"{\\"format\\": ...}"`` would otherwise be parsed a second time and imported.
    """
    if isinstance(value, str):
        raise BundleError("INVALID_BUNDLE", "Workflow bundle must be a JSON object.")
    return value


def check_export_keys(keys: Iterable[str] | None) -> None:
    """Refuse export selections by key that cannot be keys (``INVALID_WORKFLOW_KEY``).

    No workflow can have such a key, and some (NUL, lone surrogates) make the database driver
    fail on the query parameter instead of finding nothing.
    """
    malformed = [k for k in keys or () if not is_valid_workflow_key(k)]
    if malformed:
        raise AlgaflowError(
            "INVALID_WORKFLOW_KEY",
            f"Not a workflow key: {malformed[0]!r}",
            details={"invalidKeys": malformed[:100]},
        )
