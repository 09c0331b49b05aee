"""Reference kinds: which input fields name a resource of the instance, and how to check one.

A workflow definition can carry values that only mean something in the instance it was written
in: a user to notify, a board, a mailbox, a secret's name, another workflow. An action marks such
a field in its input schema with the keyword :data:`REFERENCE_KEYWORD`, whose value is the kind::

    {"type": "object", "properties": {"userId": {"type": "string", "x-algaflow-reference": "user"}}}

A plugin registers a :class:`ReferenceKind` per kind, optionally with a resolver that says which
values exist in a tenant. Bundle import finds, binds and checks these
values (``algaflow.bundle.instance_refs``, ``algaflow.services.references``). The kinds
:data:`SECRET` and :data:`WORKFLOW` are built in; their resolvers need the configured secrets and
the database, so the service layer supplies them. Resolvers that need the database get the
connection in :class:`ReferenceContext` from the service layer: the registry never opens one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from algaflow.kernel.errors import AlgaflowError

#: The input schema keyword that marks a field as a reference; its value is the kind's name.
REFERENCE_KEYWORD = "x-algaflow-reference"
#: ``{"$secret": NAME}`` names, checked against the configured secrets.
SECRET = "secret"
#: ``control.callWorkflow`` targets outside the bundle, checked against the tenant's workflows.
WORKFLOW = "workflow"

_KIND_NAME = re.compile(r"[a-z][a-z0-9_.-]*")


@dataclass(frozen=True)
class ReferenceContext:
    """What a resolver is told: the target tenant, and the open database connection of the
    import (``None`` when checking without one)."""

    tenant_id: str
    connection: Any = None


#: ``existing(context, values)``: the subset of ``values`` that exist in the tenant.
Resolver = Callable[[ReferenceContext, Collection[str]], Collection[str]]


@dataclass(frozen=True)
class ReferenceKind:
    """One kind of instance resource.

    ``injective``: two different source values may not be bound to the same target value (for
    resources that must stay distinct, such as one mailbox per workflow).
    """

    name: str
    description: str = ""
    resolver: Resolver | None = None
    injective: bool = False


class ReferenceKindRegistry:
    """Reference kinds by name; registering a name twice is an error."""

    def __init__(self) -> None:
        self._kinds: dict[str, ReferenceKind] = {}

    def register(self, kind: ReferenceKind) -> ReferenceKind:
        if not isinstance(kind.name, str) or not _KIND_NAME.fullmatch(kind.name):
            raise AlgaflowError(
                "REGISTRY_INVALID",
                f"Invalid reference kind {kind.name!r}: lower-case letters, digits, '_', '.', '-'",
            )
        if kind.name in self._kinds:
            raise AlgaflowError(
                "REGISTRY_DUPLICATE", f"Reference kind {kind.name} is already registered"
            )
        self._kinds[kind.name] = kind
        return kind

    def get(self, name: str) -> ReferenceKind | None:
        return self._kinds.get(name)

    def names(self) -> list[str]:
        return sorted(self._kinds)

    def __contains__(self, name: object) -> bool:
        return name in self._kinds


BUILTIN_KINDS = (
    ReferenceKind(SECRET, "A secret's name ({\"$secret\": NAME}), checked against the configured "
                  "secrets"),
    ReferenceKind(WORKFLOW, "A control.callWorkflow target outside the bundle, checked against "
                  "the tenant's workflows"),
)  # fmt: skip
