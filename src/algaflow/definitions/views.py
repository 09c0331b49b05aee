"""The public JSON shape of workflows and versions, shared by the HTTP API and ``--json``.

The shape is built once, by the store's typed rows (``to_view``, from the one camelCase
mapping); these functions only name it for callers that hold a row.
"""

from __future__ import annotations

from typing import Any, Protocol

from algaflow.kernel.storable import format_threshold

__all__ = ["format_threshold", "version_view", "workflow_view"]


class _WorkflowLike(Protocol):
    def to_view(self, *, with_draft: bool = ...) -> dict[str, Any]: ...


class _VersionLike(Protocol):
    def to_view(self, *, with_definition: bool = ...) -> dict[str, Any]: ...


def workflow_view(row: _WorkflowLike, *, with_draft: bool = False) -> dict[str, Any]:
    return row.to_view(with_draft=with_draft)


def version_view(row: _VersionLike, *, with_definition: bool = False) -> dict[str, Any]:
    return row.to_view(with_definition=with_definition)
